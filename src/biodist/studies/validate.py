"""Validation against published measurements (``configs/validation/*.toml``).

Each dataset is one study: a scenario (with overrides) and its measurements.
Every measurement names (``measures``) the readout of the assay that produced it,
and is compared with that readout of the model (:mod:`biodist.model.tracers`):
``cells`` (flow cytometry, culture, histology), ``bli``, ``dna`` (Alu, Y or GFP
qPCR), ``111In``, ``99mTc``, ``18F-FDG``, ``51Cr``, or the generic ``label``.

Quantities and pass criteria:

* ``pct_dose`` — % of the dose in an organ at ``time_h``; passes inside the
  reported ``low``–``high`` (``spread``: a spread of one group, the default, or
  ``range_of_group_means``, the range of several groups' means across conditions,
  which the report says), or, with no spread reported, within the dataset's
  ``tolerance_factor`` of the value (stated in the file);
* ``upper_bound_pct_dose`` — passes when the model's largest value over the
  study's window (``time_h``, default its report times) stays below the bound;
* ``half_life_h`` — the model's half-life of the organ's count between
  ``window_h`` (log-linear fit), within ``tolerance_factor`` of the value;
* ``ratio_at_least`` — an ordering a study reports in words ("mainly in the
  liver"): the organ's readout at ``time_h`` over ``relative_to``'s (default: the
  same organ) at ``relative_time_h`` (default: ``time_h``) is at least the value
  (1: more in the organ than in the other; "the signal fell from 2 h to 20 h" is
  the organ at 2 h over itself at 20 h);
* ``ratio`` — a reported ratio of the same two readings, within the reported
  ``low``–``high`` or the dataset's ``tolerance_factor``;
* ``pct_dose_per_g`` — % of the dose per gram of the organ (its mass in the
  species file), as ``pct_dose``.

Each dataset also says what the study gave (``product``: cells, species, model of
disease) where the scenario's cell product only stands in for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from ..config import Scenario, bundled_config_dir, read_toml
from ..config.base import ConfigModel, FloatPair
from ..config.limits import MAX_TIME_H
from ..config.messages import validate as validate_model
from ..config.tracer import assay_readouts
from ..errors import ConfigError
from ..model import CompiledModel, compile_model, held_at
from ..results import ValidationResult
from ..solvers import dense_times, solve_model

__all__ = [
    "Dataset",
    "Measurement",
    "evaluate",
    "load_datasets",
    "model_value",
    "needs",
    "observe",
    "observed_series",
    "validate",
]


#: Quantities that compare two readings (an organ at a time with another organ or another time).
RATIOS = ("ratio_at_least", "ratio")
#: Quantities that are not a % of the dose, so not capped at 100 (a %ID/g of a small organ exceeds it).
UNCAPPED = ("half_life_h", "ratio", "pct_dose_per_g")


class Measurement(ConfigModel):
    """One published number."""

    id: str
    organ: str
    quantity: Literal["pct_dose", "upper_bound_pct_dose", "half_life_h", "ratio_at_least", "ratio", "pct_dose_per_g"]
    value: float = Field(ge=0.0)
    low: float | None = None
    high: float | None = None
    time_h: float | None = Field(default=None, ge=0.0)
    window_h: FloatPair | None = None
    relative_to: str | None = None
    relative_time_h: float | None = Field(default=None, ge=0.0)
    spread: Literal["spread", "range_of_group_means"] = "spread"
    measures: str
    method: str
    set: dict[str, Any] = Field(default_factory=dict)
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> Measurement:
        if not self.id.strip():
            raise ValueError("id: empty; give each measurement a name")
        where = f"measurement {self.id!r}"
        if self.quantity == "pct_dose" and self.time_h is None:
            raise ValueError(f"{where}: pct_dose needs time_h")
        if self.quantity in RATIOS:
            other, when = self.denominator
            if self.time_h is None or (self.relative_to is None and self.relative_time_h is None):
                raise ValueError(
                    f"{where}: {self.quantity} needs time_h and relative_to (the organ it is compared with) "
                    "or relative_time_h (the time it is compared with)"
                )
            if (other == self.organ and when == self.time_h) or not self.value > 0:
                raise ValueError(
                    f"{where}: relative_to = {other!r} at {when!r} h, value = {self.value!r}; allowed: another "
                    "organ or another time than organ at time_h, and a ratio > 0 (1: as much in both)"
                )
        elif self.relative_to is not None or self.relative_time_h is not None:
            raise ValueError(f"{where}: relative_to and relative_time_h are only for quantity = {' or '.join(RATIOS)}")
        if self.spread != "spread" and self.low is None:
            raise ValueError(f"{where}: spread = {self.spread!r} describes low and high; give them")
        if self.quantity == "half_life_h":
            if self.window_h is None:
                raise ValueError(f"{where}: half_life_h needs window_h = [start, end]")
            if not self.value > 0:
                raise ValueError(f"{where}: value = {self.value!r}; a half-life must be > 0 h")
        elif self.quantity not in UNCAPPED and self.value > 100:
            raise ValueError(f"{where}: value = {self.value!r}; a % of the dose is at most 100")
        for name in ("time_h", "relative_time_h"):
            value = getattr(self, name)
            if value is not None and value > MAX_TIME_H:
                raise ValueError(f"{where}: {name} = {value!r}; allowed: 0 to {MAX_TIME_H:g} h")
        if self.window_h is not None:
            start, end = self.window_h
            if not 0 < start < end <= MAX_TIME_H:
                raise ValueError(
                    f"{where}: window_h = [{start!r}, {end!r}]; allowed: 0 < start < end <= {MAX_TIME_H:g} h "
                    "(the fit is on a log-spaced grid, so the start must be after 0)"
                )
        allowed = assay_readouts()
        if self.measures not in allowed:
            raise ValueError(
                f"{where}: measures = {self.measures!r}; allowed: {', '.join(allowed)} (what the assay sees)"
            )
        if (self.low is None) != (self.high is None):
            raise ValueError(f"{where}: give both low and high (the reported spread) or neither")
        if self.low is not None and self.high is not None:
            top = math.inf if self.quantity in UNCAPPED else 100.0
            if not 0 <= self.low <= self.value <= self.high <= top:
                raise ValueError(
                    f"{where}: low = {self.low!r}, value = {self.value!r}, high = {self.high!r}; "
                    f"allowed: 0 <= low <= value <= high{' <= 100' if top == 100 else ''}"
                )
        return self

    @property
    def denominator(self) -> tuple[str, float | None]:
        """A ratio's second reading: ``relative_to`` (default: the organ) at ``relative_time_h`` (or ``time_h``)."""
        return self.relative_to or self.organ, self.time_h if self.relative_time_h is None else self.relative_time_h


