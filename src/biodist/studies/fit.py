"""Fit uncertain parameters to measured biodistribution (% of dose), with intervals and an identifiability check.

Least squares on log(% of dose): residuals ``log(simulated) − log(measured)``,
by ``scipy.optimize.least_squares``. Parameters are searched on a log scale
(all are positive), probabilities (a key the config bounds to [0, 1]: a pass
fraction, a retention per pass) on the logit scale, so that their intervals stay
inside (0, 1). 95 % intervals from the Jacobian at the optimum:
``cov = s² (JᵀJ)⁻¹`` with ``s²`` the residual variance, Student-t quantiles,
back-transformed. A fitted value outside the range the configs declare for it
(the scenario's species and product ``[uncertainty]``) raises an
:class:`OutsideDeclaredRangeWarning`. When ``JᵀJ`` is (nearly) singular, or two
parameters' estimates are correlated beyond 0.95,
the data cannot tell them apart (e.g. a pass fraction and a downstream
retention that only enter as a product): a :class:`NonIdentifiableWarning` is
raised and the intervals of those parameters are reported as unbounded.

Data: a CSV with columns ``organ``, ``time_h``, ``pct_dose`` and optionally
``measures`` (the readout of the assay: ``cells``, the default, ``label``, ``dna``, ``111In``...) and
``lod_pct_dose`` (the detection limit). A ``pct_dose`` of 0 is a measurement below detection: a censored
term that costs nothing while the model stays below the limit (the row's ``lod_pct_dose``, else the smallest
positive ``pct_dose`` of the file) and ``log(simulated / limit)`` above it. Values that look like fractions of
the dose given as percent (all at most 1, about 100 times below the model where it predicts more than 1 %) are
refused in one line.
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Scenario
from ..config.keys import assign, get
from ..config.limits import MAX_TIME_H
from ..config.tracer import assay_readouts
from ..errors import BiodistWarning, ConfigError
from ..results import FitResult
from .validate import observe

__all__ = ["NonIdentifiableWarning", "OutsideDeclaredRangeWarning", "fit", "read_data"]

#: Correlation beyond which two estimates are declared not identifiable.
MAX_CORRELATION = 0.95


class NonIdentifiableWarning(BiodistWarning):
    """The data do not determine some of the fitted parameters separately."""


class OutsideDeclaredRangeWarning(BiodistWarning):
    """A fitted value lies outside the range the configs declare for the parameter."""


def _logit(x: float) -> float:
    return math.log(x / (1.0 - x))


def _expit(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(z, dtype=float), -700.0, 700.0)))


def _numeric(column: Any) -> np.ndarray:
    """A column as floats, empty or missing cells as NaN."""
    import pandas as pd

    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def _is_probability(scenario: Scenario, key: str) -> bool:
    """Whether the config bounds this key to [0, 1] (it takes 1 but refuses a value above it)."""
    try:
        scenario.with_values({key: 1.0})
    except ConfigError:
        return False
    try:
        scenario.with_values({key: 1.0 + 1e-6})
    except ConfigError:
        return True
    return False


def _rows(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """The CSV's column names (stripped), its rows (one value per name) and each row's line number.

    Read with :mod:`csv` rather than pandas, which renames a repeated column ``organ.1`` and shifts or drops a
    row's extra values. Blank lines are skipped; a row's trailing empty cells (spreadsheets write them) are dropped;
    a short row is padded with empty values, which the checks then name.
    """
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [c.strip() for c in next(reader, [])]
        rows, lines = [], []
        for row in reader:
            if not any(v.strip() for v in row):
                continue
            if len(row) > len(header) and any(v.strip() for v in row[len(header) :]):
                raise ConfigError(
                    f"{path}: line {reader.line_num}: {len(row)} values but {len(header)} column names; "
                    "give one value per column"
                )
            rows.append((row + [""] * len(header))[: len(header)])
            lines.append(reader.line_num)
    if not any(header):
        raise ConfigError(f"{path}: not a readable CSV (no header line); the first line names the columns")
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise ConfigError(f"{path}: column {repeated[0]!r} appears more than once; give each column once")
    return header, rows, lines


def read_data(path: str | Path) -> Any:
    """Read and check a data CSV (one-line errors naming the file, line, column and what is allowed)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: {'not a regular file' if path.exists() else 'file not found'}; give a CSV file")
    try:
        header, rows, lines = _rows(path)
    except (UnicodeDecodeError, OSError, csv.Error) as exc:
        raise ConfigError(f"{path}: not a readable CSV ({exc})") from None
    df = pd.DataFrame(rows, columns=header, dtype=str)
    missing = [c for c in ("organ", "time_h", "pct_dose") if c not in df.columns]
    if missing:
        raise ConfigError(f"{path}: missing column {missing[0]!r}; needed: organ, time_h, pct_dose (measures optional)")
    if not len(df):
        raise ConfigError(f"{path}: no measurements (a header only); give at least one row")
    if "measures" not in df.columns:
        df["measures"] = "cells"
    df["organ"] = df.organ.str.strip()
    df["measures"] = df.measures.str.strip()
    checks = {
        "time_h": ((0.0, True), MAX_TIME_H, f"a number from 0 to {MAX_TIME_H:g} h"),
        "pct_dose": ((0.0, True), 100.0, "a number >= 0 and <= 100 (% of the dose; 0: below detection)"),
    }
    if "lod_pct_dose" in df.columns:
        df["lod_pct_dose"] = df.lod_pct_dose.where(df.lod_pct_dose.str.strip() != "", "nan")
        checks["lod_pct_dose"] = ((0.0, False), 100.0, "a detection limit > 0 and <= 100 (% of the dose), or empty")
    for column, ((low, closed), high, allowed) in checks.items():
        values = _numeric(df[column].str.strip())
        with np.errstate(invalid="ignore"):
            bad = ~(np.isfinite(values) & ((values >= low) if closed else (values > low)) & (values <= high))
        if column == "lod_pct_dose":
            bad &= ~np.isnan(values)  # an empty limit: the file's smallest positive value
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ConfigError(f"{path}: line {lines[i]}: {column} = {df[column].iloc[i]!r}; allowed: {allowed}")
        df[column] = values
    _readouts = assay_readouts()
    for column, ok, allowed in (
        ("organ", df.organ != "", "an organ name"),
        ("measures", df.measures.isin(_readouts), f"a readout: {', '.join(_readouts)}"),
    ):
        if not ok.all():
            i = int(np.flatnonzero(~ok.to_numpy())[0])
            raise ConfigError(f"{path}: line {lines[i]}: {column} = {df[column].iloc[i]!r}; allowed: {allowed}")
    df.attrs["source"] = str(path)
    return df


