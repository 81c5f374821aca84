"""The command line end to end, in temporary folders."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from tests.conftest import CONFIGS, DEFAULT_SCENARIO

from biodist.cli import main

SCEN = str(DEFAULT_SCENARIO)


def test_table_and_summary(capsys):
    assert main(["simulate", SCEN]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert "97.4 % of 950,000 viable cells (of 1,000,000 infused) lodged in the lungs on first pass" in first
    assert "2.6 % reached the arterial circulation" in first
    assert "* knee" in out
    for comp in ("venous_blood", "arterial_blood", "lung", "brain", "cleared"):
        assert comp in out


def test_json(capsys):
    assert main(["simulate", SCEN, "--json", "--set", "dose_cells=2e6"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dose_cells"] == 2e6
    assert data["times_h"] == [0.25, 1, 6, 24, 72, 168]
    for comp in ("venous_blood", "arterial_blood", "lung", "knee", "brain", "cleared"):
        assert len(data["counts"][comp]) == len(data["times_h"])
    assert data["first_pass"]["lung"] == pytest.approx(0.974)
    assert "cleared" not in data["first_pass"]
    total = [sum(data["counts"][c][i] for c in data["counts"]) for i in range(len(data["times_h"]))]
    assert total == pytest.approx([2e6] * len(total), rel=1e-9)


def test_out_dir(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["simulate", SCEN, "--out", str(out), "--set", "infusion_minutes=30"]) == 0
    df = pd.read_csv(out / "cells.csv")
    assert list(df.columns[:5]) == ["compartment", "time_h", "cells", "fraction_of_dose", "cells_per_g"]
    assert df.groupby("time_h")["cells"].sum().iloc[-1] == pytest.approx(1e6, rel=1e-9)
    assert (out / "time_course.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run = json.loads((out / "run.json").read_text())
    assert run["scenario"]["infusion_minutes"] == 30
    assert run["command"][:2] == ["biodist", "simulate"]
    assert "biodist_version" in run
    assert not list(out.glob(".*.tmp"))  # no temporary files left behind


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--set", "cell.lung_pass_fractoin=0.02"], ["bm_msc.toml", "lung_pass_fractoin", "allowed:"]),
        (["--set", "dose_cells=-1"], ["human_msc_iv.toml", "dose_cells = -1", "greater than 0"]),
        (["--set", "species.organs.kidney.flow_fraction=0.4"], ["human.toml", "rest = -", "at most 1"]),
        (["--set", "cell.lung_pass_fraction=1.5"], ["bm_msc.toml", "lung_pass_fraction = 1.5"]),
        (["--set", "species=cat"], ["species = 'cat'", "allowed: dog, human, mouse, pig, rat"]),
        (["--set", "cell=ipsc"], ["cell = 'ipsc'", "allowed:"]),
        (["--set", "oops"], ["KEY=VALUE"]),
    ],
)
def test_bad_input_exit_2_one_line(args, fragments, capsys):
    assert main(["simulate", SCEN, *args]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert captured.out == ""
    assert len(err.splitlines()) == 1 and err.startswith("biodist: error: ")
    for fragment in fragments:
        assert fragment in err


def test_missing_and_malformed_files(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "none.toml")]) == 2
    assert "none.toml: file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("species = [\n")
    assert main(["simulate", str(bad)]) == 2
    assert "bad.toml: malformed TOML" in capsys.readouterr().err


def test_console_script_no_traceback(tmp_path):
    """The installed entry point: exit 2 and a single line, never a traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "biodist", "simulate", str(CONFIGS / "human_msc_iv.toml"), "--set", "target=elbow"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "target = 'elbow'" in proc.stderr


def test_import_is_light():
    heavy = ("matplotlib", "biodist.cli", "dask", "xarray")
    code = f"import sys, biodist; print([m for m in {heavy!r} if m in sys.modules])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


@pytest.mark.pinned
def test_readme_shows_what_demo_prints(capsys):
    """The README's example output is the real output of the default scenario."""
    readme = (CONFIGS.parent / "README.md").read_text()
    block = readme.split("## What `make demo` prints", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    assert main(["simulate", SCEN]) == 0
    printed = capsys.readouterr().out
    expected = block.split("\nwrote ", 1)[0]
    assert printed.strip() == expected.strip()


def test_infinite_half_life_round_trips(tmp_path):
    """inf is valid TOML and a valid half-life ("never"); run.json stays strict JSON."""
    out = tmp_path / "inf"
    assert main(["simulate", SCEN, "--set", "cell.lodged_half_life_h=inf", "--out", str(out), "--json"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["scenario"]["cell"]["lodged_half_life_h"] == "Infinity"
