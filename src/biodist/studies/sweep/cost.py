"""What a sweep will cost, worked out before it starts (and checked by :func:`~biodist.solvers.budget.check_cost`).

The expectation (``mean``) is timed on a probe of the sweep's own first points — whether the
points broadcast through one compile or are compiled one by one changes the rate a hundredfold;
the quantiles (a Monte Carlo per point) are priced by the Monte Carlo's own rates.
"""

from __future__ import annotations

import os
import time

import numpy as np

from ...model import compile_model
from ...solvers.budget import Cost
from ...solvers.montecarlo.cost import estimate as mc_estimate
from .fast import batch_points

__all__ = ["PROBE_POINTS", "sweep_cost", "workers_of"]

#: Points timed before a sweep starts (from its first chunk).
PROBE_POINTS = 64
#: Bytes per row while a chunk is built and encoded (DataFrame columns, Parquet buffers), generously.
ROW_BYTES = 200
#: Seconds per chunk spent beyond its points (compile, Parquet, manifest).
CHUNK_S = 0.05


def sweep_cost(run: object, remaining: int, workers: int) -> Cost:
    """The time and memory of computing ``remaining`` points of a prepared sweep on ``workers`` workers."""
    spec, scenario, points = run.spec, run.scenario, run.points  # type: ignore[attr-defined]
    out = spec.outputs
    rows_per_point = len(out.compartments) * len(out.times_h) * len(out.statistics)
    per_point = 0.0
    if "mean" in out.statistics:
        probe = points[: min(PROBE_POINTS, len(points))]
        start = time.perf_counter()
        batch_points(scenario, spec.names, probe, np.asarray(out.times_h, dtype=float))
        per_point += (time.perf_counter() - start) / len(probe)
    if any(s != "mean" for s in out.statistics):
        model = compile_model(scenario)
        mc = mc_estimate(1, out.replicates, "aggregated", len(model.compartments), len(out.times_h), model.n_classes, 1)
        per_point += mc.seconds
    chunks = -(-remaining // spec.chunk_points)
    seconds = (remaining * per_point + chunks * CHUNK_S) / max(workers, 1)
    in_flight = 2 * max(workers, 1)
    held = in_flight * min(spec.chunk_points, max(remaining, 1)) * rows_per_point * ROW_BYTES
    what = f"a sweep of {remaining:,} points ({rows_per_point} rows each) on {workers} worker(s)"
    return Cost(seconds, held, what)


def workers_of(workers: int | None, scheduler: str | None) -> int:
    """How many workers a run will have (a cluster's are not known before it starts: counted as one)."""
    if scheduler:
        return 1
    return workers or os.cpu_count() or 1
