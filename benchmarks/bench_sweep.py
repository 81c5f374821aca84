"""Throughput of parameter sweeps of the human model (ODE mean).

Points vary the lung pass fraction, the knee's blood flow and the lung half-life
(Latin hypercube); outputs: knee and brain at 24 h. ``batched`` runs the sweep
machinery (chunks of 1000 points, batched eigendecompositions, Parquet chunks
written atomically) with 1 and 2 worker processes; ``one_at_a_time`` is the
loop ``scenario.with_values(...) -> simulate`` per point (what a hand-written loop does), for scale.
Prints one JSON object:

    {"results": [{"path": "batched" | "one_at_a_time", "points", "workers", "points_per_second"}, ...]}

Run: ``python benchmarks/bench_sweep.py [--max-points 1e5]``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "configs" / "human_msc_iv.toml"


def spec_text(points: int) -> str:
    return f"""
scenario = "{SCENARIO}"
design = "lhs"
samples = {points}
seed = 1
chunk_points = 1000
[parameters."cell.lung_pass_fraction"]
low = 0.015
high = 0.037
[parameters."species.organs.knee.flow_fraction"]
low = 1e-4
high = 1e-2
scale = "log"
[parameters."cell.lung_half_life_h"]
low = 8.0
high = 72.0
[outputs]
compartments = ["knee", "brain"]
times_h = [24]
"""


def batched(points: int, workers: int) -> float:
    from biodist.studies.sweep import run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "bench.toml"
        spec.write_text(spec_text(points))
        start = time.perf_counter()
        run_sweep(spec, Path(tmp) / "out", workers=workers)
        return points / (time.perf_counter() - start)


def one_at_a_time(points: int) -> float:
    import numpy as np

    import biodist

    rng = np.random.default_rng(1)
    base = biodist.Scenario.load(SCENARIO, {"times_h": [24.0]})
    start = time.perf_counter()
    for _ in range(points):
        over = {
            "cell.lung_pass_fraction": float(rng.uniform(0.015, 0.037)),
            "species.organs.knee.flow_fraction": float(10 ** rng.uniform(-4, -2)),
            "cell.lung_half_life_h": float(rng.uniform(8, 72)),
        }
        biodist.simulate(base.with_values(over), label=False, exposure=False)
    return points / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-points", type=float, default=1e5)
    args = parser.parse_args()
    os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="biodist-bench-"))
    batched(1000, 1)  # warm-up: imports and caches
    results = []
    n = 1000
    while n <= args.max_points:
        for workers in (1, 2):
            results.append(
                {"path": "batched", "points": n, "workers": workers, "points_per_second": batched(n, workers)}
            )
        n *= 10
    results.append({"path": "one_at_a_time", "points": 1000, "workers": 1, "points_per_second": one_at_a_time(1000)})
    print(json.dumps({"machine": {"cpus": os.cpu_count()}, "results": results}))


if __name__ == "__main__":
    main()
