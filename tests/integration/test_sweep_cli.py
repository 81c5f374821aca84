"""`biodist sweep`: a real Dask cluster, a SIGKILL mid-sweep, and the shipped specs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from tests.conftest import CONFIGS, slow_sweep_spec

from biodist.cli import main
from biodist.studies.sweep import read_dataset

PASS = CONFIGS / "sweeps" / "pass_fraction.toml"


def sorted_rows(folder):
    return read_dataset(folder).sort_values(["point", "compartment", "time_h", "statistic"]).reset_index(drop=True)


def test_pass_fraction_sweep_cli(tmp_path, capsys):
    assert main(["sweep", str(PASS), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert "12 points, 72 rows" in capsys.readouterr().out
    df = pd.read_parquet(tmp_path / "o" / "data")  # the README's way to load the dataset
    assert len(df) == 72
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["done"] == [0, 1, 2]


def test_dask_cluster_gives_the_local_dataset(tmp_path, monkeypatch):
    import distributed  # a test extra: if missing, this fails rather than skips

    monkeypatch.setenv("NUMBA_NUM_THREADS", "1")  # inherited by the worker processes: one numba thread each
    local, remote = tmp_path / "local", tmp_path / "remote"
    assert main(["sweep", str(PASS), "--out", str(local), "--workers", "1", "--quiet"]) == 0
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", scheduler_port=0, dashboard_address=":0"
    ) as cluster:
        address = cluster.scheduler_address
        assert main(["sweep", str(PASS), "--out", str(remote), "--scheduler", address, "--quiet"]) == 0
    pd.testing.assert_frame_equal(sorted_rows(local), sorted_rows(remote))


def test_sigkill_then_resume_gives_the_uninterrupted_dataset(tmp_path):
    spec = slow_sweep_spec(tmp_path)
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    proc = subprocess.Popen(
        [sys.executable, "-m", "biodist", "sweep", str(spec), "--out", str(killed), "--workers", "1", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list((killed / "data").glob("chunk-*.parquet")):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list((killed / "data").glob("chunk-*.parquet")))
    assert 1 <= done_before < 12, "the sweep should be interrupted part-way"
    assert main(["sweep", str(spec), "--out", str(killed), "--resume", "--workers", "1", "--quiet"]) == 0
    assert main(["sweep", str(spec), "--out", str(clean), "--workers", "1", "--quiet"]) == 0
    a, b = sorted_rows(killed), sorted_rows(clean)
    assert not a.duplicated(["point", "compartment", "time_h", "statistic"]).any()
    pd.testing.assert_frame_equal(a, b)


def test_sobol_knee_ranks_and_finds_the_dummy(tmp_path, capsys):
    out = tmp_path / "sobol"
    assert main(["sweep", str(CONFIGS / "sweeps" / "sobol_knee.toml"), "--out", str(out), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    params = record["sobol"]["parameters"]
    dummy = params["species.organs.adipose.volume_fraction_bw"]
    assert abs(dummy["S1"]) < 0.01 and abs(dummy["ST"]) < 0.01  # organ volumes do not enter cell counts
    ranked = sorted(params, key=lambda k: -params[k]["ST"])
    assert set(ranked[:2]) == {"species.organs.knee.flow_fraction", "cell.retention_per_pass.default"}
    assert (out / "sobol.png").exists()


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--scheduler", "tcp://127.0.0.1:1"], "cannot connect"),
        (["--workers", "0"], "must be an integer from 1 to"),
    ],
)
def test_bad_sweep_arguments(tmp_path, extra, fragment, capsys):
    try:
        code = main(["sweep", str(PASS), "--out", str(tmp_path / "x"), "--quiet", *extra])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    assert fragment in capsys.readouterr().err


@pytest.mark.pinned
def test_readme_sobol_ranking_is_real(tmp_path, capsys):
    readme = (CONFIGS.parent / "README.md").read_text()
    block = readme.split("`biodist sweep configs/sweeps/sobol_knee.toml", 1)[1].split("```text\n", 1)[1].split("```")[0]
    assert main(["sweep", str(CONFIGS / "sweeps" / "sobol_knee.toml"), "--out", str(tmp_path / "s"), "--quiet"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[1:] == block.strip().splitlines()[1:]  # the first line names the output folder


def test_bad_spec_is_one_line(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text(PASS.read_text().replace('design = "grid"', 'design = "random"'))
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.toml" in err and "design = 'random'" in err
