"""Workers die with a killed sweep; a Dask cluster that has lost its workers fails the sweep in one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.conftest import slow_sweep_spec

from biodist.errors import ConfigError
from biodist.studies.sweep import run as sweep_run
from biodist.studies.sweep import run_sweep


def _spec(tmp_path: Path) -> Path:
    """One Monte Carlo point per chunk, 40 chunks: workers stay busy long enough to be watched."""
    return slow_sweep_spec(
        tmp_path, samples=40, chunk_points=1, compartments='["brain"]', statistics='["q0.5"]', replicates=2000
    )


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended (only its exit status waits to be collected)


def test_workers_die_with_a_killed_sweep(tmp_path):
    argv = [
        sys.executable,
        "-m",
        "biodist",
        "sweep",
        str(
            slow_sweep_spec(
                tmp_path, samples=40, chunk_points=1, compartments='["brain"]', statistics='["q0.5"]', replicates=2000
            )
        ),
        "--out",
        str(tmp_path / "o"),
    ]
    proc = subprocess.Popen([*argv, "--workers", "2", "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        workers = _children(proc.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the sweep should have started its worker processes"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.05)
    assert not [w for w in workers if _alive(w)], "worker processes outlived their sweep"


@pytest.mark.filterwarnings("ignore::biodist.errors.LongRunNotice")
def test_a_cluster_without_workers_fails_the_sweep_after_the_stated_time(tmp_path, monkeypatch):
    import distributed  # a test extra: if missing, this fails rather than skips

    monkeypatch.setattr(sweep_run, "_NO_WORKERS_S", 1.0)
    monkeypatch.setattr(sweep_run, "_POLL_S", 0.2)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", scheduler_port=0, dashboard_address=":0"
    ) as cluster:
        cluster.scale(0)
        with distributed.Client(cluster.scheduler_address) as client:
            deadline = time.monotonic() + 30
            while client.nthreads() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not client.nthreads()
        start = time.monotonic()
        with pytest.raises(ConfigError, match=r"no workers for 1 s") as exc:
            run_sweep(
                slow_sweep_spec(
                    tmp_path,
                    samples=40,
                    chunk_points=1,
                    compartments='["brain"]',
                    statistics='["q0.5"]',
                    replicates=2000,
                ),
                tmp_path / "o",
                scheduler=cluster.scheduler_address,
                allow_long=True,
            )
        assert time.monotonic() - start < 20
        assert "--resume" in str(exc.value) and "\n" not in str(exc.value)
