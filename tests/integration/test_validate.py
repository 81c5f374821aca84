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
        expected = {"qPCR": "dna", "111In": "111In", "18F-FDG": "18F-FDG", "51Cr": "51Cr", "99mTc": "99mTc"}
        expected |= {"histology": "cells", "intravital": "cells", "NIR fluorescence": "label"}
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


def test_the_library_covers_15_studies_and_40_measurements(capsys):
    """Issue 11: at least 15 studies and 40 measurements, each tagged with readout, species, product, route, dose."""
    from biodist.config.tracer import assay_readouts

    assert main(["validate", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]
    assert len({r["dataset"] for r in rows}) >= 15 and len(rows) >= 40
    for r in rows:
        assert r["measures"] in assay_readouts() and r["species"] and r["route"] and r["dose_cells"] > 0, r["id"]
    not_msc = {r["dataset"] for r in rows if "NOT MSC" in r["product"]}
    assert {"tossios2008", "vrtovec2013", "aicher2003"} <= not_msc  # non-MSC products say so


def test_one_organ_at_two_times_and_per_gram_against_simulate(capsys):
    """Definitions, from simulate: Detante's lung at 2 h over 20 h; Toma's muscle at 72 h over 0.1 h; Detante's
    brain %/g is its % of the dose over the brain's mass (volume fraction x body weight, density 1)."""
    import biodist

    assert main(["validate", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    sc = biodist.load_scenario(CONFIGS / "rat_msc_iv.toml", {"target": "brain"})
    tc = biodist.simulate(sc, times_h=[2.0, 20.0], readouts=["99mTc"]).readouts["99mTc"]
    assert rows["detante2009_lung_falls_2_to_20h"]["simulated"] == pytest.approx(tc["lung"][0] / tc["lung"][1])
    assert rows["detante2009_spleen_rises_2_to_20h"]["simulated"] == pytest.approx(tc["spleen"][1] / tc["spleen"][0])
    species = sc.species
    grams = species.organs["brain"].volume_fraction_bw * species.body_weight_kg * 1e3
    per_g = 100 * tc["brain"][1] / sc.dose_cells / grams
    assert rows["detante2009_brain_control_20h"]["simulated"] == pytest.approx(per_g)
    leg = biodist.load_scenario(CONFIGS / "rat_msc_iv.toml", {"target": "knee", "route": "intra_arterial"})
    result = biodist.simulate(leg, times_h=[0.1, 72.0])
    muscle = result.cells("muscle")
    toma = rows["toma2009_muscle_72h_over_initial"]
    assert toma["simulated"] == pytest.approx(muscle[1] / muscle[0])
    assert toma["pass"] == (0.07 <= toma["simulated"] <= 0.28) and toma["low"] == pytest.approx(0.07)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ('quantity = "ratio"\nvalue = 0.5\n', "needs time_h and relative_to"),
        ('quantity = "pct_dose"\nvalue = 5.0\nrelative_time_h = 2.0\n', "only for quantity"),
        ('quantity = "ratio"\nvalue = 0.5\nrelative_time_h = 1.0\n', "another organ or another time"),
        ('quantity = "ratio"\nvalue = 0.5\nrelative_time_h = 1e9\n', "relative_time_h = 1000000000.0; allowed: 0 to"),
    ],
)
def test_bad_two_reading_measurements_are_one_line(tmp_path, capsys, extra, fragment):
    text = (
        f'name = "x"\ncitation = "y"\nscenario = "{CONFIGS / "rat_msc_iv.toml"}"\n[[measurements]]\nid = "m"\n'
        f'organ = "lung"\ntime_h = 1.0\nmeasures = "cells"\nmethod = "x"\n{extra}'
    )
    (tmp_path / "d.toml").write_text(text)
    assert main(["validate", "--datasets", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and fragment in err and "d.toml" in err


RATIO = (
    'name = "x"\ncitation = "y"\nscenario = "{scenario}"\n[[measurements]]\nid = "r"\norgan = "liver"\n'
    'relative_to = "{other}"\nquantity = "ratio_at_least"\ntime_h = {t}\nvalue = {value}\nmeasures = "51Cr"\n'
    'method = "51Cr"\n'
)


@pytest.mark.parametrize(
    ("other", "t", "value", "fragment"),
    [
        ("liver", 24.0, 1.0, "another organ or another time than organ at time_h"),
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
    assert (out / "fit.png").read_bytes()[:4] == b"\x89PNG"  # observed against predicted
    saved = json.loads((out / "fit.json").read_text())["observed_vs_predicted"]
    assert saved["predicted_pct_dose"] == pytest.approx(saved["observed_pct_dose"], rel=1e-3)
    assert main(["plot", str(out)]) == 0 and "fit.png" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("organ,time,pct\nlung,1,50\n")
    assert main(["fit", str(bad), "--params", "cell.lung_pass_fraction"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing column 'time_h'" in err
