"""Expected counts by compartment and time (:class:`SimulationResult`), and :func:`simulate`, which makes them.

One column vocabulary everywhere: ``compartment``, ``time_h``, ``cells``,
``fraction_of_dose``, ``cells_per_g`` (organs only), ``exposure_cell_h``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..config import Scenario
from ..config.tracer import assay_readouts
from ..errors import ConfigError
from ..model import CompiledModel, compile_model
from ..solvers import solve_model
from .base import Result, lists
from .format import format_cells

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

__all__ = ["SimulationResult", "simulate"]

_UNITS = {
    "times_h": "h",
    "counts": "viable cells",
    "label": "cell equivalents of label (decay-corrected)",
    "exposure_cell_h": "cell h",
    "first_pass": "fraction",
}


@dataclass(frozen=True, repr=False)
class SimulationResult(Result):
    """Expected counts of one scenario.

    Attributes
    ----------
    scenario : Scenario
        What was simulated.
    compartments : tuple of str
        Compartment labels (rows of ``counts``).
    times_h : ndarray, shape (T,)
        Report times (h).
    counts : ndarray, shape (C, T)
        Expected viable cells (``cleared``: cells no longer viable, including
        those non-viable at infusion).
    exposure_cell_h : ndarray, shape (C, T), or None
        Cell-hours accumulated by each report time.
    first_pass : dict of str to float
        Fraction of the viable cells lodging in each organ on first transit.
    organ_mass_g : dict of str to float
        Organ masses (g).
    solver : str
        Method used (``"exact"`` or ``"solve_ivp"``).
    label : dict of str to ndarray, optional
        Expected radiolabel per compartment (cell equivalents): viable cells plus
        dead cells' label not yet cleared, plus label phagocytosed by liver and spleen.
    readouts : dict of str to dict of str to ndarray, optional
        What each assay asked for sees: readout name (``"cells"``, ``"bli"``, ``"dna"``,
        ``"111In"``...) → row (compartment; for tracers also ``free_tracer`` and what left the
        body: ``excreted``, ``decayed``, ``degraded``) → values at the report times (cell equivalents).
    """

    kind: ClassVar[str] = "simulate"
    table_columns: ClassVar[tuple[str, ...]] = ("cells", "fraction_of_dose", "cells_per_g", "exposure_cell_h")

    scenario: Scenario
    compartments: tuple[str, ...]
    times_h: np.ndarray
    counts: np.ndarray
    exposure_cell_h: np.ndarray | None
    first_pass: dict[str, float]
    organ_mass_g: dict[str, float]
    solver: str
    label: dict[str, np.ndarray] | None = None
    readouts: dict[str, dict[str, np.ndarray]] | None = None
    interval: dict[str, Any] | None = None

    @property
    def dose_cells(self) -> float:
        """Cells administered."""
        return self.scenario.dose_cells

    @property
    def target(self) -> str:
        """Organ of interest."""
        return self.scenario.target

    def cells(self, compartment: str) -> np.ndarray:
        """Expected counts of one compartment at the report times."""
        return self.counts[self.compartments.index(compartment)]

    @property
    def fraction_of_dose(self) -> np.ndarray:
        """Counts divided by the dose, shape (C, T)."""
        return self.counts / self.dose_cells

    def cells_per_g(self) -> np.ndarray:
        """Counts per gram of organ, NaN for blood and ``cleared``, shape (C, T)."""
        mass = np.array([self.organ_mass_g.get(c, np.nan) for c in self.compartments])
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.counts / mass[:, None]

    def peak(self, compartment: str) -> tuple[float, float]:
        """Time (h) and expected count of the largest count over the report times."""
        row = self.cells(compartment)
        k = int(np.argmax(row))
        return float(self.times_h[k]), float(row[k])

    # ---- the family's views -----------------------------------------------------------
    def to_xarray(self) -> xr.Dataset:
        """Counts, fractions, per-gram counts, exposure and label as an :class:`xarray.Dataset`."""
        import xarray as xr

        dims = ("compartment", "time_h")
        data = {
            "cells": (dims, self.counts, {"units": "cells"}),
            "fraction_of_dose": (dims, self.fraction_of_dose, {"units": "1"}),
            "cells_per_g": (dims, self.cells_per_g(), {"units": "cells/g"}),
        }
        if self.exposure_cell_h is not None:
            data["exposure_cell_h"] = (dims, self.exposure_cell_h, {"units": "cell h"})
        if self.label is not None:
            label = np.array([self.label.get(c, np.full(len(self.times_h), np.nan)) for c in self.compartments])
            data["label"] = (dims, label, {"units": _UNITS["label"]})
        return xr.Dataset(
            data,
            coords={"compartment": list(self.compartments), "time_h": self.times_h},
            attrs={"dose_cells": self.dose_cells, "target": self.target, "scenario": self.scenario.name},
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (the ``simulate --json`` object)."""
        rows = self.compartments
        out = {
            "scenario": self.scenario.name,
            "species": self.scenario.species.name,
            "cell": self.scenario.cell.name,
            "route": self.scenario.route,
            "target": self.target,
            "dose_cells": self.dose_cells,
            "viable_dose_cells": self.dose_cells * self.scenario.cell.viable_fraction,
            "infusion_minutes": self.scenario.infusion_minutes,
            "times_h": self.times_h.tolist(),
            "counts": {c: self.counts[i].tolist() for i, c in enumerate(rows)},
            "fraction_of_dose": {c: self.fraction_of_dose[i].tolist() for i, c in enumerate(rows)},
        }
        if self.exposure_cell_h is not None:
            out["exposure_cell_h"] = {c: self.exposure_cell_h[i].tolist() for i, c in enumerate(rows)}
        if self.label:
            out["label"] = lists(self.label)
        if self.readouts:
            out["readouts"] = {name: lists(rows) for name, rows in self.readouts.items()}
        out |= {"first_pass": {k: float(v) for k, v in self.first_pass.items()}, "solver": self.solver}
        out["units"] = dict(_UNITS)
        if self.interval is not None:
            iv = self.interval
            out["interval"] = {k: v for k, v in iv.items() if k not in ("low", "high")} | {
                "low": {c: np.asarray(iv["low"][i]).tolist() for i, c in enumerate(rows)},
                "high": {c: np.asarray(iv["high"][i]).tolist() for i, c in enumerate(rows)},
            }
        return out

    def summary(self) -> str:
        """What was simulated, and the target's peak."""
        t, n = self.peak(self.target)
        return (
            f"{self.scenario.name}: {len(self.compartments)} compartments x {len(self.times_h)} times, "
            f"target {self.target} peak {format_cells(n)} cells at {t:g} h ({self.solver})"
        )

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{t:g} h</th>" for t in self.times_h)
        body = "".join(
            f"<tr><td>{'<b>' + c + '</b>' if c == self.target else c}</td>"
            + "".join(f"<td>{format_cells(v)}</td>" for v in self.counts[i])
            + "</tr>"
            for i, c in enumerate(self.compartments)
        )
        return (
            f"<p><b>SimulationResult</b> {self.summary()}</p>"
            f"<table><tr><th>expected cells</th>{head}</tr>{body}</table>"
        )

    # ---- records -----------------------------------------------------------------------
    @classmethod
    def from_dict(cls, scenario: Scenario, saved: Mapping[str, Any]) -> SimulationResult:
        """Rebuild a result from its :meth:`to_dict` (as saved in ``run.json``), without solving again."""
        rows = tuple(saved["counts"])

        def table(key: str) -> np.ndarray | None:
            return np.array([saved[key][c] for c in rows], dtype=float) if key in saved else None

        return cls(
            scenario=scenario,
            compartments=rows,
            times_h=np.asarray(saved["times_h"], dtype=float),
            counts=table("counts"),
            exposure_cell_h=table("exposure_cell_h"),
            first_pass=dict(saved["first_pass"]),
            organ_mass_g=scenario.effective_species().organ_mass_g(),
            solver=saved.get("solver", "exact"),
            label={c: np.asarray(v, dtype=float) for c, v in saved["label"].items()} if "label" in saved else None,
            readouts={
                name: {r: np.asarray(v, dtype=float) for r, v in rows.items()}
                for name, rows in saved["readouts"].items()
            }
            if "readouts" in saved
            else None,
            interval=_interval_from_dict(saved.get("interval"), rows),
        )


