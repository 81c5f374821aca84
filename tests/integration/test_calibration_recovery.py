"""Recovery: on synthetic data drawn through the same readouts from known parameters, the calibration's 90 %
posterior intervals cover the truth at their nominal rate.

The truths are drawn from the prior (so coverage is nominal exactly when the posterior is right: simulation-based
calibration, Talts et al. 2018), the data from the likelihood the calibration uses: each measurement of six studies
of the library read through its own readout, with a study offset and its own error; a bound stays a bound when the
synthetic reading respects it, else the reading is reported as a value. ~10 min on 2 cores.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats
from tests.conftest import CONFIGS

from biodist.config.calibration import CalibrationSettings
from biodist.studies.calibration.likelihood import ABOVE, BELOW, NORMAL, Terms, predictive_draws
from biodist.studies.calibration.problem import Problem
from biodist.studies.calibration.sampler import run_sampler
from biodist.studies.validate import load_datasets

CALIBRATION = CONFIGS / "calibration" / "bm_msc.toml"
#: Studies with informative amounts, ratios, bounds and a half-life, on few scenarios (a quick likelihood).
STUDIES = ("bonios2011", "gholamrezanezhad2011", "lee2009", "toma2009", "tossios2008", "jasmin2012")
DATASETS = 50
LEVEL = 0.9


def synthetic(terms: Terms, reading: np.ndarray) -> Terms:
    """The terms with synthetic readings: values at the reading; a bound kept where the reading respects it."""
    keep_below = (terms.kind == BELOW) & (reading < terms.hi)
    keep_above = (terms.kind == ABOVE) & (reading > terms.lo)
    kind = np.where(keep_below, BELOW, np.where(keep_above, ABOVE, NORMAL))
    lo = np.where(kind == NORMAL, reading, terms.lo)
    hi = np.where(kind == NORMAL, reading, terms.hi)
    return dataclasses.replace(terms, kind=kind, lo=lo, hi=hi)


def coverage(datasets: int = DATASETS, seed: int = 20261202) -> tuple[tuple[str, ...], np.ndarray]:
    """How many of ``datasets`` synthetic libraries' 90 % posterior intervals cover the truth, per quantity."""
    settings = CalibrationSettings.load(CALIBRATION)
    library = [(p, d) for p, d in load_datasets(CONFIGS / "validation") if d.name in STUDIES]
    problem = Problem.build(settings, CALIBRATION.parent, datasets=library)
    rng = np.random.default_rng(seed)
    covered = np.zeros(problem.ndim, dtype=int)
    for k in range(datasets):
        truth = problem.draw_prior(1, rng)
        reading = predictive_draws(problem.log_pred(truth), truth[:, -1], problem.terms, rng)[0]
        fake = dataclasses.replace(problem, terms=synthetic(problem.terms, reading))
        chains = run_sampler(fake, walkers=16, steps=1000, burn=300, seed=k, workers=2)
        low, high = np.quantile(chains.samples.reshape(-1, problem.ndim), [(1 - LEVEL) / 2, (1 + LEVEL) / 2], axis=0)
        covered += (low <= truth[0]) & (truth[0] <= high)
    return problem.names, covered


@pytest.mark.slow
def test_posterior_intervals_cover_the_truth():
    names, covered = coverage()
    # each quantity: binomial(50, 0.9) is at least its 0.1 % point (37) with probability 0.999
    lowest = int(stats.binom.ppf(0.001, DATASETS, LEVEL))
    assert (covered >= lowest).all(), dict(zip(names, covered.tolist(), strict=True))
    # all quantities pooled: within 3 SD of nominal, the SD of one quantity's rate (the SD of a mean of correlated
    # rates is at most that); too wide intervals (over-coverage) fail as well as too narrow
    pooled = covered.sum() / (DATASETS * len(names))
    sd = math.sqrt(LEVEL * (1 - LEVEL) / DATASETS)
    assert abs(pooled - LEVEL) < 3 * sd, pooled


if __name__ == "__main__":  # python tests/integration/test_calibration_recovery.py: print the coverage
    import time

    began = time.perf_counter()
    names, covered = coverage()
    print(
        {n: int(c) for n, c in zip(names, covered, strict=True)},
        f"of {DATASETS}",
        f"{time.perf_counter() - began:.0f} s",
    )
