"""Speed and memory of the Monte Carlo samplers on the default human scenario.

Each (method, n_cells, threads) point runs in a fresh process, so its peak
resident memory is its own; the kernels are compiled (and cached) once before
any timing, and each process warms up on a tiny run, so compilation is excluded
from the rates. Prints one JSON object:

    {"machine": {...}, "compile_s": ..., "results": [{"method", "n_cells", "threads",
     "replicates", "cells_per_second", "seconds", "peak_rss_mb"}, ...]}

Run: ``python benchmarks/bench_mc.py [--max-cells 1e8]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIO = Path(__file__).resolve().parents[1] / "configs" / "human_msc_iv.toml"


def one(method: str, n_cells: int, threads: int, replicates: int) -> dict:
    import numba

    import biodist

    numba.set_num_threads(threads)
    scenario = biodist.Scenario.load(SCENARIO)
    biodist.monte_carlo(scenario, n_cells=1000, replicates=1, seed=0, method=method)  # warm-up
    start = time.perf_counter()
    res = biodist.monte_carlo(scenario, n_cells=n_cells, replicates=replicates, seed=1, method=method)
    seconds = time.perf_counter() - start
    return {
        "method": method,
        "n_cells": n_cells,
        "threads": threads,
        "replicates": replicates,
        "cells_per_second": n_cells * replicates / res.elapsed_s,
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-cells", type=float, default=1e8)
    parser.add_argument("--one", nargs=4, metavar=("METHOD", "N", "THREADS", "REPLICATES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        method, n, threads, reps = args.one
        print(json.dumps(one(method, int(float(n)), int(threads), int(reps))))
        return

    env = dict(os.environ)
    env.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="biodist-bench-"))
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import biodist, biodist.solvers.montecarlo"], check=True, env=env
    )  # imports only
    compile_cmd = (
        f"import biodist; sc = biodist.Scenario.load({str(SCENARIO)!r}); "
        "biodist.monte_carlo(sc, n_cells=10, replicates=1, seed=0)"
    )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", compile_cmd], check=True, env=env)
    compile_s = time.perf_counter() - t0

    points = []
    n = 10_000
    while n <= args.max_cells:
        points += [("per_cell", n, threads, 1) for threads in (1, 2)]
        points.append(("aggregated", n, 1, 1))
        n *= 10
    points.append(("aggregated", int(1e9), 1, 100))  # the acceptance figure: 1e9 cells x 100 replicates
    results = []
    for method, n, threads, reps in points:
        out = subprocess.run(
            [sys.executable, __file__, "--one", method, str(n), str(threads), str(reps)],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(out.stdout))
    machine = {
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "setup_s": round(t0 - start, 2),
    }
    print(json.dumps({"machine": machine, "compile_s": round(compile_s, 2), "results": results}))


if __name__ == "__main__":
    main()