def _interval_from_dict(saved: Mapping[str, Any] | None, rows: tuple[str, ...]) -> dict[str, Any] | None:
    if saved is None:
        return None
    arrays = {k: np.array([saved[k][c] for c in rows], dtype=float) for k in ("low", "high")}
    return {k: v for k, v in saved.items() if k not in ("low", "high")} | arrays


def simulate(
    scenario: Scenario | CompiledModel,
    times_h: np.ndarray | None = None,
    method: str = "exact",
    label: bool = True,
    exposure: bool = True,
    readouts: Sequence[str] = (),
) -> SimulationResult:
    """Expected cell counts (and label, and exposure) per compartment over time.

    The scenario is compiled once and each class's chain solved once; the cells, the
    label and the exposure are readouts of that one solution. With
    ``scenario.heterogeneity == "size"`` the counts are the exact mixture over the
    diameter classes.

    Parameters
    ----------
    scenario : Scenario or CompiledModel
        From :meth:`biodist.Scenario.load` (or already compiled).
    times_h : array_like, optional
        Report times (h); default: the scenario's ``times_h``.
    method : {"exact", "solve_ivp", "eig", "expm"}
        ``"exact"`` (default): eigendecomposition with a matrix-exponential
        fallback; ``"solve_ivp"``: stiff numerical integration, the independent check.
    label : bool
        Also where the radiolabel is (:mod:`biodist.model.label`): what imaging sees.
        Without it only the cells' chain is solved.
    exposure : bool
        Also the cell-hours accumulated in each compartment.
    readouts : sequence of str
        Also what these assays see (``"bli"``, ``"dna"``, ``"111In"``, ``"99mTc"``, ``"18F-FDG"``,
        ``"51Cr"``, ``"cells"``, ``"label"``; see :mod:`biodist.model.tracers`), in
        :attr:`SimulationResult.readouts`. ``"all"`` asks for every one.

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> import biodist
    >>> sc = biodist.Scenario.load("human_msc_iv")  # doctest: +SKIP
    >>> biodist.simulate(sc).to_dataframe().head()  # doctest: +SKIP
    """
    model = scenario if isinstance(scenario, CompiledModel) else compile_model(scenario)
    sc = model.scenario
    times = np.asarray(sc.times_h if times_h is None else times_h, dtype=float)
    extra = _readouts(model, readouts)
    basic = ("cells", "label") if label or "label" in extra else ("cells",)
    solution = solve_model(model, times, (*basic, *(r for r in extra if r not in basic)), method, exposure)
    counts = solution.views["cells"]
    # round-off can leave tiny negatives (|x| ~ 1e-16 of the dose) in empty compartments
    counts = np.where(np.abs(counts) < 1e-12 * model.dose_cells, np.maximum(counts, 0.0), counts)
    rows = model.compartments
    return SimulationResult(
        scenario=sc,
        compartments=rows,
        times_h=times,
        counts=counts,
        exposure_cell_h=solution.exposure_cell_h,
        first_pass=model.first_pass,
        organ_mass_g=model.organ_mass_g,
        solver=method,
        label=dict(zip(rows, solution.views["label"], strict=True)) if label else None,
        readouts={name: _rows(model, name, solution.views[name], counts) for name in extra} or None,
    )