class Dataset(ConfigModel):
    """A study: its scenario and measurements."""

    name: str
    citation: str
    scenario: str
    product: str = ""
    set: dict[str, Any] = Field(default_factory=dict)
    tolerance_factor: float = Field(default=2.0, gt=1.0)
    tolerance_source: str = ""
    measurements: list[Measurement] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Dataset:
        ids = [m.id for m in self.measurements]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"measurements: id {repeated[0]!r} is used more than once; ids must be unique")
        return self


def load_datasets(folder: str | Path) -> list[tuple[Path, Dataset]]:
    """Every ``*.toml`` dataset in ``folder``, sorted by file name."""
    out = []
    for path in sorted(Path(folder).glob("*.toml")):
        out.append((path, validate_model(Dataset, read_toml(path), path)))
    return out


def observe(
    sc: Scenario, wanted: Sequence[tuple[str, str]], times: np.ndarray, model: CompiledModel | None = None
) -> dict[tuple[str, str], np.ndarray]:
    """What each ``(organ, measures)`` pair sees at ``times``: one compile, one solve per chain needed.

    ``measures`` is a readout (``cells``, ``bli``, ``label``, ``dna``, ``111In``, ``99mTc``, ``18F-FDG``,
    ``51Cr``): what the assay that made the measurement sees. A directly injected target is seen with its
    depot and engrafted cells. ``model``: ``sc`` already compiled.
    """
    model = compile_model(sc) if model is None else model
    asked = tuple(dict.fromkeys(["cells", *(m for _, m in wanted)]))
    views = solve_model(model, times, asked).views
    out = {}
    for organ, measures in wanted:
        names = model.readouts[measures].rows if measures in model.readouts else model.tracer(measures)[1].rows
        out[(organ, measures)] = views[measures][..., held_at(names, organ, sc.target), :].sum(axis=-2)
    return out


