"""What a sweep will cost, worked out before it starts (and checked by :func:`~biodist.solvers.budget.check_cost`).

The expectation (``mean``) is timed on a probe of the sweep's own first points (after a warm-up,
the faster of two timings) — whether the points broadcast through one compile or are compiled
one by one changes the rate a hundredfold; the quantiles (a Monte Carlo per point) are priced by
the Monte Carlo's own rates. Workers are counted at :data:`PARALLEL_EFFICIENCY` each beyond the
first, and the total is multiplied by :data:`SAFETY`, so that the estimate errs on the long side.
"""

from __future__ import annotations

import time

import numpy as np

from ...model import compile_model
from ...solvers.budget import Cost
from ...solvers.montecarlo.cost import estimate as mc_estimate
from .fast import batch_points

__all__ = ["PROBE_POINTS", "sweep_cost"]

#: Points timed before a sweep starts (from its first chunk).
PROBE_POINTS = 64
#: Bytes per row while a chunk is built and encoded (DataFrame columns, Parquet buffers), generously.
ROW_BYTES = 200
#: Seconds per chunk spent beyond its points (compile, Parquet, manifest).
CHUNK_S = 0.05
#: Factor on the probe's rate: a machine's speed drifts, and a long run meets slower moments (errs long).
SAFETY = 1.5
#: What each worker beyond the first adds (processes share memory bandwidth and the machine's other work).
PARALLEL_EFFICIENCY = 0.7


def _effective(workers: int) -> float:
    """Workers' worth of speed: 1 for one worker, less than ``workers`` for more."""
    return 1.0 + PARALLEL_EFFICIENCY * (max(workers, 1) - 1)


def sweep_cost(run: object, remaining: int, workers: int) -> Cost:
    """The time and memory of computing ``remaining`` points of a prepared sweep on ``workers`` workers."""
    spec, scenario, points = run.spec, run.scenario, run.points  # type: ignore[attr-defined]
    out = spec.outputs
    rows_per_point = len(out.compartments) * len(out.times_h) * len(out.statistics)
    per_point = 0.0
    if "mean" in out.statistics:
        probe = points[: min(PROBE_POINTS, len(points))]
        times = np.asarray(out.times_h, dtype=float)
        batch_points(scenario, spec.names, probe[:1], times)  # first calls (imports, caches) are not the rate
        timings = []
        for _ in range(2):
            start = time.perf_counter()
            batch_points(scenario, spec.names, probe, times)
            timings.append(time.perf_counter() - start)
        per_point += min(timings) / len(probe)
    if any(s != "mean" for s in out.statistics):
        model = compile_model(scenario)
        mc = mc_estimate(1, out.replicates, "aggregated", len(model.compartments), len(out.times_h), model.n_classes, 1)
        per_point += mc.seconds
    chunks = -(-remaining // spec.chunk_points)
    seconds = SAFETY * (remaining * per_point + chunks * CHUNK_S) / _effective(workers)
    in_flight = 2 * max(workers, 1)
    held = in_flight * min(spec.chunk_points, max(remaining, 1)) * rows_per_point * ROW_BYTES
    what = f"a sweep of {remaining:,} points ({rows_per_point} rows each) on {workers} worker(s)"
    return Cost(seconds, held, what)