def _predict(scenario: Scenario, data: Any, dose: float) -> np.ndarray:
    """Simulated % of dose for every row of the data (one compile and one solve for all of them)."""
    times = np.unique(data.time_h.to_numpy(dtype=float))
    pairs = list(dict.fromkeys(zip(data.organ, data.measures, strict=True)))
    seen = observe(scenario, pairs, times)
    out = np.empty(len(data))
    for pair, group in data.groupby(["organ", "measures"], sort=False):
        series = seen[tuple(pair)]
        out[group.index.to_numpy()] = 100 * series[np.searchsorted(times, group.time_h.to_numpy(dtype=float))] / dose
    return out


def fit(scenario: Scenario, data: Any, params: Sequence[str]) -> FitResult:
    """Fit ``params`` (``--set`` keys) of ``scenario`` to ``data`` (see :func:`read_data`)."""
    params = list(params)
    if not params:
        raise ConfigError("--params: name at least one parameter to fit")
    repeated = sorted({k for k in params if params.count(k) > 1})
    if repeated:
        raise ConfigError(f"--params {','.join(params)}: {repeated[0]!r} is named twice; name each parameter once")
    start, logit = [], []
    for key in params:  # every key must exist (or be a --set key that falls back to a default) and be positive
        value = _current(scenario, key)
        if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
            raise ConfigError(f"--params {key}: current value {value!r}; only positive numbers can be fitted")
        logit.append(_is_probability(scenario, key))
        if logit[-1] and value >= 1.0:
            raise ConfigError(f"--params {key}: current value {value!r}; a probability is fitted from inside (0, 1)")
        start.append(_logit(value) if logit[-1] else math.log(value))
    is_logit = np.array(logit)

    def natural(theta: np.ndarray) -> np.ndarray:
        return np.where(is_logit, _expit(theta), np.exp(np.minimum(theta, 700.0)))

    where = data.attrs.get("source", "data")
    data = data.reset_index(drop=True)
    if "measures" not in data.columns:
        data = data.assign(measures="cells")
    allowed = (*scenario.species.organ_names, "venous_blood", "arterial_blood")
    unknown = sorted(set(data.organ) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{where}: organ = {unknown[0]!r} is not a compartment of species {scenario.species.name!r}; "
            f"allowed: {', '.join(allowed)}"
        )
    values = data.pct_dose.to_numpy(dtype=float)
    if not (values > 0).any():
        raise ConfigError(f"{where}: every pct_dose is 0 (below detection); give at least one measured value")
    censored = values == 0
    limits = _numeric(data["lod_pct_dose"]) if "lod_pct_dose" in data.columns else np.full(len(data), np.nan)
    limits = np.where(np.isnan(limits), values[~censored].min(), limits)
    observed = np.log(np.where(censored, limits, values))
    dose = scenario.dose_cells
    _refuse_fractions(where, values, _predict(scenario, data, dose))

    def residuals(theta: np.ndarray) -> np.ndarray:
        sc = assign(scenario, dict(zip(params, natural(theta).tolist(), strict=True)))
        r = np.log(np.maximum(_predict(sc, data, dose), 1e-300)) - observed
        return np.where(censored, np.maximum(r, 0.0), r)  # below the limit, a censored row costs nothing

    from scipy import optimize, stats  # scipy.stats costs ~0.7 s to import: only when fitting

    res = optimize.least_squares(residuals, np.array(start), method="trf", x_scale=1.0, diff_step=1e-4)
    best = natural(res.x)
    fitted = scenario.with_values(dict(zip(params, best.tolist(), strict=True)))  # the optimum must be valid
    n, p = len(observed), len(params)
    dof = max(n - p, 1)
    s2 = float(res.fun @ res.fun) / dof
    jtj = res.jac.T @ res.jac
    cond = np.linalg.cond(jtj) if p > 1 else 1.0
    cov = s2 * np.linalg.pinv(jtj)
    sd = np.sqrt(np.maximum(np.diag(cov), 0.0))
    with np.errstate(all="ignore"):
        corr = cov / np.outer(sd, sd)
    corr = np.nan_to_num(corr, nan=1.0)
    flagged = set()
    if not np.isfinite(cond) or cond > 1e10:
        flagged.update(params)
    for i in range(p):
        for j in range(i + 1, p):
            if abs(corr[i, j]) > MAX_CORRELATION:
                flagged.update((params[i], params[j]))
    t = stats.t.ppf(0.975, dof)
    low, high = natural(res.x - t * sd), natural(res.x + t * sd)
    for i, key in enumerate(params):
        if key in flagged:
            low[i], high[i] = 0.0, (1.0 if is_logit[i] else math.inf)
    if flagged:
        warnings.warn(
            f"not identifiable from these data: {', '.join(sorted(flagged))} (they enter the fit only together, "
            "e.g. as a product); their intervals are unbounded — add data that separate them or fix one",
            NonIdentifiableWarning,
            stacklevel=2,
        )
    _warn_outside_declared(scenario, params, best)
    predicted = _predict(fitted, data, dose)
    table = {
        "organ": data.organ.tolist(),
        "time_h": data.time_h.astype(float).tolist(),
        "measures": data.measures.tolist(),
        "observed_pct_dose": data.pct_dose.astype(float).tolist(),
        "predicted_pct_dose": predicted.tolist(),
        "detection_limit_pct_dose": [float(lim) if c else None for c, lim in zip(censored, limits, strict=True)],
    }
    return FitResult(params, best, low, high, corr, math.sqrt(s2), sorted(flagged), n, table)


