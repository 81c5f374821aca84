"""A full calibration of the default product on the shipped library, on this machine, beside a libRoadRunner loop.

The headline is the wall time of ``biodist.calibrate()`` with the shipped settings
(``configs/calibration/bm_msc.toml``: 16 walkers x 8000 steps, 2 processes), target < 600 s on
2 cores, with its convergence (largest R-hat, smallest bulk/tail ESS: targets < 1.01 and >= 400).

For scale, the cost of one model evaluation: ``biodist`` — the calibration's predictor, every
measurement of the library for a batch of 16 parameter sets (20 scenarios, each compiled once per
batch and solved for its readouts: cells and the tracer chains), per parameter set and per scenario;
``libroadrunner`` — the exported SBML of the default human scenario (cells only, no tracer), a
parameter set per iteration (set the rates, reset, simulate at the report times; as in bench_loop.py).
Fresh parameter draws every call: no cache can answer.

Prints one JSON object::

    {"calibration": {"seconds", "target_seconds", "steps", "walkers", "workers", "max_r_hat", "min_ess_bulk",
     "min_ess_tail", "converged"}, "evaluation": [{"engine", "us_per_scenario_evaluation", "what"}]}

Run: ``python benchmarks/bench_calibrate.py [--steps N]`` (fewer steps: a quicker, unconverged look)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CALIBRATION = ROOT / "configs" / "calibration" / "bm_msc.toml"
SCENARIO = ROOT / "configs" / "human_msc_iv.toml"


def predictor_cost(rounds: int = 20) -> tuple[float, int]:
    from biodist.config.calibration import CalibrationSettings
    from biodist.studies.calibration import Problem

    problem = Problem.build(CalibrationSettings.load(CALIBRATION), CALIBRATION.parent)
    rng = np.random.default_rng(1)
    problem.log_pred(problem.draw_prior(16, rng))  # first call: imports
    best = np.inf
    for _ in range(rounds):
        x = problem.draw_prior(16, rng)
        start = time.perf_counter()
        problem.log_pred(x)
        best = min(best, time.perf_counter() - start)
    n = problem.predictor.n_scenarios
    return best / (16 * n) * 1e6, n


def roadrunner_cost(iterations: int = 2000) -> float:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import biodist
    from bench_loop import draws, roadrunner_loop

    one = roadrunner_loop(biodist.Scenario.load(SCENARIO))
    values = draws(iterations, seed=3)
    one(values[0])
    start = time.perf_counter()
    for v in values:
        one(v)
    return (time.perf_counter() - start) / iterations * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="steps (default: the shipped file's)")
    args = parser.parse_args()
    import biodist

    ours, scenarios = predictor_cost()
    peer = roadrunner_cost()
    start = time.perf_counter()
    result = biodist.calibrate(CALIBRATION, steps=args.steps, workers=2)
    seconds = time.perf_counter() - start
    d = result.diagnostics.values()
    settings = result.info["settings"]["sampler"]
    print(
        json.dumps(
            {
                "calibration": {
                    "seconds": round(seconds, 1),
                    "target_seconds": 600,
                    "steps": settings["steps"],
                    "walkers": settings["walkers"],
                    "workers": 2,
                    "measurements": result.info["measurements"],
                    "max_r_hat": round(max(x["r_hat"] for x in d), 4),
                    "min_ess_bulk": round(min(x["ess_bulk"] for x in d)),
                    "min_ess_tail": round(min(x["ess_tail"] for x in d)),
                    "converged": result.converged,
                },
                "evaluation": [
                    {
                        "engine": "biodist",
                        "us_per_scenario_evaluation": round(ours, 1),
                        "what": f"calibration predictor, batches of 16 parameter sets x {scenarios} scenarios, "
                        "cells and tracer chains",
                    },
                    {
                        "engine": "libroadrunner",
                        "us_per_scenario_evaluation": round(peer, 1),
                        "what": "default human scenario's SBML, one parameter set per call, cells only",
                    },
                ],
            }
        )
    )


if __name__ == "__main__":
    main()
