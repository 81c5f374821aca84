"""Compare routes of administration for one scenario: the teaching view.

For each route the scenario is re-validated with that route (so a route the
target cannot take is a clear error), solved exactly for the mean, and sampled
with the exact aggregated Monte Carlo for the 5–95 % band. "Cells at the target"
counts the target's vascular bed plus, for direct injection, its depot and
engrafted cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import apply_values
from .errors import ConfigError
from .expected import simulate
from .model import DEPOT, ENGRAFTED
from .physiology import LUNG
from .results import SimulationResult
from .routes import ROUTES
from .scenario import Scenario

__all__ = ["DOSE_GROUPS", "CompareResult", "RouteResult", "compare", "target_cells"]

#: Groups of the "where did the dose go" view; "elsewhere": every other organ (``rest`` included) and blood.
DOSE_GROUPS = ("lung", "liver", "spleen", "target", "cleared", "elsewhere")
#: Points of the dense time grid used for curves.
_DENSE = 200


def _dense_times(scenario: Scenario) -> np.ndarray:
    """Log-spaced times from 3.6 s to the last report time, report times included (for curves)."""
    t_end = max(float(scenario.times_h[-1]), 1e-2)
    return np.unique(np.concatenate([np.geomspace(1e-3, t_end, _DENSE), scenario.times_h]))


def target_cells(result: SimulationResult | Any, counts: np.ndarray) -> np.ndarray:
    """Cells at the target from a counts array whose first non-time axis is the compartment."""
    comps = list(result.compartments)
    rows = [comps.index(result.target)] + [comps.index(c) for c in (DEPOT, ENGRAFTED) if c in comps]
    return counts.take(rows, axis=-2).sum(axis=-2)


@dataclass(frozen=True)
class RouteResult:
    """One route: the exact mean on report and dense grids, and the Monte Carlo band."""

    route: str
    ode: SimulationResult
    dense: SimulationResult
    quantiles: dict[float, np.ndarray]

    @property
    def target_mean(self) -> np.ndarray:
        """Expected cells at the target at the report times."""
        return target_cells(self.ode, self.ode.counts)

    def dose_split(self, index: int) -> dict[str, float]:
        """Fraction of the dose in each group of :data:`DOSE_GROUPS` at report time ``index``."""
        frac = self.ode.fraction_of_dose[:, index]
        comps = list(self.ode.compartments)
        groups = dict.fromkeys(DOSE_GROUPS, 0.0)
        target = float(target_cells(self.ode, self.ode.fraction_of_dose)[index])
        groups["target"] = target
        for name in ("liver", "spleen", "cleared", LUNG):
            if name != self.ode.target:
                groups[name] = float(frac[comps.index(name)])
        groups["elsewhere"] = max(0.0, 1.0 - sum(groups.values()))
        return groups


@dataclass(frozen=True)
class CompareResult:
    """Routes side by side."""

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
                "target_quantiles": {f"{q:g}": v.tolist() for q, v in r.quantiles.items()},
                "fraction_of_dose": {c: r.ode.fraction_of_dose[i].tolist() for i, c in enumerate(r.ode.compartments)},
                "first_pass": r.ode.first_pass,
                "dose_split_at_time_h": r.dose_split(self.time_index),
            }
        return out


def compare(
    scenario: Scenario,
    routes: Sequence[str] = ROUTES,
    time_h: float | None = None,
    replicates: int = 200,
    seed: int | None = None,
    uncertainty: bool = False,
) -> CompareResult:
    """Solve and sample the scenario once per route.

    Parameters
    ----------
    scenario : Scenario
        The base scenario (its ``route`` is replaced by each of ``routes``).
    routes : sequence of str
        Routes to compare.
    time_h : float, optional
        Time for the bar chart and the dose split (h); default: 24 h or the last report time.
    replicates : int
        Monte Carlo replicates for the 5–95 % band (exact aggregated sampler).
    seed : int, optional
        Seed; each route gets its own child stream.
    uncertainty : bool
        Virtual subjects drawing the scenario's ``[uncertainty]`` parameters.

    Returns
    -------
    CompareResult
    """
    from .montecarlo import monte_carlo

    routes = list(dict.fromkeys(routes))  # each route once, in the order given
    if time_h is not None and not (np.isfinite(time_h) and time_h >= 0):
        raise ConfigError(f"--time-h {time_h}: must be a finite time >= 0 h")
    unknown = [r for r in routes if r not in ROUTES]
    if unknown or not routes:
        bad = unknown[0] if unknown else ""
        raise ConfigError(f"--routes {','.join(routes)}: unknown route {bad!r}; allowed: {', '.join(ROUTES)}")
    times = np.asarray(scenario.times_h)
    t_bar = float(time_h) if time_h is not None else (24.0 if 24.0 in scenario.times_h else float(times[-1]))
    if t_bar not in scenario.times_h:
        scenario = scenario.replace(times_h=(*scenario.times_h, t_bar))
    root = np.random.SeedSequence(seed)
    dense = _dense_times(scenario)
    results = {}
    for route, child in zip(routes, root.spawn(len(routes)), strict=True):
        try:
            sc = apply_values(scenario, {"route": route})
        except ConfigError as exc:  # a route the target cannot take
            raise ConfigError(str(exc).replace("(after --set route)", "(a route from --routes)")) from None
        mc = monte_carlo(
            sc,
            n_cells=round(sc.dose_cells),
            replicates=replicates,
            seed=int(child.generate_state(1)[0]),
            method="aggregated",
            uncertainty=uncertainty,
        )
        counts = target_cells(mc, mc.counts)
        quantiles = {q: np.quantile(counts, q, axis=0, method="inverted_cdf") for q in (0.05, 0.5, 0.95)}
        results[route] = RouteResult(route, simulate(sc), simulate(sc, times_h=dense, label=False), quantiles)
    return CompareResult(scenario, results, t_bar, replicates, int(root.entropy), uncertainty)
