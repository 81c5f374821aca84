"""The loop users write — change parameters, simulate, read the counts — beside libRoadRunner doing the same.

Each iteration draws new values of three parameters of the default human scenario (lung pass
fraction, lung half-life, lodged half-life: no two iterations alike, so no cache can answer) and
computes the expected counts at the scenario's six report times:

* ``biodist``: ``biodist.simulate(scenario.with_values(values))`` — validated copy, compile, one
  solve, every view (cells, label, exposure);
* ``biodist_cells``: the same with ``label=False, exposure=False`` — the outputs libRoadRunner gives;
* ``libroadrunner``: the exported SBML (``biodist export-sbml``) loaded once; each iteration sets
  the rate constants those three values imply (``k_venous_blood__lung``, ``k_venous_blood__arterial_blood``,
  ``k_lung__cleared`` and every bed's ``k_<bed>__cleared``), resets and simulates (CVODE defaults).

The three run interleaved in rounds (so that a slower moment of the machine hits them alike); the
best round of each is reported. Prints one JSON object::

    {"iterations", "rounds", "results": [{"loop", "us_per_iteration", "iterations_per_second",
     "speed_vs_libroadrunner"}], "max_difference_fraction_of_dose"}

Run: ``python benchmarks/bench_loop.py [--iterations 2000] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np

import biodist
from biodist.io.sbml import to_sbml

SCENARIO = Path(__file__).resolve().parents[1] / "configs" / "human_msc_iv.toml"


def draws(n: int, seed: int = 0) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    return [
        {"cell.lung_pass_fraction": p, "cell.lung_half_life_h": h, "cell.lodged_half_life_h": lodged}
        for p, h, lodged in rng.uniform([0.015, 8.0, 8.0], [0.037, 72.0, 72.0], (n, 3)).tolist()
    ]


def roadrunner_loop(scenario: biodist.Scenario):
    import roadrunner

    rr = roadrunner.RoadRunner(to_sbml(scenario))
    model = biodist.compile_model(scenario)
    rr.timeCourseSelections = list(model.compartments)
    k_v = model.rates["venous_to_lung_per_h"]
    beds = [c for c in model.compartments if f"k_{c}__cleared" in rr.model.getGlobalParameterIds()]
    beds = [b for b in beds if b not in ("venous_blood", "arterial_blood", "lung")]
    grid = [0.0, *scenario.times_h]

    def one(values: dict[str, float]) -> np.ndarray:
        p = values["cell.lung_pass_fraction"]
        rr.reset()
        rr.setValue("k_venous_blood__lung", k_v * (1.0 - p))
        rr.setValue("k_venous_blood__arterial_blood", k_v * p)
        rr.setValue("k_lung__cleared", math.log(2.0) / values["cell.lung_half_life_h"])
        lodged = math.log(2.0) / values["cell.lodged_half_life_h"]
        for bed in beds:
            rr.setValue(f"k_{bed}__cleared", lodged)
        return np.asarray(rr.simulate(times=grid))[1:].T

    return one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    scenario = biodist.Scenario.load(SCENARIO)
    rr_one = roadrunner_loop(scenario)
    loops = {
        "biodist": lambda v: biodist.simulate(scenario.with_values(v)).counts,
        "biodist_cells": lambda v: biodist.simulate(scenario.with_values(v), label=False, exposure=False).counts,
        "libroadrunner": rr_one,
    }
    values = draws(args.iterations)
    check = values[0]  # the same answer from both: the comparison is of like with like
    difference = float(np.abs(loops["biodist"](check) - rr_one(check)).max() / scenario.dose_cells)
    for loop in loops.values():  # warm-up
        for v in values[:100]:
            loop(v)
    best = dict.fromkeys(loops, math.inf)
    for r in range(args.rounds):
        batch = draws(args.iterations, seed=r + 1)
        for name, loop in loops.items():
            start = time.perf_counter()
            for v in batch:
                loop(v)
            best[name] = min(best[name], (time.perf_counter() - start) / args.iterations)
    rr = best["libroadrunner"]
    results = [
        {
            "loop": name,
            "us_per_iteration": round(seconds * 1e6, 1),
            "iterations_per_second": round(1 / seconds, 1),
            "speed_vs_libroadrunner": round(rr / seconds, 2),
        }
        for name, seconds in best.items()
    ]
    print(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count()},
                "iterations": args.iterations,
                "rounds": args.rounds,
                "results": results,
                "max_difference_fraction_of_dose": difference,
            }
        )
    )


if __name__ == "__main__":
    main()
