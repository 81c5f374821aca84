"""`biodist validate`: runs every dataset; exit 0 whatever it finds, 1 with --strict on a miss."""

from __future__ import annotations

import json

import pytest
from tests.conftest import CONFIGS

from biodist.cli import main


def test_validate_json_and_strict(tmp_path, capsys):
    assert main(["validate", "--json", "--out", str(tmp_path / "v")]) == 0
    data = json.loads(capsys.readouterr().out)
    ids = {r["id"] for r in data["results"]}
    assert {"lee2009_lung_half_life", "toupet2013_knee_month", "bonios2011_heart_iv", "turtzo2015_brain"} <= ids
    for r in data["results"]:
        # each measurement is read through its assay's readout
        expected = {"qPCR": "dna", "111In": "111In", "18F-FDG": "18F-FDG", "51Cr": "51Cr", "histology": "cells"}
        assert r["measures"] == next(v for k, v in expected.items() if k in r["method"]), r["id"]
        if r["quantity"] == "ratio_at_least":
            assert r["pass"] == (r["simulated"] >= r["low"])
        else:
            assert r["pass"] == (r["low"] <= r["simulated"] <= r["high"])
    assert (tmp_path / "v" / "validation.png").read_bytes()[:4] == b"\x89PNG"
    strict = main(["validate", "--strict"])
    assert strict == (1 if data["missed"] else 0)


@pytest.mark.pinned
def test_readme_table_is_the_validate_output(capsys):
    readme = (CONFIGS.parent / "README.md").read_text()
    block = readme.split("`biodist validate`:", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.strip() == block.strip()


def test_bad_dataset_folder(tmp_path, capsys):
    (tmp_path / "bad.toml").write_text('name = "x"\ncitation = "y"\nscenario = "s.toml"\nmeasurements = []\n')
    assert main(["validate", "--datasets", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "measurements" in err


def test_a_dataset_set_out_of_range_names_dataset_and_measurement(tmp_path, capsys):
    """The error of a measurement's set names the dataset file and the measurement, then the key and its limit."""
    (tmp_path / "d.toml").write_text(
        f'name = "x"\ncitation = "y"\nscenario = "{CONFIGS / "human_msc_iv.toml"}"\n'
        '[[measurements]]\nid = "m1"\norgan = "lung"\nquantity = "pct_dose"\ntime_h = 1.0\nvalue = 50.0\n'
        'measures = "cells"\nmethod = "x"\nset = { "cell.lung_pass_fraction" = 2.0 }\n'
    )
    assert main(["validate", "--datasets", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"{tmp_path / 'd.toml'}: measurement 'm1': " in err and "lung_pass_fraction = 2.0" in err


def test_an_ordering_is_the_ratio_of_two_readouts(capsys):
    """Definition: eggenhofer2012's orderings are the 51Cr readout of one organ over another's, from simulate."""
    import biodist

    assert main(["validate", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    sc = biodist.load_scenario(CONFIGS / "mouse_msc_iv.toml", {"dose_cells": 5e5})
    cr = biodist.simulate(sc, times_h=[1.0, 24.0], readouts=["51Cr"]).readouts["51Cr"]
    assert rows["eggenhofer2012_lung_over_liver_1h"]["simulated"] == pytest.approx(cr["lung"][0] / cr["liver"][0])
    assert rows["eggenhofer2012_liver_over_lung_24h"]["simulated"] == pytest.approx(cr["liver"][1] / cr["lung"][1])


RATIO = (
    'name = "x"\ncitation = "y"\nscenario = "{scenario}"\n[[measurements]]\nid = "r"\norgan = "liver"\n'
    'relative_to = "{other}"\nquantity = "ratio_at_least"\ntime_h = {t}\nvalue = {value}\nmeasures = "51Cr"\n'
    'method = "51Cr"\n'
)


@pytest.mark.parametrize(
    ("other", "t", "value", "fragment"),
    [
        ("liver", 24.0, 1.0, "another organ than organ"),
        ("lung", 24.0, 0.0, "a ratio > 0"),
        ("brain", 0.0, 1.0, "relative_to = 'brain' holds nothing in the model at 0 h"),
    ],
)
def test_an_undefined_ordering_is_refused(tmp_path, capsys, other, t, value, fragment):
    """An ordering against itself, a ratio of 0, or one whose denominator the model leaves empty (no cell has
    reached the brain at 0 h): one line naming the dataset, never an infinite or trivial pass."""
    scenario = CONFIGS / "mouse_msc_iv.toml"
    (tmp_path / "d.toml").write_text(RATIO.format(scenario=scenario, other=other, t=t, value=value))
    assert main(["validate", "--datasets", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(tmp_path / "d.toml") in err and fragment in err


def test_fit_cli(tmp_path, capsys):
    import numpy as np
    import pandas as pd

    import biodist

    sc = biodist.load_scenario(CONFIGS / "human_msc_iv.toml")
    t = np.array([1.0, 24.0, 72.0])
    res = biodist.simulate(sc, times_h=t, label=False)
    rows = [
        {"organ": o, "time_h": x, "pct_dose": 1e-4 * v}
        for o in ("lung", "brain")
        for x, v in zip(t, res.cells(o), strict=True)
    ]
    data = tmp_path / "data.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    out = tmp_path / "fit"
    args = ["fit", str(data), "--params", "cell.lung_pass_fraction,cell.lung_half_life_h", "--out", str(out)]
    assert main(args) == 0
    assert "cell.lung_pass_fraction" in capsys.readouterr().out
    fitted = biodist.load_scenario(CONFIGS / "human_msc_iv.toml", {"cell": str(out / "fitted_cell.toml")}).cell
    assert fitted.lung_pass_fraction == pytest.approx(0.026, rel=1e-3)  # noise-free data: the truth back
    bad = tmp_path / "bad.csv"
    bad.write_text("organ,time,pct\nlung,1,50\n")
    assert main(["fit", str(bad), "--params", "cell.lung_pass_fraction"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing column 'time_h'" in err
