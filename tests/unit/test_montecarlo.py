"""Monte Carlo against exact oracles, with fixed seeds and stated tolerances.

Statistical tests use significance 1e-3 (chi-square with bins pooled to an
expected count >= 5) and means within 4 standard errors. With fixed seeds they
are deterministic; a wrong sampler fails them by many standard errors.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy import stats
from tests.conftest import DEFAULT_SCENARIO

import biodist
from biodist.model import ARTERIAL, VENOUS, compile_model
from biodist.solvers import solve
from biodist.solvers.montecarlo._twin import walk_cells_numpy
from biodist.solvers.montecarlo.tables import chain_tables

ALPHA = 1e-3


def scenario(**over):
    return biodist.load_scenario(DEFAULT_SCENARIO, {"times_h": [0.01, 0.25, 6, 24, 72], **over})


def pooled_chisquare(observed_values: np.ndarray, pmf: np.ndarray) -> float:
    """p-value of observed integer samples against a pmf on 0..len(pmf)-1 (tail folded into the last bin)."""
    n = len(observed_values)
    expected = n * pmf
    observed = np.bincount(np.minimum(observed_values, len(pmf) - 1), minlength=len(pmf)).astype(float)
    bins_o, bins_e, acc_o, acc_e = [], [], 0.0, 0.0
    for o, e in zip(observed, expected, strict=True):
        acc_o, acc_e = acc_o + o, acc_e + e
        if acc_e >= 5:
            bins_o.append(acc_o)
            bins_e.append(acc_e)
            acc_o = acc_e = 0.0
    if acc_e > 0:
        bins_o[-1] += acc_o
        bins_e[-1] += acc_e
    return float(stats.chisquare(bins_o, bins_e).pvalue)


def binomial_pmf(n: int, p: float) -> np.ndarray:
    k = np.arange(n + 1)
    pmf = stats.binom.pmf(k, n, p)
    pmf[-1] += 1 - pmf.sum()
    return pmf


@pytest.mark.parametrize("method", ["per_cell", "aggregated"])
@pytest.mark.parametrize(("compartment", "time_index"), [("lung", 2), ("cleared", 3), ("lung", 4), ("liver", 1)])
def test_counts_are_binomial(method, compartment, time_index):
    sc = scenario()
    n = 20_000 if compartment != "liver" else 200_000
    res = biodist.monte_carlo(sc, n_cells=n, replicates=400, seed=11, method=method)
    i = res.index(compartment)
    p = res.expected[0, i, time_index] / n
    pvalue = pooled_chisquare(res.counts[:, i, time_index], binomial_pmf(n, p))
    assert pvalue > ALPHA, (compartment, p, pvalue)


def assert_mean_matches_ode(res):
    """Every compartment and time: the count summed over replicates is exactly Binomial(R N, p_ODE).

    Replicates and cells are independent, so the sum is binomial; an exact two-sided test per
    compartment and time, Bonferroni-corrected to a family-wise alpha of 1e-3.
    """
    n_total = res.n_cells * res.replicates
    sums = res.counts.sum(axis=0)
    p = np.clip(res.expected[0] / res.n_cells, 0.0, 1.0)
    alpha = ALPHA / sums.size
    for (i, j), k in np.ndenumerate(sums):
        pij = float(p[i, j])
        if pij in (0.0, 1.0):
            assert k == round(pij * n_total), (res.compartments[i], res.times_h[j])
            continue
        pvalue = stats.binomtest(int(k), n_total, pij).pvalue
        assert pvalue > alpha, (res.compartments[i], res.times_h[j], int(k), pij * n_total, pvalue)


@pytest.mark.parametrize("heterogeneity", ["none", "size"])
def test_per_cell_mean_matches_ode(heterogeneity):
    # a large knee flow too, so that the target's counts are big enough to test at low p as well
    sc = scenario(
        heterogeneity=heterogeneity,
        **{"cell.lung_release_per_h": 0.01, "species.organs.knee.flow_fraction": 0.01},
    )
    res = biodist.monte_carlo(sc, n_cells=1_000_000, replicates=8, seed=5)
    assert_mean_matches_ode(res)


@pytest.mark.parametrize("method", ["per_cell", "aggregated"])
def test_release_from_beds_matches_ode(method):
    """Cells released from every bed (fast, so that many are recirculated; gut's through the liver's bed):
    both samplers' counts are Binomial(R·N, p_ODE) in every compartment and time."""
    sc = scenario(
        **{
            "cell.retention_per_pass.default": 0.3,
            "cell.release_per_h.default": 0.2,
            "cell.release_per_h.gut": 0.5,
            "cell.lodged_half_life_h": 1e3,
        }
    )
    n = 200_000 if method == "per_cell" else 10**8
    res = biodist.monte_carlo(sc, n_cells=n, replicates=8, seed=9, method=method)
    assert_mean_matches_ode(res)


