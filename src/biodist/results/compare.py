"""Routes side by side (:class:`CompareResult`): exact means, Monte Carlo bands, where the dose goes.

"Cells at the target" counts the target's vascular bed plus, for direct injection,
its depot and engrafted cells (the ``target`` readout of the model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..config import LUNG, Scenario
from ..model import CLEARED, held_at
from ..model.tracers import LEFT_BODY
from ..solvers import dense_times
from .base import Result, quantile_label
from .simulation import SimulationResult, simulate

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

__all__ = ["DOSE_GROUPS", "CompareResult", "RouteResult", "target_cells"]

#: Groups of the "where did the dose go" view; "elsewhere": every other organ (``rest`` included) and blood.
DOSE_GROUPS = ("lung", "liver", "spleen", "target", "cleared", "elsewhere")


def target_cells(result: Any, counts: np.ndarray) -> np.ndarray:
    """Cells at the target from a counts array whose first non-time axis is the compartment."""
    return counts.take(held_at(result.compartments, result.target, result.target), axis=-2).sum(axis=-2)


def _at_target(rows: list[str], values: np.ndarray, target: str) -> np.ndarray:
    """The target's row plus a direct injection's depot and engrafted rows (axis 0: rows)."""
    return values[held_at(rows, target, target)].sum(axis=0)


@dataclass(frozen=True, eq=False)
class RouteResult:
    """One route: the exact mean at the report times, the Monte Carlo band, and (on first use) dense curves.

    ``quantiles`` and :attr:`target_mean` are cells at the target. With a ``readout`` other than ``cells``
    (``dna``, ``111In``...), the ``shown_*`` views (the table and figures) are that readout, whose Monte Carlo
    band is ``readout_quantiles``; ``ode`` then carries the readout in :attr:`SimulationResult.readouts`.
    """

    route: str
    ode: SimulationResult
    quantiles: dict[float, np.ndarray]
    _dense: SimulationResult | None = field(default=None, repr=False)
    readout: str = "cells"
    readout_quantiles: dict[float, np.ndarray] | None = None

    @cached_property
    def dense(self) -> SimulationResult:
        """Expected cells (and the readout shown) on a dense log-spaced grid (for curves)."""
        if self._dense is not None:
            return self._dense
        extra = () if self.readout == "cells" else (self.readout,)
        times = dense_times(self.ode.times_h)
        return simulate(self.ode.scenario, times_h=times, label=False, exposure=False, readouts=extra)

    @property
    def target_mean(self) -> np.ndarray:
        """Expected cells at the target at the report times."""
        return target_cells(self.ode, self.ode.counts)

    def shown(self, result: SimulationResult | None = None) -> tuple[list[str], np.ndarray]:
        """The readout shown, of the report-time solution (or of ``result``): row names and values (k, T)."""
        result = self.ode if result is None else result
        if self.readout == "cells":
            return list(result.compartments), result.counts
        rows = (result.readouts or {})[self.readout]
        return list(rows), np.stack(list(rows.values()))

    @property
    def shown_mean(self) -> np.ndarray:
        """Expected readout shown at the target at the report times."""
        return _at_target(*self.shown(), self.ode.target)

    @property
    def shown_quantiles(self) -> dict[float, np.ndarray]:
        """Monte Carlo quantiles of the readout shown at the target."""
        return self.quantiles if self.readout_quantiles is None else self.readout_quantiles

    def shown_dense(self) -> tuple[np.ndarray, np.ndarray]:
        """Dense times and the expected readout shown at the target."""
        return self.dense.times_h, _at_target(*self.shown(self.dense), self.ode.target)

    def dose_split(self, index: int) -> dict[str, float]:
        """Fraction of the dose (as cells) in each group of :data:`DOSE_GROUPS` at report time ``index``."""
        return self._split(list(self.ode.compartments), self.ode.counts, index)

    def shown_split(self, index: int) -> dict[str, float]:
        """As :meth:`dose_split`, for the readout shown; ``cleared`` is then what left the body."""
        return self._split(*self.shown(), index)

    def _split(self, rows: list[str], values: np.ndarray, index: int) -> dict[str, float]:
        frac = values[:, index] / self.ode.dose_cells
        groups = dict.fromkeys(DOSE_GROUPS, 0.0)
        groups["target"] = float(_at_target(rows, frac, self.ode.target))
        for name in ("liver", "spleen", LUNG):
            if name != self.ode.target and name in rows:
                groups[name] = float(frac[rows.index(name)])
        if any(r in rows for r in (CLEARED, *LEFT_BODY)):
            groups["cleared"] = float(sum(frac[rows.index(r)] for r in (CLEARED, *LEFT_BODY) if r in rows))
        else:  # a readout of the living (bli): what it cannot see is the dead cells, counted as cleared
            groups["cleared"] = float(self.ode.fraction_of_dose[list(self.ode.compartments).index(CLEARED), index])
        groups["elsewhere"] = max(0.0, 1.0 - sum(groups.values()))
        return groups

    def readout_record(self, index: int) -> dict[str, Any]:
        """The readout shown, for ``compare --json``: target mean and quantiles, fraction of dose per row."""
        rows, values = self.shown()
        return {
            "name": self.readout,
            "target_mean": self.shown_mean.tolist(),
            "target_quantiles": {quantile_label(q): v.tolist() for q, v in self.shown_quantiles.items()},
            "fraction_of_dose": {r: (values[i] / self.ode.dose_cells).tolist() for i, r in enumerate(rows)},
            "dose_split_at_time_h": self.shown_split(index),
        }


@dataclass(frozen=True, repr=False)
class CompareResult(Result):
    """Routes side by side."""

    kind: ClassVar[str] = "compare"
    table_columns: ClassVar[tuple[str, ...]] = ("cells", "fraction_of_dose")

    scenario: Scenario
    routes: dict[str, RouteResult]
    time_h: float
    replicates: int
    seed: int
    uncertainty: bool

    @property
    def times_h(self) -> np.ndarray:
        """Report times (h)."""
        return next(iter(self.routes.values())).ode.times_h

    @property
    def readout(self) -> str:
        """The readout the table and figures show."""
        return next(iter(self.routes.values())).readout

    @property
    def time_index(self) -> int:
        """Index of the report time used for the bars and the dose split."""
        return int(np.argmin(np.abs(self.times_h - self.time_h)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record: route → times, target mean and quantiles, fraction of dose per compartment."""
        out: dict[str, Any] = {}
        for name, r in self.routes.items():
            out[name] = {
                "times_h": r.ode.times_h.tolist(),
                "target_mean": r.target_mean.tolist(),
                "target_quantiles": {quantile_label(q): v.tolist() for q, v in r.quantiles.items()},
                "fraction_of_dose": {c: r.ode.fraction_of_dose[i].tolist() for i, c in enumerate(r.ode.compartments)},
                "first_pass": r.ode.first_pass,
                "dose_split_at_time_h": r.dose_split(self.time_index),
            }
            if r.readout != "cells":
                out[name]["readout"] = r.readout_record(self.time_index)
        return out

    def to_xarray(self) -> xr.Dataset:
        """Per route: cells and fraction of dose by compartment and time; the target's mean and quantiles."""
        import xarray as xr

        names = list(self.routes)
        comps: list[str] = []
        for r in self.routes.values():
            comps += [c for c in r.ode.compartments if c not in comps]
        comps.remove("cleared")
        comps.append("cleared")
        cells = np.full((len(names), len(comps), len(self.times_h)), np.nan)
        for i, r in enumerate(self.routes.values()):
            for j, c in enumerate(r.ode.compartments):
                cells[i, comps.index(c)] = r.ode.counts[j]
        qs = sorted(next(iter(self.routes.values())).quantiles)
        dims = ("route", "compartment", "time_h")
        return xr.Dataset(
            {
                "cells": (dims, cells, {"units": "cells"}),
                "fraction_of_dose": (dims, cells / self.scenario.dose_cells, {"units": "1"}),
                "target_mean": (("route", "time_h"), np.stack([r.target_mean for r in self.routes.values()])),
                "target_quantiles": (
                    ("route", "quantile", "time_h"),
                    np.stack([np.stack([r.quantiles[q] for q in qs]) for r in self.routes.values()]),
                ),
            },
            coords={"route": names, "compartment": comps, "time_h": self.times_h, "quantile": qs},
            attrs={"target": self.scenario.target, "replicates": self.replicates, "seed": self.seed},
        )

    def summary(self) -> str:
        """The routes and the target's mean per route at the bar time."""
        j = self.time_index
        means = ", ".join(f"{n} {r.target_mean[j]:.3g}" for n, r in self.routes.items())
        return f"{self.scenario.name}: cells at the {self.scenario.target} at {self.times_h[j]:g} h: {means}"