def observed_series(sc: Scenario, organ: str, times: np.ndarray, measures: str) -> np.ndarray:
    """What an assay (a readout name) sees in an organ (a direct injection's target: with its depot)."""
    times = np.asarray(times, dtype=float)
    return observe(sc, [(organ, measures)], times)[(organ, measures)]


def _check_organ(path: Path, m: Measurement, sc: Scenario) -> None:
    """The measured organ must be one the scenario's species has (or one of its blood pools)."""
    allowed = (*sc.species.organ_names, "venous_blood", "arterial_blood")
    if m.quantity == "pct_dose_per_g" and m.organ not in sc.species.organ_names:
        raise ConfigError(f"{path}: measurement {m.id!r}: pct_dose_per_g needs an organ with a mass, not {m.organ!r}")
    if m.relative_to is not None and m.relative_to not in allowed:
        raise ConfigError(
            f"{path}: measurement {m.id!r}: relative_to = {m.relative_to!r} is not a compartment of species "
            f"{sc.species.name!r}; allowed: {', '.join(allowed)}"
        )
    if m.organ not in allowed:
        raise ConfigError(
            f"{path}: measurement {m.id!r}: organ = {m.organ!r} is not a compartment of species "
            f"{sc.species.name!r}; allowed: {', '.join(allowed)}"
        )


def evaluate(path: Path, data: Dataset) -> list[dict[str, Any]]:
    """Simulate every measurement of a dataset; one result row each."""
    rows = []
    base_file = path.parent / data.scenario
    for m in data.measurements:
        try:
            sc = Scenario.load(base_file, {**data.set, **m.set})
        except ConfigError as exc:  # say which dataset and measurement asked for it (its set, or its scenario)
            raise ConfigError(f"{path}: measurement {m.id!r}: {exc}") from None
        _check_organ(path, m, sc)
        try:
            rows.append(_evaluate_one(path, data, m, sc))
        except ConfigError as exc:
            text = str(exc)
            raise ConfigError(text if text.startswith(str(path)) else f"{path}: measurement {m.id!r}: {text}") from None
    return rows


def _band(m: Measurement, data: Dataset) -> tuple[float, float, str]:
    """The pass band of a measured value: its reported low-high, else the dataset's tolerance factor."""
    if m.low is not None and m.high is not None:
        return m.low, m.high, "reported spread" if m.spread == "spread" else "range of group means"
    factor = data.tolerance_factor
    return m.value / factor, m.value * factor, f"within x{factor:g}"


def needs(m: Measurement, sc: Scenario) -> tuple[list[tuple[str, str]], np.ndarray]:
    """The ``(organ, readout)`` pairs and the times a measurement's model value is read from."""
    pairs = [(m.organ, m.measures)]
    if m.quantity in ("pct_dose", "pct_dose_per_g"):
        return pairs, np.array([m.time_h])
    if m.quantity == "upper_bound_pct_dose":
        t = np.asarray([m.time_h] if m.time_h is not None else sc.times_h, dtype=float)
        return pairs, (dense_times(t) if m.time_h is None else t)
    if m.quantity in RATIOS:
        other, when = m.denominator
        return list(dict.fromkeys([*pairs, (other, m.measures)])), np.array(sorted({m.time_h, when}))
    return pairs, np.geomspace(*m.window_h, 30)  # half_life_h