def test_per_cell_mean_matches_ode_during_infusion():
    sc = scenario(infusion_minutes=30)
    res = biodist.monte_carlo(sc, n_cells=500_000, replicates=8, seed=6)
    assert_mean_matches_ode(res)
    assert res.counts[:, :, 0].sum(axis=1).max() < 500_000  # at 0.01 h most cells are not yet infused


def test_aggregated_mean_matches_ode_with_size_and_infusion():
    sc = scenario(heterogeneity="size", infusion_minutes=30)
    res = biodist.monte_carlo(sc, n_cells=10**9, replicates=50, seed=7, method="aggregated")
    assert_mean_matches_ode(res)


@pytest.mark.parametrize(("compartment", "time_index"), [("lung", 3), ("cleared", 2), ("kidney", 1)])
def test_per_cell_and_aggregated_agree_in_distribution(compartment, time_index):
    sc = scenario(**{"cell.retention_per_pass.default": 0.2})
    kw = {"n_cells": 50_000, "replicates": 400}
    a = biodist.monte_carlo(sc, seed=1, method="per_cell", **kw).counts[:, :, time_index]
    b = biodist.monte_carlo(sc, seed=2, method="aggregated", **kw).counts[:, :, time_index]
    i = biodist.simulate(sc).compartments.index(compartment)
    both = np.concatenate([a[:, i], b[:, i]])
    edges = np.unique(np.quantile(both, np.linspace(0, 1, 11)))
    table = np.array([np.histogram(x, np.append(edges[:-1], edges[-1] + 1))[0] for x in (a[:, i], b[:, i])])
    table = table[:, table.sum(axis=0) > 0]
    assert stats.chi2_contingency(table).pvalue > ALPHA


def test_cumulative_arrivals_bound_the_count_present():
    sc = scenario(target="liver")
    res = biodist.monte_carlo(sc, n_cells=200_000, replicates=10, seed=3)
    arrivals = res.histories["cumulative_arrivals"]
    assert (arrivals >= res.target_counts()).all()
    assert (np.diff(arrivals, axis=1) >= 0).all()
    assert (arrivals[:, -1] > res.target_counts()[:, -1]).any()  # some lodged cells have died by 72 h
    assert np.isfinite(res.histories["first_arrival_h"]).all()
    assert (res.histories["first_arrival_h"] <= res.times_h[np.argmax(arrivals > 0, axis=1)]).all()


def test_same_seed_same_counts_different_seed_different_counts():
    sc = scenario()
    a = biodist.monte_carlo(sc, n_cells=300_000, replicates=2, seed=42)
    b = biodist.monte_carlo(sc, n_cells=300_000, replicates=2, seed=42)
    c = biodist.monte_carlo(sc, n_cells=300_000, replicates=2, seed=43)
    assert np.array_equal(a.counts, b.counts)
    assert np.array_equal(a.histories["cumulative_arrivals"], b.histories["cumulative_arrivals"])
    assert not np.array_equal(a.counts, c.counts)


