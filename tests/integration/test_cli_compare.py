"""`biodist compare` and `biodist plot` end to end, in temporary folders."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.conftest import CONFIGS

from biodist.cli import main

HEART = str(CONFIGS / "human_heart.toml")
FAST = ["--replicates", "30", "--seed", "5"]


def test_json_shape_and_values(capsys):
    assert main(["compare", HEART, *FAST, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["iv", "intra_arterial", "direct"]
    for route in data.values():
        t = len(route["times_h"])
        assert len(route["target_mean"]) == t
        assert set(route["target_quantiles"]) == {"0.05", "0.5", "0.95"}
        for q in route["target_quantiles"].values():
            assert len(q) == t
        assert np.allclose(np.sum([v for v in route["fraction_of_dose"].values()], axis=0), 1.0)
    # the heart at 24 h: both local routes at least 10x IV (issue 4)
    j = data["iv"]["times_h"].index(24.0)
    assert data["intra_arterial"]["target_mean"][j] >= 10 * data["iv"]["target_mean"][j]
    assert data["direct"]["target_mean"][j] >= 10 * data["iv"]["target_mean"][j]


def test_out_and_replot(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", HEART, *FAST, "--routes", "iv,direct", "--time-h", "72", "--out", str(out)]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["kind"] == "compare" and run["routes"] == ["iv", "direct"] and run["time_h"] == 72
    table = pd.read_csv(out / "compare.csv")
    assert set(table.route) == {"iv", "direct"}
    heart = table[(table.route == "direct") & (table.compartment.isin(["heart", "depot", "engrafted"]))]
    at72 = heart[heart.time_h == 72].cells.sum()
    assert at72 == pytest.approx(run["result"]["direct"]["target_mean"][run["result"]["direct"]["times_h"].index(72)])
    pngs = ["compare_time_course.png", "compare_bars.png", "dose_split.png"]
    before = {p: (out / p).read_bytes() for p in pngs}
    for p in pngs:
        (out / p).unlink()
    assert main(["plot", str(out)]) == 0
    for p in pngs:
        assert (out / p).read_bytes()[:4] == b"\x89PNG"
        assert abs(len((out / p).read_bytes()) - len(before[p])) < 0.05 * len(before[p])


def test_plot_other_kinds(tmp_path, capsys):
    sim, mc = tmp_path / "sim", tmp_path / "mc"
    assert main(["simulate", HEART, "--out", str(sim)]) == 0
    assert main(["mc", HEART, "--cells", "5000", "--replicates", "10", "--seed", "1", "--out", str(mc)]) == 0
    for folder, png in ((sim, "time_course.png"), (mc, "target_histogram.png")):
        (folder / png).unlink()
        assert main(["plot", str(folder)]) == 0
        assert (folder / png).exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--routes", "iv,oral"], "unknown route 'oral'"),
        (["--routes", "iv,direct", "--set", "target=brain"], "target 'brain' has no injection depot"),
        (["--set", "infusion_minutes=-1"], "infusion_minutes = -1"),
        (["--set", "target_perfusion=100"], "rest must stay >= 0"),
    ],
)
def test_bad_input(args, fragment, capsys):
    assert main(["compare", HEART, "--replicates", "2", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and fragment in err


def test_plot_needs_a_result_folder(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    assert "run.json: file not found" in capsys.readouterr().err


@pytest.mark.pinned
def test_readme_compare_example_is_real(capsys):
    readme = (CONFIGS.parent / "README.md").read_text()
    block = readme.split("### `biodist compare`", 1)[1].split("```text\n", 2)[2].split("```", 1)[0]
    assert main(["compare", HEART, "--replicates", "200", "--seed", "3", "--set", "times_h=[1,24,168]"]) == 0
    assert capsys.readouterr().out.strip() == block.strip()


def test_uncertainty_widens_the_band(capsys):
    scen = str(CONFIGS / "human_msc_iv.toml")
    args = ["compare", scen, "--routes", "iv", "--replicates", "60", "--seed", "2", "--json"]
    assert main(args) == 0
    fixed = json.loads(capsys.readouterr().out)["iv"]["target_quantiles"]
    assert main([*args, "--uncertainty"]) == 0
    varied = json.loads(capsys.readouterr().out)["iv"]["target_quantiles"]
    width = lambda q: np.array(q["0.95"]) - np.array(q["0.05"])  # noqa: E731
    assert width(varied)[1] > width(fixed)[1]
