"""Sweeps: designs, the batched fast path, Sobol indices against analytic values, resumable output."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.conftest import CONFIGS, DEFAULT_SCENARIO

import biodist
from biodist.config.keys import assign as set_unchecked
from biodist.model import compile_model
from biodist.solvers import expected_fractions
from biodist.studies.sweep import (
    SweepSpec,
    analyze_sobol,
    batch_fractions,
    batch_points,
    design_points,
    read_dataset,
    run_sweep,
)

PASS = CONFIGS / "sweeps" / "pass_fraction.toml"


@pytest.mark.parametrize("infusion", [0, 45])
@pytest.mark.parametrize("heterogeneity", ["none", "size"])
def test_batched_path_matches_single_solves(infusion, heterogeneity):
    base = biodist.load_scenario(DEFAULT_SCENARIO, {"infusion_minutes": infusion, "heterogeneity": heterogeneity})
    rng = np.random.default_rng(0)
    scenarios = [
        set_unchecked(
            base,
            {
                "cell.lung_pass_fraction": float(rng.uniform(0.015, 0.037)),
                "species.organs.knee.flow_fraction": float(10 ** rng.uniform(-4, -2)),
                "cell.lung_half_life_h": float(rng.uniform(8, 72)),
            },
        )
        for _ in range(6)
    ]
    times = np.array([0.1, 0.75, 24.0, 168.0])
    batched = batch_fractions(scenarios, times)
    single = np.stack([expected_fractions(compile_model(s), times) for s in scenarios])
    np.testing.assert_allclose(batched, single, rtol=1e-9, atol=1e-13)


def test_batched_path_falls_back_on_a_defective_generator():
    """Equal clearance rates with zero release and zero circulating loss: compare with the exact solver."""
    base = biodist.load_scenario(
        DEFAULT_SCENARIO,
        {"cell.lung_release_per_h": 0.0, "cell.lung_half_life_h": 25.0, "cell.lodged_half_life_h": 25.0},
    )
    times = np.array([1.0, 24.0])
    np.testing.assert_allclose(
        batch_fractions([base], times)[0], expected_fractions(compile_model(base), times), rtol=1e-9, atol=1e-14
    )


def test_local_sweep_end_to_end(tmp_path):
    run = run_sweep(PASS, tmp_path / "out", workers=1)
    df = read_dataset(tmp_path / "out")
    assert len(df) == 12 * 2 * 3
    assert list(df.columns) == ["point", "cell.lung_pass_fraction", "compartment", "time_h", "statistic", "cells"]
    # one row against a direct simulate() of the same point
    row = df[(df.point == 5) & (df.compartment == "brain") & (df.time_h == 24)].iloc[0]
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"cell.lung_pass_fraction": row["cell.lung_pass_fraction"]})
    assert row.cells == pytest.approx(biodist.simulate(sc, times_h=[24.0]).cells("brain")[0], rel=1e-10)
    assert run.n_chunks == 3
    # brain counts rise with the pass fraction
    brain = df[(df.compartment == "brain") & (df.time_h == 24)].sort_values("cell.lung_pass_fraction").cells.to_numpy()
    assert (np.diff(brain) > 0).all()


def test_resume_refuses_a_different_sweep_and_a_used_folder(tmp_path):
    out = tmp_path / "out"
    run_sweep(PASS, out, workers=1)
    with pytest.raises(biodist.ConfigError, match="add --resume"):
        run_sweep(PASS, out, workers=1)
    run_sweep(PASS, out, resume=True, workers=1)  # nothing left to do
    other = tmp_path / "other.toml"
    other.write_text(
        PASS.read_text()
        .replace("points = 12", "points = 5")
        .replace('"../human_msc_iv.toml"', repr(str(DEFAULT_SCENARIO)).replace("'", '"'))
    )
    with pytest.raises(biodist.ConfigError, match="different sweep"):
        run_sweep(other, out, resume=True, workers=1)


def test_out_through_symlinks(tmp_path):
    """A dangling symlink is followed (its target folder is made, the link stays); a looping one is refused."""
    (tmp_path / "link").symlink_to("target")
    run_sweep(PASS, tmp_path / "link", workers=1)
    assert (tmp_path / "link").is_symlink() and (tmp_path / "target" / "manifest.json").is_file()
    assert len(read_dataset(tmp_path / "link")) == 12 * 2 * 3
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(biodist.ConfigError, match=r"--out .*a: is a symlink that does not resolve \(a loop\)"):
        run_sweep(PASS, tmp_path / "a", workers=1)


def ishigami_spec(n: int) -> SweepSpec:
    pi = math.pi
    params = {f"x{i}": {"low": -pi, "high": pi} for i in (1, 2, 3)}
    return SweepSpec.model_validate(
        {
            "scenario": "-",
            "design": "sobol",
            "samples": n,
            "seed": 3,
            "parameters": params,
            "outputs": {"compartments": ["knee"], "times_h": [1.0]},
        }
    )


def test_sobol_on_ishigami_matches_analytic_indices():
    """Ishigami (a=7, b=0.1): S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244); tolerance 0.03 at N = 8192."""
    from SALib.test_functions import Ishigami

    spec = ishigami_spec(8192)
    x = design_points(spec)
    indices = analyze_sobol(spec, Ishigami.evaluate(x))
    s1 = [indices[f"x{i}"]["S1"] for i in (1, 2, 3)]
    st = [indices[f"x{i}"]["ST"] for i in (1, 2, 3)]
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=0.03)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=0.03)


@pytest.mark.parametrize(
    ("patch", "fragment"),
    [
        ({"design": "sobol", "parameters": {"cell.lung_pass_fraction": {"values": [0.02]}}}, "needs a low-high range"),
        ({"parameters": {"cell.lung_pass_fraction": {"low": 0.03, "high": 0.01}}}, "must satisfy low < high"),
        ({"design": "sobol", "samples": 1000}, "power of 2"),
    ],
)
def test_bad_specs(patch, fragment):
    base = {
        "scenario": "x.toml",
        "parameters": {"cell.lung_pass_fraction": {"low": 0.01, "high": 0.03}},
        "outputs": {"compartments": ["knee"], "times_h": [1.0]},
    }
    with pytest.raises(ValueError, match=fragment):
        SweepSpec.model_validate(base | patch)


@pytest.mark.parametrize("route", ["iv", "intra_arterial", "direct"])
@pytest.mark.parametrize("infusion", [0, 30])
def test_vectorised_compile_matches_point_by_point(route, infusion):
    """The fast path compiles all points at once with array-valued parameters: same numbers as one by one."""
    base = biodist.load_scenario(DEFAULT_SCENARIO, {"route": route, "target": "knee", "infusion_minutes": infusion})
    names = [
        "cell.lung_pass_fraction",
        "species.organs.knee.flow_fraction",
        "cell.lodged_half_life_h",
        "cell.retention_per_pass.default",
        "species.cardiac_output_l_per_min",
        "target_injury",
        "routes.depots.knee.engrafted_fraction",
        "routes.territories.knee.first_pass_retention",
    ]
    rng = np.random.default_rng(1)
    lows = np.array([0.015, 1e-4, 8.0, 0.001, 5.2, 1.0, 0.0, 0.5])
    highs = np.array([0.037, 1e-2, 75.0, 0.1, 6.5, 5.0, 0.05, 0.95])
    points = lows + rng.random((7, len(names))) * (highs - lows)
    times = np.array([0.1, 1.0, 24.0, 720.0])
    fast = batch_points(base, names, points, times)
    slow = np.stack(
        [
            expected_fractions(compile_model(set_unchecked(base, dict(zip(names, map(float, p), strict=True)))), times)
            for p in points
        ]
    )
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-14)


def test_points_with_different_infusions(tmp_path):
    """Points differing in infusion time are solved with their own infusion (review finding)."""
    base = biodist.load_scenario(DEFAULT_SCENARIO)
    points = np.array([[0.0], [60.0], [240.0]])
    times = np.array([0.5, 24.0])
    fast = batch_points(base, ["infusion_minutes"], points, times)
    for row, minutes in zip(fast, points[:, 0], strict=True):
        sc = biodist.load_scenario(DEFAULT_SCENARIO, {"infusion_minutes": float(minutes)})
        np.testing.assert_allclose(row, expected_fractions(compile_model(sc), times), rtol=1e-9, atol=1e-14)


def test_resume_refuses_a_changed_base_scenario(tmp_path):
    scen = tmp_path / "base.toml"
    scen.write_text(DEFAULT_SCENARIO.read_text())
    spec = tmp_path / "spec.toml"
    spec.write_text(PASS.read_text().replace('"../human_msc_iv.toml"', f'"{scen}"'))
    run_sweep(spec, tmp_path / "out", workers=1)
    scen.write_text(DEFAULT_SCENARIO.read_text().replace("dose_cells = 1e6", "dose_cells = 1e9"))
    with pytest.raises(biodist.ConfigError, match="different sweep"):
        run_sweep(spec, tmp_path / "out", resume=True, workers=1)


def test_output_times_must_be_finite_and_non_negative():
    base = {
        "scenario": "x.toml",
        "parameters": {"cell.lung_pass_fraction": {"low": 0.01, "high": 0.03}},
        "outputs": {"compartments": ["knee"], "times_h": [-1.0]},
    }
    with pytest.raises(ValueError, match=r"within \[0,"):
        SweepSpec.model_validate(base)