def model_value(
    m: Measurement,
    sc: Scenario,
    seen: dict[tuple[str, str], np.ndarray],
    times: np.ndarray,
    model: CompiledModel,
    undefined: Literal["raise", "nan"] = "raise",
) -> np.ndarray:
    """The model's value of a measurement's quantity, from what :func:`observe` saw at ``times``.

    ``times`` holds at least the measurement's own (:func:`needs`): a group of measurements of one scenario
    is solved once at the union of theirs. ``seen`` may be a batch (``(..., T)``: the model compiled for
    many parameter sets at once); the value then has the batch's shape. A ratio whose denominator holds
    nothing raises a :class:`ConfigError` (``undefined="raise"``) or is NaN.
    """
    _, own = needs(m, sc)
    series = seen[(m.organ, m.measures)][..., np.searchsorted(times, own)]
    dose = sc.dose_cells
    if m.quantity in ("pct_dose", "pct_dose_per_g"):
        sim = 100 * series[..., 0] / dose
        return sim / model.organ_mass_g[m.organ] if m.quantity == "pct_dose_per_g" else sim
    if m.quantity == "upper_bound_pct_dose":
        return 100 * series.max(axis=-1) / dose
    if m.quantity in RATIOS:  # organ at time_h over relative_to (default: organ) at relative_time_h
        other, when = m.denominator
        below = seen[(other, m.measures)][..., np.searchsorted(times, when)]
        empty = ~(below > 1e-12 * dose)
        if undefined == "raise" and np.any(empty):
            raise ConfigError(
                f"relative_to = {other!r} holds nothing in the model at {when:g} h "
                f"({np.min(below):.3g} of {dose:.3g}); the ratio is undefined there"
            )
        above = seen[(m.organ, m.measures)][..., np.searchsorted(times, m.time_h)]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(empty, np.nan, above / np.where(empty, 1.0, below))
    y = np.log(np.maximum(series, 1e-300))  # half_life_h: least squares of log(count) against time, last axis
    dt = own - own.mean()
    slope = (dt * (y - y.mean(axis=-1, keepdims=True))).sum(axis=-1) / (dt**2).sum()
    with np.errstate(divide="ignore"):
        return np.where(slope < 0, math.log(2) / -np.minimum(slope, -1e-300), np.inf)


def _evaluate_one(path: Path, data: Dataset, m: Measurement, sc: Scenario) -> dict[str, Any]:
    """One measurement against the model: its result row."""
    pairs, times = needs(m, sc)
    model = compile_model(sc)
    sim = float(model_value(m, sc, observe(sc, pairs, times, model), times, model))
    if m.quantity in ("pct_dose", "pct_dose_per_g"):
        low, high, basis = _band(m, data)
        ok = low <= sim <= high
    elif m.quantity == "upper_bound_pct_dose":
        low, high, basis = 0.0, m.value, "upper bound"
        ok = sim <= m.value
    elif m.quantity in RATIOS:
        other, when = m.denominator
        ratio = f"{m.organ}" + (f" {m.time_h:g} h" if when != m.time_h else "") + f" / {other}"
        ratio += f" {when:g} h" if when != m.time_h else ""
        if m.quantity == "ratio_at_least":
            low, high, basis = m.value, None, f"{ratio} >= {m.value:g}"
        else:
            low, high, basis = _band(m, data)
            basis = f"{ratio}: {basis}"
        ok = sim >= low and (high is None or sim <= high)
    else:  # half_life_h
        low, high = m.value / data.tolerance_factor, m.value * data.tolerance_factor
        basis = f"within x{data.tolerance_factor:g}"
        ok = low <= sim <= high
    return {
        "dataset": data.name,
        "id": m.id,
        "species": sc.species.name,
        "cell": sc.cell.name,
        "product": data.product,
        "route": sc.route,
        "dose_cells": sc.dose_cells,
        "organ": m.organ,
        "quantity": m.quantity,
        "time_h": m.time_h,
        "measured": m.value,
        "low": low,
        "high": high,
        "simulated": sim,
        "measures": m.measures,
        "method": m.method,
        "criterion": basis,
        "pass": bool(ok),
        "citation": data.citation,
        "note": m.note,
    }


def validate(datasets: str | Path | None = None) -> ValidationResult:
    """Simulate every published measurement in a folder of datasets (default: the shipped ones).

    Parameters
    ----------
    datasets : path, optional
        Folder of ``*.toml`` datasets (``configs/validation`` by default).

    Returns
    -------
    ValidationResult
    """
    folder = Path(datasets) if datasets is not None else bundled_config_dir() / "validation"
    rows = [row for path, data in load_datasets(folder) for row in evaluate(path, data)]
    if not rows:
        raise ConfigError(f"{folder}: no validation datasets (*.toml) found")
    return ValidationResult(rows)
