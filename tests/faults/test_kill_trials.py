"""Fault trials: SIGKILL at random moments of ``simulate --out``, ``mc --out`` and ``sweep``; two sweeps at once.

A killed run must leave the previous complete result or the new complete one, never a mix, and a
sweep resumed after a kill must equal an uninterrupted run, without duplicates. The moments are
drawn uniformly over the run's own measured duration (a fixed seed), so that the kill lands in
imports, computing, drawing figures and writing alike. A few trials run in ``make test``; the
full set (12 per command) is marked ``slow``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import DEFAULT_SCENARIO, slow_sweep_spec

from biodist.atomic import leftovers
from biodist.cli import main
from biodist.io.folders import TABLES, load
from biodist.studies.sweep import read_dataset

BIODIST = [sys.executable, "-m", "biodist"]
FAST_TRIALS, FULL_TRIALS = 3, 12
KEYS = ["point", "compartment", "time_h", "statistic"]


def _env() -> dict[str, str]:
    return {**os.environ, "NUMBA_NUM_THREADS": "1"}


def _timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run([*BIODIST, *argv], cwd=cwd, check=True, capture_output=True, env=_env())
    return time.perf_counter() - start


def _killed(argv: list[str], cwd: Path, after_s: float) -> None:
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    proc = subprocess.Popen([*BIODIST, *argv], cwd=cwd, env=_env(), **quiet)
    time.sleep(after_s)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _moments(duration: float, n: int, seed: int) -> np.ndarray:
    """Uniform over the run (and a little past its end, where the folder is swapped in)."""
    return np.random.default_rng(seed).uniform(0.05, 1.1 * duration, n)


# ---------------------------------------------------------------------------
# simulate --out and mc --out: the old result or the new one, whole
# ---------------------------------------------------------------------------
def _which_simulate(folder: Path) -> float:
    """The dose of the complete result in ``folder``; fails if the files do not belong together."""
    result = load(folder)  # run.json, whole and readable
    table = pd.read_csv(folder / TABLES["simulate"])
    expected = result.to_dataframe()
    pd.testing.assert_frame_equal(table, expected, check_exact=False, rtol=1e-8, check_dtype=False)
    assert (folder / "time_course.png").stat().st_size > 1000
    assert sorted(p.name for p in folder.iterdir()) == ["cells.csv", "run.json", "time_course.png"]
    return result.scenario.dose_cells


def _which_mc(folder: Path) -> int:
    """The seed of the complete result in ``folder``; fails if its counts and record disagree."""
    result = load(folder)  # counts.parquet read and reshaped with run.json's compartments and times
    recorded = result.to_dict()["mean"]
    for c, name in enumerate(result.compartments):
        np.testing.assert_allclose(result.counts[:, c, :].mean(axis=0), recorded[name], rtol=1e-12)
    assert (folder / "target_histogram.png").exists()
    return result.seed


def _trials(tmp_path: Path, n: int, old: list[str], new: list[str], which, values: tuple, seed: int) -> set:
    folder = tmp_path / "r"
    subprocess.run([*BIODIST, *old, "--out", str(folder)], check=True, capture_output=True, env=_env())
    first = which(folder)
    assert first == values[0]
    duration = _timed([*new, "--out", str(tmp_path / "timing")], tmp_path)
    seen = set()
    for moment in _moments(duration, n, seed):
        _killed([*new, "--out", str(folder)], tmp_path, moment)
        state = which(folder)  # never a mix: one whole result
        assert state in values
        seen.add(state)
        if state == values[1]:  # the new one landed: put the old one back for the next trial
            subprocess.run([*BIODIST, *old, "--out", str(folder)], check=True, capture_output=True, env=_env())
    # a run that finishes cleans whatever a killed one left beside the folder
    subprocess.run([*BIODIST, *new, "--out", str(folder)], check=True, capture_output=True, env=_env())
    assert which(folder) == values[1]
    assert leftovers(folder) == []
    return seen


SIM = ["simulate", str(DEFAULT_SCENARIO)]
MC = ["mc", str(DEFAULT_SCENARIO), "--cells", "20000", "--replicates", "20", "--method", "per_cell"]


def test_killed_simulate_leaves_one_whole_result(tmp_path):
    _trials(tmp_path, FAST_TRIALS, SIM, [*SIM, "--set", "dose_cells=2e6"], _which_simulate, (1e6, 2e6), 1)


def test_killed_mc_leaves_one_whole_result(tmp_path):
    _trials(tmp_path, FAST_TRIALS, [*MC, "--seed", "1"], [*MC, "--seed", "2"], _which_mc, (1, 2), 2)


@pytest.mark.slow
def test_killed_simulate_leaves_one_whole_result_full(tmp_path):
    _trials(tmp_path, FULL_TRIALS, SIM, [*SIM, "--set", "dose_cells=2e6"], _which_simulate, (1e6, 2e6), 3)


@pytest.mark.slow
def test_killed_mc_leaves_one_whole_result_full(tmp_path):
    _trials(tmp_path, FULL_TRIALS, [*MC, "--seed", "1"], [*MC, "--seed", "2"], _which_mc, (1, 2), 4)


# ---------------------------------------------------------------------------
# sweep: killed and resumed equals uninterrupted; two at once
# ---------------------------------------------------------------------------
def _rows(folder: Path) -> pd.DataFrame:
    return read_dataset(folder).sort_values(KEYS).reset_index(drop=True)


def _sweep_trials(tmp_path: Path, n: int, seed: int) -> None:
    spec = slow_sweep_spec(tmp_path)
    argv = ["sweep", str(spec), "--workers", "1", "--quiet"]
    clean = tmp_path / "clean"
    duration = _timed([*argv, "--out", str(clean)], tmp_path)
    reference = _rows(clean)
    for k, moment in enumerate(_moments(duration, n, seed)):
        killed = tmp_path / f"killed{k}"
        _killed([*argv, "--out", str(killed)], tmp_path, moment)
        resume = ["--resume"] if (killed / "manifest.json").exists() else []
        assert main([*argv, "--out", str(killed), *resume]) == 0
        rows = _rows(killed)
        assert not rows.duplicated(KEYS).any()
        pd.testing.assert_frame_equal(rows, reference)


def test_killed_sweep_resumes_to_the_uninterrupted_dataset(tmp_path):
    _sweep_trials(tmp_path, 2, 5)


@pytest.mark.slow
def test_killed_sweep_resumes_to_the_uninterrupted_dataset_full(tmp_path):
    _sweep_trials(tmp_path, FULL_TRIALS, 6)


def test_two_sweeps_on_one_folder_one_runs_the_other_exits_2_at_once(tmp_path):
    spec = slow_sweep_spec(tmp_path)
    out = tmp_path / "o"
    argv = [*BIODIST, "sweep", str(spec), "--out", str(out), "--workers", "1", "--quiet"]
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    second = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    procs = {first: None, second: None}
    start = time.perf_counter()
    while any(p.poll() is None for p in procs):
        for p in procs:
            if procs[p] is None and p.poll() is not None:
                procs[p] = time.perf_counter() - start
        time.sleep(0.02)
    for p in procs:
        procs[p] = procs[p] if procs[p] is not None else time.perf_counter() - start
    errors = {p: p.communicate()[1].strip() for p in procs}
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], [(p.returncode, errors[p]) for p in procs]
    loser = next(p for p in procs if p.returncode == 2)
    winner = next(p for p in procs if p.returncode == 0)
    err = errors[loser]
    assert len(err.splitlines()) == 1, err
    assert "another sweep is writing" in err or "holds a sweep already" in err, err
    assert procs[loser] < procs[winner]  # refused at once, not after the other finished
    clean = tmp_path / "clean"
    assert main(["sweep", str(spec), "--out", str(clean), "--workers", "1", "--quiet"]) == 0
    pd.testing.assert_frame_equal(_rows(out), _rows(clean))
