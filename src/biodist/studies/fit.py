"""Fit uncertain parameters to measured biodistribution (% of dose), with intervals and an identifiability check.

Least squares on log(% of dose): residuals ``log(simulated) − log(measured)``,
parameters searched on a log scale (all are positive), by
``scipy.optimize.least_squares``. 95 % intervals from the Jacobian at the
optimum: ``cov = s² (JᵀJ)⁻¹`` with ``s²`` the residual variance, Student-t
quantiles, back-transformed (so intervals are multiplicative). When ``JᵀJ`` is
(nearly) singular, or two parameters' estimates are correlated beyond 0.99,
the data cannot tell them apart (e.g. a pass fraction and a downstream
retention that only enter as a product): a :class:`NonIdentifiableWarning` is
raised and the intervals of those parameters are reported as unbounded.

Data: a CSV with columns ``organ``, ``time_h``, ``pct_dose`` and optionally
``measures`` (the readout of the assay: ``cells``, the default, ``label``, ``dna``, ``111In``...).
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

__all__ = ["NonIdentifiableWarning", "fit", "read_data"]

#: Correlation beyond which two estimates are declared not identifiable.
MAX_CORRELATION = 0.99


class NonIdentifiableWarning(BiodistWarning):
    """The data do not determine some of the fitted parameters separately."""


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
        "pct_dose": ((0.0, False), 100.0, "a number > 0 and <= 100 (% of the dose)"),
    }
    for column, ((low, closed), high, allowed) in checks.items():
        values = pd.to_numeric(df[column].str.strip(), errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            bad = ~(np.isfinite(values) & ((values >= low) if closed else (values > low)) & (values <= high))
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
    start = []
    for key in params:  # every key must exist and be a positive number
        value = _current(scenario, key)
        if not isinstance(value, int | float) or not value > 0:
            raise ConfigError(f"--params {key}: current value {value!r}; only positive numbers can be fitted")
        start.append(math.log(value))
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
    observed = np.log(data.pct_dose.to_numpy(dtype=float))
    dose = scenario.dose_cells

    def residuals(theta: np.ndarray) -> np.ndarray:
        sc = assign(scenario, dict(zip(params, np.exp(theta).tolist(), strict=True)))
        return np.log(np.maximum(_predict(sc, data, dose), 1e-300)) - observed

    from scipy import optimize, stats  # scipy.stats costs ~0.7 s to import: only when fitting

    res = optimize.least_squares(residuals, np.array(start), method="trf", x_scale=1.0, diff_step=1e-4)
    scenario.with_values(dict(zip(params, np.exp(res.x).tolist(), strict=True)))  # the optimum must be valid
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
    low, high = np.exp(res.x - t * sd), np.exp(res.x + t * sd)
    for i, key in enumerate(params):
        if key in flagged:
            low[i], high[i] = 0.0, math.inf
    if flagged:
        warnings.warn(
            f"not identifiable from these data: {', '.join(sorted(flagged))} (they enter the fit only together, "
            "e.g. as a product); their intervals are unbounded — add data that separate them or fix one",
            NonIdentifiableWarning,
            stacklevel=2,
        )
    return FitResult(params, np.exp(res.x), low, high, corr, math.sqrt(s2), sorted(flagged), n)


def _current(scenario: Scenario, key: str) -> Any:
    try:
        return get(scenario, key)
    except ConfigError as exc:
        raise ConfigError(f"--params {exc}") from None