def _readouts(model: CompiledModel, asked: Sequence[str] | str) -> tuple[str, ...]:
    """The readout names asked for, each once, in order.

    ``"all"``: every readout but ``target`` that this model supports (a tracer whose free tracer goes to an
    organ the species lacks is left out; asked for by name, it is refused).
    """
    if isinstance(asked, str):
        asked = [asked]
    out: list[str] = []
    for name in asked:
        if name != "all":
            out.append(name)
            continue
        for r in assay_readouts(model.scenario.folder):
            if r not in model.readouts:
                try:
                    model.tracer(r)
                except ConfigError:
                    continue
            out.append(r)
    return tuple(dict.fromkeys(out))


def _rows(model: CompiledModel, name: str, values: np.ndarray, counts: np.ndarray) -> dict[str, np.ndarray]:
    """One readout as row → values (``cells``: the counts as shown, without round-off negatives)."""
    if name == "cells":
        values = counts
    else:  # round-off can leave tiny negatives (|x| ~ 1e-16 of the dose) in empty rows, as in the counts
        values = np.where(np.abs(values) < 1e-12 * model.dose_cells, np.maximum(values, 0.0), values)
    rows = model.readouts[name].rows if name in model.readouts else model.tracer(name)[1].rows
    return dict(zip(rows, values, strict=True))