def _refuse_fractions(where: str, values: np.ndarray, predicted: np.ndarray) -> None:
    """Refuse values that look like fractions of the dose given as percent (0.5 meaning 50 %)."""
    big = (predicted > 1.0) & (values > 0)
    if values.max() <= 1.0 and big.any():
        ratio = float(np.median(predicted[big] / values[big]))
        if 30.0 <= ratio <= 300.0:
            raise ConfigError(
                f"{where}: pct_dose: every value is at most 1 and about {ratio:.0f} times below the model where it "
                "predicts more than 1 %: they look like fractions of the dose; pct_dose is in percent (0.5 = 0.5 %), "
                "so multiply them by 100"
            )


def _warn_outside_declared(scenario: Scenario, params: list[str], best: np.ndarray) -> None:
    """Say when a fitted value leaves the range the configs declare for it (``[uncertainty]``, the pass range)."""
    declared = {k: (d.low, d.high) for k, d in scenario.uncertain_parameters().items()}
    declared.setdefault("cell.lung_pass_fraction", tuple(scenario.cell.lung_pass_fraction_range))
    for key, value in zip(params, best, strict=True):
        low, high = declared.get(key, (None, None))
        if (low is not None and value < low) or (high is not None and value > high):
            warnings.warn(
                f"{key} = {value:.4g} lies outside its declared range [{low:g}, {high:g}] "
                f"({scenario.sources.get('cell' if key.startswith('cell.') else 'species', 'the configs')}); "
                "the data pull it there, or the model misses something they show",
                OutsideDeclaredRangeWarning,
                stacklevel=3,
            )


def _current(scenario: Scenario, key: str) -> Any:
    """The key's value; for a per-organ entry a table does not list (``retention_per_pass.brain``), its default."""
    try:
        return get(scenario, key)
    except ConfigError as exc:
        head, _, _ = key.rpartition(".")
        try:
            table = get(scenario, head) if head else None
        except ConfigError:
            table = None
        if isinstance(table, dict) and "default" in table:
            scenario.with_values({key: table["default"]})  # a --set key it takes (else: the one-line error)
            return table["default"]
        raise ConfigError(f"--params {exc}") from None
