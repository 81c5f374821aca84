"""Monte Carlo readouts (``mc --readout``, ``compare --readout``) against exact distributions.

Oracles:

* every unit of tracer is somewhere (in a row of the body, free, or in what left the body), so each
  replicate's rows add up to the number of cells exactly;
* one unit per cell moving independently on the tracer's chain makes each row of a readout at one time a
  binomial ``Bin(N, p)`` with ``p`` the exact solution of that chain (``biodist.simulate``, a second
  method): means within ``Z = 5`` standard errors ``sqrt(N p (1 - p) / R)`` and sample variances within
  the chi-square interval of a normal sample at ``ALPHA = 1e-3`` (Bonferroni over the rows tested);
* readouts that are functions of the counts (``bli``) are those counts, replicate by replicate;
* the cells' counts are bit-identical with and without a readout (its random stream is its own).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from tests.conftest import DEFAULT_SCENARIO

import biodist
from biodist.cli import main
from biodist.io.folders import load

Z = 5.0
ALPHA = 1e-3
N_CELLS = 20_000
REPLICATES = 400


def _scenario(target: str = "knee", route: str = "iv") -> biodist.Scenario:
    return biodist.Scenario.load(DEFAULT_SCENARIO).with_values({"target": target, "route": route})


def _check_binomial(samples: np.ndarray, p: np.ndarray, n: int, min_sd: float = 3.0) -> int:
    """Means and variances of (R, k, T) samples against Bin(n, p) per row and time; returns the cells tested."""
    mean, var = samples.mean(axis=0), samples.var(axis=0, ddof=1)
    expected_var = n * p * (1 - p)
    r = samples.shape[0]
    tested = expected_var >= min_sd**2  # enough spread for the normal approximations
    assert np.all(np.abs(mean - n * p)[tested] <= Z * np.sqrt(expected_var[tested] / r))
    alpha = ALPHA / max(1, int(tested.sum()))
    lo, hi = stats.chi2.ppf([alpha / 2, 1 - alpha / 2], r - 1) / (r - 1)
    ratio = var[tested] / expected_var[tested]
    assert np.all((lo <= ratio) & (ratio <= hi)), (ratio.min(), ratio.max(), lo, hi)
    return int(tested.sum())


@pytest.mark.parametrize("name", ["dna", "111In", "18F-FDG", "label"])
@pytest.mark.parametrize("method", ["aggregated", "per_cell"])
def test_readout_units_are_binomial_around_the_exact_solution(name, method):
    sc = _scenario()
    mc = biodist.monte_carlo(sc, N_CELLS, REPLICATES, seed=11, method=method, readout=name)
    ro = mc.readout
    assert ro.name == name and ro.samples.shape == (REPLICATES, len(ro.rows), len(sc.times_h))
    exact = biodist.simulate(sc, readouts=[name]).readouts[name]
    p = np.stack([exact[r] for r in ro.rows]) / sc.dose_cells
    assert np.allclose(ro.expected.mean(axis=0), N_CELLS * p, rtol=1e-9, atol=1e-9)
    assert _check_binomial(ro.samples, p, N_CELLS) >= 10
    assert np.all(ro.samples.sum(axis=1) == N_CELLS)  # every unit somewhere
    assert ro.spread == ("upper_bound" if name in ("111In", "18F-FDG") else "exact")


def test_a_readout_of_the_counts_is_the_counts_and_leaves_them_alone():
    sc = _scenario("brain")
    plain = biodist.monte_carlo(sc, 5000, 50, seed=3, method="per_cell")
    bli = biodist.monte_carlo(sc, 5000, 50, seed=3, method="per_cell", readout="bli")
    dna = biodist.monte_carlo(sc, 5000, 50, seed=3, method="per_cell", readout="dna")
    assert np.array_equal(plain.counts, bli.counts) and np.array_equal(plain.counts, dna.counts)
    rows = [plain.index(r) for r in bli.readout.rows]
    assert np.array_equal(bli.readout.samples, plain.counts[:, rows, :])
    assert "cleared" not in bli.readout.rows
    assert plain.readout is None and "readout" not in plain.to_dict()


def test_virtual_subjects_have_their_own_expected_readout():
    sc = biodist.Scenario.load(DEFAULT_SCENARIO)
    mc = biodist.monte_carlo(sc, 1000, 30, seed=5, method="aggregated", uncertainty=True, readout="dna")
    per_subject = mc.readout.expected[:, mc.readout.rows.index("lung"), -1]
    assert np.unique(per_subject.round(9)).size > 1  # drawn parameters change the DNA in the lung
    assert np.all(mc.readout.samples.sum(axis=1) == 1000)


def test_direct_injection_target_readout_counts_the_depot():
    sc = _scenario("knee", "direct")
    mc = biodist.monte_carlo(sc, 2000, 20, seed=1, method="aggregated", readout="111In")
    values, expected, what = mc.target_readout()
    rows = [mc.readout.rows.index(r) for r in ("knee", "depot", "engrafted") if r in mc.readout.rows]
    assert len(rows) >= 2
    assert np.array_equal(values, mc.readout.samples[:, rows, :].sum(axis=1))
    exact = biodist.simulate(sc, readouts=["111In"]).readouts["111In"]
    truth = sum(exact[mc.readout.rows[i]] for i in rows) / sc.dose_cells * 2000
    assert np.allclose(expected, truth) and "111In" in what


def test_mc_readout_on_the_command_line_and_back(tmp_path, capsys):
    out = tmp_path / "mc"
    code = main(["mc", "human_brain", "--readout", "99mTc", "--cells", "3000", "--replicates", "20"])
    code += main(["mc", "human_brain", "--readout", "99mTc", "--cells", "3000", "--replicates", "20", "--seed", "2"])
    assert code == 0
    assert "readout 99mTc" in capsys.readouterr().out
    assert main(["mc", "human_brain", "--readout", "dna", "--cells", "3000", "--replicates", "20", "--seed", "2",
                 "--json", "--out", str(out)]) == 0  # fmt: skip
    record = json.loads(capsys.readouterr().out)
    assert record["readout"]["name"] == "dna" and record["readout"]["spread"] == "exact"
    lung = record["readout"]["mean"]["lung"]
    assert len(lung) == len(record["times_h"]) and lung[0] > 0
    again = load(out)
    assert again.readout is not None and again.readout.rows == tuple(record["readout"]["mean"])
    assert again.to_dict()["readout"] == record["readout"]


@pytest.mark.parametrize("command", ["mc", "compare"])
def test_bad_readout_is_one_line_exit_2(command, capsys):
    assert main([command, "human_knee", "--readout", "111in"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'111in'" in err and "allowed:" in err and "111In" in err


def test_compare_shows_the_readout_and_keeps_the_cells(tmp_path, capsys):
    sc = biodist.Scenario.load("human_knee")
    cmp = biodist.compare(sc, ["iv", "direct"], replicates=40, seed=4, readout="51Cr")
    plain = biodist.compare(sc, ["iv", "direct"], replicates=40, seed=4)
    for name, r in cmp.routes.items():
        assert r.readout == "51Cr"
        assert np.array_equal(r.target_mean, plain.routes[name].target_mean)  # the cells are still there
        exact = biodist.simulate(sc.with_values({"route": name}), readouts=["51Cr"]).readouts["51Cr"]
        at = exact["knee"] + sum(exact.get(k, 0) for k in ("depot", "engrafted"))
        assert np.allclose(r.shown_mean, at)
        for j in range(len(cmp.times_h)):
            split = r.shown_split(j)
            assert abs(sum(split.values()) - 1.0) < 1e-9 and min(split.values()) >= 0
    out = tmp_path / "cmp"
    assert main(["compare", "human_knee", "--routes", "iv,direct", "--readout", "51Cr", "--replicates", "40",
                 "--seed", "4", "--json", "--out", str(out)]) == 0  # fmt: skip
    record = json.loads(capsys.readouterr().out)
    assert record["direct"]["readout"]["name"] == "51Cr"
    assert record["direct"]["target_mean"] == cmp.routes["direct"].target_mean.tolist()
    assert np.allclose(record["direct"]["readout"]["target_mean"], cmp.routes["direct"].shown_mean)
    again = load(out)
    assert again.readout == "51Cr"
    assert np.allclose(again.routes["direct"].shown_mean, cmp.routes["direct"].shown_mean)
    assert again.to_dict() == record