def test_thread_count_does_not_change_counts():
    """Separate processes with 1 and 2 numba threads: identical counts for one seed."""
    import hashlib
    import subprocess
    import sys

    code = (
        "import hashlib, biodist; "
        f"sc = biodist.load_scenario({str(DEFAULT_SCENARIO)!r}, {{'heterogeneity': 'size'}}); "
        "r = biodist.monte_carlo(sc, n_cells=400_000, replicates=2, seed=9); "
        "print(hashlib.sha256(r.counts.tobytes() + r.histories['cumulative_arrivals'].tobytes()).hexdigest())"
    )
    digests = set()
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1 and hashlib.sha256(b"").hexdigest() not in digests


def test_chunk_seeds_do_not_repeat():
    """64-bit chunk seeds: no two chunks of a 10^10-cell run share a stream."""
    seqs = np.random.SeedSequence(170).spawn(100)
    seeds = np.concatenate([s.generate_state(1600, dtype=np.uint64) for s in seqs])
    assert len(np.unique(seeds)) == len(seeds)


def test_arrivals_equal_presence_when_the_target_keeps_its_cells():
    """Lodged cells that never die or leave: cells present in the target = cells that ever arrived, exactly."""
    sc = scenario(target="kidney", **{"cell.lodged_half_life_h": float("inf"), "cell.lung_release_per_h": 0.01})
    res = biodist.monte_carlo(sc, n_cells=100_000, replicates=5, seed=12)
    np.testing.assert_array_equal(res.histories["cumulative_arrivals"], res.target_counts())


def test_first_arrival_follows_its_exact_distribution():
    """With a persistent target, P(first arrival <= t) = 1 - (1 - F(t))^N, F the ODE's target fraction; KS test."""
    sc = scenario(target="brain", times_h=[72.0], **{"cell.lodged_half_life_h": float("inf")})
    n = 3000
    res = biodist.monte_carlo(sc, n_cells=n, replicates=300, seed=13)
    first = res.histories["first_arrival_h"]
    reached = first[np.isfinite(first)]
    grid = np.concatenate([[0.0], np.geomspace(1e-5, 72.0, 4000)])
    frac = biodist.simulate(sc, times_h=grid).cells("brain") / sc.dose_cells
    cdf_grid = 1 - (1 - frac) ** n
    cdf = lambda t: np.interp(t, grid, cdf_grid) / cdf_grid[-1]  # noqa: E731 - conditional on arrival by 72 h
    assert abs(len(reached) / len(first) - cdf_grid[-1]) < 4 * np.sqrt(cdf_grid[-1] * (1 - cdf_grid[-1]) / len(first))
    assert stats.kstest(reached, cdf).pvalue > ALPHA


def test_intra_arterial_cells_arrive_on_entry():
    sc = scenario(route="intra_arterial", target="knee")
    res = biodist.monte_carlo(sc, n_cells=200_000, replicates=3, seed=14)
    assert (res.histories["cumulative_arrivals"] >= res.target_counts()).all()
    assert (res.histories["first_arrival_h"] == 0.0).all()


def twin_and_kernel(sc, n, seed):
    classes = compile_model(sc)
    tables = chain_tables([(classes.weights, classes.cell_chains)])
    idx = [classes.index(x) for x in (sc.target, VENOUS, ARTERIAL, "lung")]
    twin = walk_cells_numpy(tables, 0, n, np.asarray(sc.times_h), *idx, np.random.default_rng(seed))
    kern = biodist.monte_carlo(sc, n_cells=n, replicates=1, seed=seed)
    return classes, twin, kern


def test_numpy_twin_agrees_with_kernel():
    """Independent implementation: per-compartment counts of 200,000 cells within 4 SE of each other."""
    sc = scenario(heterogeneity="size", **{"cell.lung_release_per_h": 0.02})
    n = 200_000
    _, twin, kern = twin_and_kernel(sc, n, 0)
    p = kern.expected[0] / n
    se = np.sqrt(2 * np.maximum(n * p * (1 - p), 0.25))  # SE of a difference of two independent counts
    assert (np.abs(twin["counts"] - kern.counts[0]) <= 4 * se).all()
    assert twin["class_passed"].sum() / twin["transits"] == pytest.approx(kern.first_pass_lung_fraction(), abs=0.002)


