"""biodist calibrate, simulate --interval and mc --uncertainty over the posterior, end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.conftest import CONFIGS, DEFAULT_SCENARIO

import biodist
from biodist.cli import main
from biodist.config.posterior import find_posterior

QUICK = ["--steps", "60", "--burn", "20", "--walkers", "12", "--quiet", "--workers", "1"]


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "run"
    code = main(["calibrate", *QUICK, "--leave-out", "lee2009", "--out", str(out), "--json"])
    return code, out


def test_calibrate_writes_whole_folder_and_json(short_run, capsys):
    code, out = short_run
    assert code == 0
    for name in ("posterior.nc", "posterior.parquet", "predictive.csv", "summary.csv", "corner.png", "predictive.png"):
        assert (out / name).is_file(), name
    record = json.loads((out / "run.json").read_text())
    assert record["kind"] == "calibrate"
    res = record["result"]
    assert set(res["parameters"]) == {
        "cell.lung_pass_fraction",
        "cell.retention_per_pass.default",
        "cell.lung_half_life_h",
        "cell.lodged_half_life_h",
        "cell.lung_release_per_h",
        "between_study_sd",
    }
    for row in res["parameters"].values():
        assert row["q05"] <= row["median"] <= row["q95"]
        assert {"r_hat", "ess_bulk", "ess_tail", "prior_median"} <= set(row)
    held = [r for r in res["predictive"] if r["held_out"]]
    assert {r["study"] for r in held} == {"lee2009"} and len(held) == 7
    assert "lee2009" not in res["studies"] and res["left_out"] == ["lee2009"]
    assert res["excluded"] == [{"study": "toupet2013", "why": "runs another cell product (adipose_msc)"}]
    # the prior of the pass fraction is the source articles' 1.5-3.7 %: every posterior draw inside it
    frame = pd.read_parquet(out / "posterior.parquet")
    post = frame[frame.group == "posterior"]["cell.lung_pass_fraction"]
    assert post.between(0.015, 0.037).all()


def test_calibration_folder_loads_back(short_run):
    _, out = short_run
    loaded = biodist.load(out)
    assert isinstance(loaded, biodist.CalibrationResult)
    assert loaded.samples.shape == (12, 40, 6)
    assert loaded.table()[0]["parameter"] == "cell.lung_pass_fraction"
    import arviz as az  # the NetCDF is ArviZ InferenceData

    idata = az.from_netcdf(out / "posterior.nc")
    np.testing.assert_allclose(idata.posterior["cell.lung_pass_fraction"].values, loaded.samples[:, :, 0])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--leave-out", "nosuch2020"], "--leave-out nosuch2020: no such study; allowed: aicher2003"),
        (["--walkers", "4"], "walkers = 4; allowed: at least 12"),
        (["--cross-validate", "--leave-out", "lee2009"], "give it or --leave-out, not both"),
        (["--export-posterior", "x.csv"], "must end in .parquet"),
        (["nosuch.toml"], "nosuch.toml: file not found"),
    ],
)
def test_calibrate_bad_input_is_one_line(args, message, capsys):
    argv = ["calibrate", *QUICK, *args]
    if args[0] == "--walkers":
        argv = ["calibrate", "--steps", "60", "--burn", "20", "--quiet", *args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


def test_simulate_interval_json(capsys):
    assert main(["simulate", str(DEFAULT_SCENARIO), "--interval", "0.9", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    iv = data["interval"]
    assert iv["level"] == 0.9 and iv["draws"] == 400 and iv["held"] == []
    for comp in ("brain", "knee", "lung"):
        assert all(lo <= hi for lo, hi in zip(iv["low"][comp], iv["high"][comp], strict=True))
    assert iv["low"]["brain"][-1] < iv["high"]["brain"][-1]


def test_simulate_interval_holds_keys_the_user_set(capsys):
    argv = ["simulate", str(DEFAULT_SCENARIO), "--interval", "0.9", "--json", "--set", "cell.lung_half_life_h=30"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["interval"]["held"] == ["cell.lung_half_life_h"]


@pytest.mark.parametrize("level", ["1.5", "0"])
def test_simulate_interval_refuses_a_level_outside_0_1(level, capsys):
    assert main(["simulate", str(DEFAULT_SCENARIO), "--interval", level]) == 2
    assert "allowed: a probability between 0 and 1" in capsys.readouterr().err


def test_mc_uncertainty_draws_calibrated_keys_from_the_posterior():
    """Virtual subjects' calibrated values are rows of the shipped posterior (joint), the others from ranges."""
    sc = biodist.load_scenario(CONFIGS / "rat_msc_iv.toml")
    posterior, why = find_posterior(sc)
    assert posterior is not None, why
    res = biodist.monte_carlo(sc, n_cells=1000, replicates=30, seed=3, method="aggregated", uncertainty=True)
    rows = {tuple(r) for r in posterior.draws.round(12).tolist()}
    drawn = np.column_stack([res.parameters[k] for k in posterior.keys]).round(12)
    assert all(tuple(r) in rows for r in drawn.tolist())  # each subject is one joint posterior draw
    assert "species.cardiac_output_l_per_min" in res.parameters  # still drawn from the rat's declared range
    assert res.parameters["species.cardiac_output_l_per_min"].max() < 0.1
    assert any("posterior" in n for n in res.notes)
    ranges = biodist.monte_carlo(sc, n_cells=1000, replicates=30, seed=3, method="aggregated", uncertainty="ranges")
    drawn = np.column_stack([ranges.parameters[k] for k in posterior.keys]).round(12)
    assert not any(tuple(r) in rows for r in drawn.tolist())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('product = "nosuch"\nparameters = ["cell.lung_pass_fraction"]\n', "product = 'nosuch': unknown cell"),
        ('product = "bm_msc"\ndatasets = "nope"\nparameters = ["cell.lung_pass_fraction"]\n', "no folder"),
        ('product = "bm_msc"\nparameters = ["species.cardiac_output_l_per_min"]\n', "keys of the cell product"),
        ('product = "bm_msc"\nparameters = ["cell.lung_pass_fraction"]\nwalkers = 3\n', "walkers: unknown key"),
        ("product = \n", "malformed TOML"),
    ],
)
def test_bad_calibration_file_is_one_line_naming_it(tmp_path, text, message, capsys):
    path = tmp_path / "cal.toml"
    path.write_text(text)
    assert main(["calibrate", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and message in err, err
