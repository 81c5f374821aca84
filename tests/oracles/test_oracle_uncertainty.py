"""Draws of uncertain parameters against their declared distributions (Kolmogorov–Smirnov).

Oracle: ``scipy.stats`` distributions built here from the raw ``[uncertainty]`` tables of the
default scenario's species and cell product (``configs/species/human.toml``, ``configs/cells/bm_msc.toml``,
read with :mod:`tomllib`, keys prefixed ``species.`` and ``cell.``) or from the parameters written in the
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
from tests.oracles.handbuilt import CONFIGS, SCENARIO

import biodist
from biodist.config.uncertainty import Distribution, sample_parameters

N = 4000


def declared() -> dict[str, dict]:
    """The raw tables: the species' and the cell product's (the default scenario declares none of its own)."""
    out = {}
    for prefix, path in (("species", CONFIGS / "species" / "human.toml"), ("cell", CONFIGS / "cells" / "bm_msc.toml")):
        with open(path, "rb") as fh:
            out |= {f"{prefix}.{k}": v for k, v in tomllib.load(fh)["uncertainty"].items()}
    with open(SCENARIO, "rb") as fh:
        assert "uncertainty" not in tomllib.load(fh)
    return out


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
    sets, draws = parameter_sets(scenario, 2000, "ranges", np.random.SeedSequence(7))  # the declared laws
    spec = declared()
    assert set(draws) == set(spec)
    for key, values in draws.items():
        assert stats.kstest(values, reference_cdf(spec[key])).pvalue > 1e-3, key
    # each virtual subject carries its own draw
    assert sets[5].cell.lung_pass_fraction == draws["cell.lung_pass_fraction"][5]


def test_sample_parameters_uses_the_spec_of_each_key():
    """Oracle: KS per key of ``sample_parameters`` on the scenario's parsed table (keys not mixed up)."""
    scenario = biodist.load_scenario(SCENARIO)
    draws = sample_parameters(scenario.uncertain_parameters(), N, np.random.default_rng(3))
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


def test_the_species_brings_its_own_physiology():
    """``--set species=rat`` on the human scenario, and the rat scenario, draw rat cardiac outputs (the rat file's
    range, 0.083-0.0884 L/min), never the human 5.2-6.5 L/min; the product's ranges come along."""
    from biodist.solvers.montecarlo.subjects import parameter_sets

    with open(CONFIGS / "species" / "rat.toml", "rb") as fh:
        rat = tomllib.load(fh)["uncertainty"]["cardiac_output_l_per_min"]
    for scenario in (biodist.load_scenario(SCENARIO, {"species": "rat"}), biodist.load_scenario("rat_msc_iv")):
        sets, draws = parameter_sets(scenario, 500, True, np.random.SeedSequence(1))
        co = draws["species.cardiac_output_l_per_min"]
        assert rat["low"] <= co.min() and co.max() <= rat["high"]
        assert stats.kstest(co, reference_cdf(rat)).pvalue > 1e-3
        assert sets[3].species.cardiac_output_l_per_min == co[3] and "cell.lung_pass_fraction" in draws


@pytest.mark.parametrize("name", ["human_msc_iv", "human_knee", "human_heart", "human_brain", "rat_msc_iv",
                                  "mouse_msc_iv"])  # fmt: skip
def test_every_shipped_scenario_has_virtual_subjects(name, tmp_path, capsys):
    """``mc --uncertainty`` runs for every shipped scenario; each replicate's draws are columns of counts.parquet."""
    import pandas as pd

    from biodist.cli import main

    out = tmp_path / "mc"
    argv = [
        "mc",
        name,
        "--uncertainty",
        "--method",
        "aggregated",
        "--replicates",
        "8",
        "--seed",
        "2",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    frame = pd.read_parquet(out / "counts.parquet")
    keys = [c for c in frame.columns if c.startswith(("cell.", "species."))]
    assert "cell.lung_pass_fraction" in keys and frame.columns[0] == "replicate"
    per_replicate = frame.groupby("replicate")[keys].nunique()
    assert (per_replicate == 1).all().all()  # one draw per replicate, repeated over its rows
    assert frame.groupby("replicate")["cell.lung_pass_fraction"].first().nunique() == 8


def test_a_default_off_its_median_is_flagged(capsys):
    """The human knee flow (5e-4) is not the median of its log-uniform 1e-4..1e-2 (1e-3): the output says so."""
    from biodist.cli import main
    from biodist.solvers.montecarlo.subjects import off_median

    scenario = biodist.load_scenario(SCENARIO)
    notes = off_median(scenario)
    assert any(n.startswith("species.organs.knee.flow_fraction:") and "0.001" in n for n in notes)
    assert not any(n.startswith("cell.lung_pass_fraction:") for n in notes)  # 0.026 is the middle of 1.5-3.7 %
    assert main(["mc", str(SCENARIO), "--uncertainty", "--method", "aggregated", "--replicates", "5", "--json"]) == 0
    import json

    assert json.loads(capsys.readouterr().out)["notes"] == list(notes)


@pytest.mark.parametrize("name", ["human_brain", "rat_msc_iv"])
def test_the_variance_split_adds_up(name):
    """Law of total variance, within Monte Carlo error: per replicate, D = (C - mean C)^2 - (E - mean E)^2 - v,
    with C the count, E its expectation and v = N p (1 - p) its binomial variance, has mean 0; the mean of D
    over 3000 virtual subjects lies within 5 of its standard errors at every report time."""
    scenario = biodist.load_scenario(name)
    mc = biodist.monte_carlo(scenario, None, 3000, seed=9, method="aggregated", uncertainty=True)
    i = mc.index(mc.target)
    c, e = mc.counts[:, i, :].astype(float), mc.expected[:, i, :]
    p = e / mc.n_cells
    d = (c - c.mean(axis=0)) ** 2 - (e - e.mean(axis=0)) ** 2 - mc.n_cells * p * (1 - p)
    se = d.std(axis=0, ddof=1) / np.sqrt(len(d))
    assert np.all(np.abs(d.mean(axis=0)) <= 5 * se + 1e-12)
    spread = mc.spread()
    total2, parts2 = spread["total"] ** 2, spread["parameters"] ** 2 + spread["counting"] ** 2
    assert np.all(np.abs(total2 - parts2) <= 5 * se * len(d) / (len(d) - 1) + 1e-9)
