"""Speed of one expected-count solve of the default human model.

One solve = the compiled human model (``configs/human_msc_iv.toml``) to 8 report
times over 7 days; compilation is done once, outside the timing. Prints one JSON
object: ``{"results": [{"solver", "solves_per_second", "max_error_fraction_of_dose"}, ...]}``,
the error measured against ``scipy.linalg.expm`` evaluated at each time.

Run: ``python benchmarks/bench_ode.py``
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from scipy.linalg import expm

import biodist
from biodist.model import compile_model
from biodist.solvers import solve

TIMES = np.array([0.25, 1, 3, 6, 24, 48, 96, 168], dtype=float)
SCENARIO = Path(__file__).resolve().parents[1] / "configs" / "human_msc_iv.toml"


def solve_linear(q, x0, times, method="exact"):
    return solve(q, x0, times, method=method)[0]


def rate(fn, min_seconds: float = 1.0) -> float:
    fn()  # warm up
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_seconds:
        fn()
        n += 1
    return n / elapsed


def main() -> None:
    model = compile_model(biodist.Scenario.load(SCENARIO))
    q, x0 = model.generator, model.initial
    reference = np.column_stack([expm(q * t) @ x0 for t in TIMES])
    results = []
    # batched: the sweep path, 1000 models with different parameters solved as one stack (rate per model)
    rng = np.random.default_rng(0)
    stack = np.repeat(q[None], 1000, axis=0) * rng.uniform(0.5, 2.0, (1000, 1, 1))  # new rates: no cache to hit
    x_stack = np.repeat((x0 / model.dose_cells)[None], 1000, axis=0)
    batched = solve(stack, x_stack, TIMES)[0]
    stack_reference = np.stack([np.column_stack([expm(s * t) @ x_stack[0] for t in TIMES]) for s in stack[:20]])
    results.append(
        {
            "solver": "batched",
            "solves_per_second": round(1000 * rate(lambda: solve(stack, x_stack, TIMES)), 1),
            "max_error_fraction_of_dose": float(np.abs(batched[:20] - stack_reference).max()),
        }
    )
    if True:  # libRoadRunner (CVODE) on the exported SBML of the same model, in this process (a test extra)
        import roadrunner

        from biodist.io.sbml import to_sbml

        rr = roadrunner.RoadRunner(to_sbml(biodist.Scenario.load(SCENARIO)))
        rr.timeCourseSelections = list(model.compartments)
        grid = [0.0, *TIMES]

        def rr_solve() -> np.ndarray:
            rr.reset()
            return np.asarray(rr.simulate(times=grid))[1:].T

        results.append(
            {
                "solver": "libroadrunner",
                "solves_per_second": round(rate(rr_solve), 1),
                "max_error_fraction_of_dose": float(np.abs(rr_solve() - reference).max() / model.dose_cells),
            }
        )
    for solver in ("exact", "solve_ivp"):
        out = solve_linear(q, x0, TIMES, method=solver)
        results.append(
            {
                "solver": solver,
                "solves_per_second": round(rate(lambda s=solver: solve_linear(q, x0, TIMES, method=s)), 1),
                "max_error_fraction_of_dose": float(np.abs(out - reference).max() / model.dose_cells),
            }
        )
    print(json.dumps({"model": "human_msc_iv", "states": len(x0), "times": len(TIMES), "results": results}))


if __name__ == "__main__":
    main()