def test_histories_match_their_expectations():
    """Lung passes and time in blood per cell: both samplers against the ODE's exposure integrals.

    Homogeneous cells keep the per-cell pass count nearly Poisson; 4 SE with SE = sqrt(2 mean / n) allows
    twice the Poisson variance.
    """
    sc = scenario(**{"cell.lung_release_per_h": 0.02})
    n = 200_000
    classes, twin, kern = twin_and_kernel(sc, n, 1)
    m = classes
    exposure = solve(m.generator, m.initial, [sc.times_h[-1]], method="expm", exposure=True)[1][:, 0] / m.dose_cells
    v, a = m.index(VENOUS), m.index(ARTERIAL)
    passes = m.generator[a, v] * exposure[v]  # rate of venous -> arterial jumps, integrated
    blood_h = exposure[v] + exposure[a]
    for got in (twin["lung_passes"] / n, kern.histories["lung_passes_per_cell"][0]):
        assert abs(got - passes) <= 4 * np.sqrt(2 * passes / n)
    for got in (twin["circulating_h"] / n, kern.histories["circulating_h_per_cell"][0]):
        assert got == pytest.approx(blood_h, rel=0.05)


def test_size_filtering_goes_the_predicted_way():
    sc = scenario(heterogeneity="size")
    res = biodist.monte_carlo(sc, n_cells=2_000_000, replicates=1, seed=4)
    all_d, passed_d = res.passer_diameter_um()
    assert passed_d < all_d - 5  # lung passers are much smaller (about 15 vs 26.5 um)
    n_transits = res.histories["lung_transits"].sum()
    p = sc.cell.lung_pass_fraction
    assert abs(res.first_pass_lung_fraction() - p) <= 4 * np.sqrt(p * (1 - p) / n_transits)
    # exact: the retention on a second lung pass of the cells that passed once is below the homogeneous 1 - p
    classes = compile_model(sc)
    pl = np.array([c.first_pass["lung"] for c in classes.circulations])  # lodging prob per class
    passing = 1 - pl
    second_pass_retention = 1 - (classes.weights * passing**2).sum() / (classes.weights * passing).sum()
    assert second_pass_retention < 1 - p - 0.2


def test_uncertainty_spreads_wider_than_counting_noise():
    sc = scenario(target="kidney")
    res = biodist.monte_carlo(sc, n_cells=200_000, replicates=60, seed=8, uncertainty=True)
    for key, values in res.parameters.items():
        dist = sc.uncertain_parameters()[key]
        assert (values >= (dist.low if dist.low is not None else -np.inf)).all()
        assert (values <= (dist.high if dist.high is not None else np.inf)).all()
    spread = res.spread()
    counts = res.target_counts()
    binom_sd = np.sqrt(counts.mean(axis=0) * (1 - counts.mean(axis=0) / res.n_cells))
    assert (spread["total"][1:] > 2 * binom_sd[1:]).all()
    assert (spread["parameters"][1:] > spread["counting"][1:]).all()


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        ({"replicates": 0}, "replicates = 0"),
        ({"n_cells": -5}, "n_cells = -5"),
        ({"method": "gillespie"}, "allowed: per_cell, aggregated"),
    ],
)
def test_bad_arguments(kw, fragment):
    with pytest.raises(biodist.ConfigError, match=fragment):
        biodist.monte_carlo(scenario(), **({"n_cells": 10, "replicates": 1} | kw))


def test_labelled_outputs():
    res = biodist.monte_carlo(scenario(), n_cells=1000, replicates=3, seed=1, uncertainty=True)
    ds = res.to_xarray()
    assert ds["cells"].dims == ("replicate", "compartment", "time_h")
    assert int(ds["cells"].sel(replicate=0).sum("compartment").isel(time_h=-1)) == 1000
    assert "cell.lung_pass_fraction" in ds
    df = res.to_dataframe()
    assert len(df) == 3 * len(res.compartments) * len(res.times_h)
