"""Draws of uncertain parameters against their declared distributions (Kolmogorov–Smirnov).

Oracle: ``scipy.stats`` distributions built here from the raw ``[uncertainty]`` table of
``configs/human_msc_iv.toml`` (read with :mod:`tomllib`) or from the parameters written in the
test: uniform, log-uniform, normal and log-normal, truncated to ``[low, high]`` where given
(the truncated log-normal's CDF is written out). 4000 draws with a fixed seed must pass a
one-sample KS test at p > 0.001, and draws from the wrong law must be rejected at p < 1e-6, so
a sampler that drew uniformly for a log-uniform spec, or took the GSD for the log-SD, fails.
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest
from scipy import stats
from tests.oracles.handbuilt import SCENARIO

import biodist
from biodist.config.uncertainty import Distribution, sample_parameters

N = 4000


def declared() -> dict[str, dict]:
    with open(SCENARIO, "rb") as fh:
        return tomllib.load(fh)["uncertainty"]


def truncated_lognormal_cdf(median: float, gsd: float, low: float | None, high: float | None):
    """CDF of ``exp(Z)``, ``Z ~ N(ln median, ln gsd)`` conditioned on ``low <= exp(Z) <= high``."""
    mu, s = math.log(median), math.log(gsd)
    a = 0.0 if low is None else stats.norm.cdf((math.log(low) - mu) / s)
    b = 1.0 if high is None else stats.norm.cdf((math.log(high) - mu) / s)

    def cdf(x):
        z = stats.norm.cdf((np.log(np.asarray(x, dtype=float)) - mu) / s)
        return np.clip((z - a) / (b - a), 0.0, 1.0)

    return cdf


def reference_cdf(spec: dict):
    """The declared law's CDF, from the table's own numbers."""
    kind, low, high = spec["distribution"], spec.get("low"), spec.get("high")
    if kind == "uniform":
        return stats.uniform(loc=low, scale=high - low).cdf
    if kind == "log-uniform":
        return stats.loguniform(low, high).cdf
    if kind == "normal":
        lo = -np.inf if low is None else (low - spec["mean"]) / spec["sd"]
        hi = np.inf if high is None else (high - spec["mean"]) / spec["sd"]
        return stats.truncnorm(lo, hi, loc=spec["mean"], scale=spec["sd"]).cdf
    return truncated_lognormal_cdf(spec["median"], spec["gsd"], low, high)


#: Laws written in the test (the shipped scenario has no normal and no untruncated log-normal).
EXTRA = {
    "normal": {"distribution": "normal", "mean": 3.0, "sd": 0.5},
    "normal, truncated": {"distribution": "normal", "mean": 0.3, "sd": 0.2, "low": 0.0, "high": 0.5},
    "log-normal": {"distribution": "log-normal", "median": 25.0, "gsd": 1.95},
    "log-normal, truncated above": {"distribution": "log-normal", "median": 2e-4, "gsd": 3.0, "high": 1e-3},
}


def all_specs() -> dict[str, dict]:
    return {k: {kk: vv for kk, vv in v.items() if kk != "source"} for k, v in declared().items()} | EXTRA


@pytest.mark.parametrize("key", sorted(all_specs()))
def test_draws_follow_the_declared_distribution(key):
    """Oracle: one-sample KS test of 4000 draws against the scipy CDF of the declared law."""
    spec = all_specs()[key]
    draws = Distribution(**spec).sample(N, np.random.default_rng(20240607))
    assert draws.shape == (N,)
    if spec.get("low") is not None:
        assert draws.min() >= spec["low"]
    if spec.get("high") is not None:
        assert draws.max() <= spec["high"]
    assert stats.kstest(draws, reference_cdf(spec)).pvalue > 1e-3


def test_scenario_draws_through_the_monte_carlo_subjects():
    """Oracle: KS of the draws the Monte Carlo's virtual subjects use (``parameter_sets``), key by key."""
    from biodist.solvers.montecarlo.subjects import parameter_sets

    scenario = biodist.load_scenario(SCENARIO)
    sets, draws = parameter_sets(scenario, 2000, True, np.random.SeedSequence(7))
    spec = declared()
    assert set(draws) == set(spec)
    for key, values in draws.items():
        assert stats.kstest(values, reference_cdf(spec[key])).pvalue > 1e-3, key
    # each virtual subject carries its own draw
    assert sets[5].cell.lung_pass_fraction == draws["cell.lung_pass_fraction"][5]


def test_sample_parameters_uses_the_spec_of_each_key():
    """Oracle: KS per key of ``sample_parameters`` on the scenario's parsed table (keys not mixed up)."""
    scenario = biodist.load_scenario(SCENARIO)
    draws = sample_parameters(scenario.uncertainty, N, np.random.default_rng(3))
    for key, spec in declared().items():
        assert stats.kstest(draws[key], reference_cdf(spec)).pvalue > 1e-3, key


def test_negative_controls_are_rejected():
    """The KS oracle can fail: draws from a neighbouring wrong law are rejected at p < 1e-6."""
    rng = np.random.default_rng(11)
    spec = declared()
    # uniform draws against the log-uniform knee-flow spec (1e-4 .. 1e-2), and the reverse
    knee = spec["species.organs.knee.flow_fraction"]
    uniform = rng.uniform(knee["low"], knee["high"], N)
    assert stats.kstest(uniform, reference_cdf(knee)).pvalue < 1e-6
    log_uniform = Distribution(**{k: v for k, v in knee.items() if k != "source"}).sample(N, rng)
    assert stats.kstest(log_uniform, stats.uniform(knee["low"], knee["high"] - knee["low"]).cdf).pvalue < 1e-6
    # a log-normal drawn with the GSD as its log-SD, against the declared one
    law = EXTRA["log-normal"]
    wrong = np.exp(rng.normal(math.log(law["median"]), law["gsd"], N))
    assert stats.kstest(wrong, reference_cdf(law)).pvalue < 1e-6
    # a truncated law drawn without truncation (clipped at the bound instead: 7 % of the mass lies above it)
    cut = EXTRA["log-normal, truncated above"]
    clipped = np.minimum(np.exp(rng.normal(math.log(cut["median"]), math.log(cut["gsd"]), N)), cut["high"])
    assert stats.kstest(clipped, reference_cdf(cut)).pvalue < 1e-6
    # a normal with the SD taken as a variance
    normal = EXTRA["normal"]
    assert stats.kstest(rng.normal(normal["mean"], normal["sd"] ** 2, N), reference_cdf(normal)).pvalue < 1e-6
