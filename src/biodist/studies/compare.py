"""Compare routes of administration for one scenario: the teaching view.

For each route the scenario is re-validated with that route (so a route the
target cannot take is a clear error), solved exactly for the mean, and sampled
with the exact aggregated Monte Carlo for the 5–95 % band. "Cells at the target"
counts the target's vascular bed plus, for direct injection, its depot and
engrafted cells.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from ..config import ROUTES, Scenario
from ..config.limits import MAX_TIME_H
from ..config.tracer import check_readout
from ..errors import ConfigError, LongRunNotice
from ..results import QUANTILES, CompareResult, RouteResult, monte_carlo, simulate, target_cells
from ..solvers.budget import Cost, check_cost
from ..solvers.montecarlo import run_cost

__all__ = ["compare"]


def compare(
    scenario: Scenario,
    routes: Sequence[str] = ROUTES,
    time_h: float | None = None,
    replicates: int = 200,
    seed: int | None = None,
    uncertainty: bool | str = False,
    allow_long: bool = False,
    readout: str = "cells",
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
    uncertainty : bool or "ranges"
        Virtual subjects, as in :func:`biodist.monte_carlo` (the posterior where one applies, or ``"ranges"``).
    allow_long : bool
        Run even when the sampling is estimated to take longer than two minutes.
    readout : str
        What the table and figures show at the target (``"cells"``, ``"dna"``, ``"111In"``...; see
        :func:`biodist.monte_carlo`); cells at the target are always there too.

    Returns
    -------
    CompareResult
    """
    routes = list(dict.fromkeys(routes))  # each route once, in the order given
    check_readout(readout, scenario.folder)
    if time_h is not None and not (np.isfinite(time_h) and 0 <= time_h <= MAX_TIME_H):
        raise ConfigError(f"--time-h {time_h}: must be a time within [0, {MAX_TIME_H:g}] h")
    unknown = [r for r in routes if r not in ROUTES]
    if unknown or not routes:
        bad = unknown[0] if unknown else ""
        raise ConfigError(f"--routes {','.join(routes)}: unknown route {bad!r}; allowed: {', '.join(ROUTES)}")
    times = np.asarray(scenario.times_h)
    t_bar = float(time_h) if time_h is not None else (24.0 if 24.0 in scenario.times_h else float(times[-1]))
    if t_bar not in scenario.times_h:
        scenario = scenario.replace(times_h=(*scenario.times_h, t_bar))
    root = np.random.SeedSequence(seed)
    per_route = {}
    for route in routes:
        try:
            per_route[route] = scenario.with_values({"route": route})
        except ConfigError as exc:  # a route the target cannot take
            raise ConfigError(str(exc).replace("(after --set route)", "(a route from --routes)")) from None
    _check_total_cost(per_route, replicates, uncertainty, allow_long, readout)
    results = {}
    for (route, sc), child in zip(per_route.items(), root.spawn(len(routes)), strict=True):
        with warnings.catch_warnings():  # the cost of all routes together was said and checked above
            warnings.simplefilter("ignore", LongRunNotice)
            mc = monte_carlo(
                sc,
                n_cells=round(sc.dose_cells),
                replicates=replicates,
                seed=int(child.generate_state(1)[0]),
                method="aggregated",
                uncertainty=uncertainty,
                allow_long=True,
                readout=readout,
            )
        quantiles = _quantiles(target_cells(mc, mc.counts))
        shown = _quantiles(mc.target_readout()[0]) if readout != "cells" else None
        extra = () if readout == "cells" else (readout,)
        results[route] = RouteResult(route, simulate(sc, readouts=extra), quantiles, None, readout, shown)
    return CompareResult(scenario, results, t_bar, replicates, int(root.entropy), uncertainty)


def _quantiles(values: np.ndarray) -> dict[float, np.ndarray]:
    return {q: np.quantile(values, q, axis=0, method="inverted_cdf") for q in QUANTILES}


def _check_total_cost(
    per_route: dict[str, Scenario], replicates: int, uncertainty: bool, allow_long: bool, readout: str
) -> None:
    """The routes' Monte Carlo runs together: said, and checked against the budget, before the first starts."""
    costs = [
        run_cost(sc, round(sc.dose_cells), replicates, "aggregated", uncertainty, readout)[0]
        for sc in per_route.values()
    ]
    total = Cost(
        sum(c.seconds for c in costs),
        max(c.bytes for c in costs),
        f"{len(costs)} route(s) x {replicates:,} replicates, aggregated",
    )
    check_cost(total, allow_long, "use fewer --replicates or --routes")
