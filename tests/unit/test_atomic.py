"""Output folders written whole, checked before any work, and disk-full errors that name the file."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from tests.conftest import DEFAULT_SCENARIO

import biodist
from biodist import atomic
from biodist.atomic import atomic_folder, atomic_write, leftovers
from biodist.cli import main
from biodist.errors import ConfigError, OutputError
from biodist.io import folders
from biodist.io.folders import check_out


@pytest.fixture(scope="module")
def result():
    return biodist.simulate(biodist.load_scenario(DEFAULT_SCENARIO))


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_folder_is_swapped_in_whole_and_replaces_the_old_one(tmp_path, result):
    out = tmp_path / "r"
    biodist.save(result, out)
    (out / "time_course.png").write_bytes(b"old figure")  # a file of the old result
    other = biodist.simulate(result.scenario.with_values({"dose_cells": 2e6}))
    biodist.save(other, out)
    assert _names(out) == ["cells.csv", "run.json"]  # the old folder went as a whole, with its figure
    assert biodist.load(out).scenario.dose_cells == 2e6
    assert leftovers(out) == []


def test_a_failure_while_assembling_leaves_the_old_folder(tmp_path, result, monkeypatch):
    out = tmp_path / "r"
    biodist.save(result, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def fail(*args, **kwargs):
        raise RuntimeError("killed while writing")

    monkeypatch.setattr(folders, "_record", fail)
    with pytest.raises(RuntimeError):
        biodist.save(result, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert leftovers(out) == []


def test_without_an_exchange_two_renames_do_the_same(tmp_path, result, monkeypatch):
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)  # a system without renameat2
    out = tmp_path / "r"
    biodist.save(result, out)
    biodist.save(biodist.simulate(result.scenario.with_values({"dose_cells": 3e6})), out)
    assert biodist.load(out).scenario.dose_cells == 3e6
    assert leftovers(out) == []


def test_what_a_killed_swap_left_is_recovered(tmp_path):
    out = tmp_path / "r"
    # killed between the two renames: the old folder aside, none in place, a half-assembled one beside it
    gone = f"{atomic._host()}-999999999-"  # the run that made them has ended
    aside = tmp_path / f".r.{atomic._OLD}{gone}x1"
    aside.mkdir()
    (aside / "run.json").write_text("{}")
    half = tmp_path / f".r.{atomic._NEW}{gone}x2"
    half.mkdir()
    with atomic_folder(out) as tmp:
        assert (out / "run.json").read_text() == "{}"  # the old folder is back before anything else happens
        (tmp / "new.txt").write_text("new")
    assert _names(out) == ["new.txt"]
    assert leftovers(out) == []


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        (lambda d: (d / "f").mkdir() or (d / "f" / "mine.txt").write_text("x"), "no biodist run.json"),
        (lambda d: (d / "f").write_text("x"), "exists and is not a folder"),
        # a user's pictures and another tool's run.json look like a result by their names alone
        (
            lambda d: (
                (d / "f").mkdir() or (d / "f" / "run.json").write_text("{}") or (d / "f" / "a.png").write_text("x")
            ),
            "not a biodist record",
        ),
    ],
)
def test_folders_that_cannot_be_replaced_are_refused_first(tmp_path, setup, fragment):
    setup(tmp_path)
    with pytest.raises(ConfigError, match=fragment):
        check_out(tmp_path / "f")


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ("holiday.png", "'holiday.png', which biodist did not write"),
        ("sub.png/", "'sub.png', which biodist did not write"),  # a folder, named like a figure
    ],
)
def test_a_result_folder_with_anything_else_is_refused(tmp_path, result, extra, fragment):
    out = tmp_path / "r"
    biodist.save(result, out)
    if extra.endswith("/"):
        (out / extra).mkdir()
        (out / extra / "thesis.tex").write_text("precious")
    else:
        (out / extra).write_text("precious")
    with pytest.raises(ConfigError, match=fragment):
        biodist.save(result, out)
    assert (out / extra.rstrip("/")).exists()


def test_a_result_of_another_kind_is_not_replaced(tmp_path, result):
    out = tmp_path / "r"
    biodist.save(result, out)
    with pytest.raises(ConfigError, match="holds a 'simulate' result; writing a 'mc' result would delete it"):
        check_out(out, kind="mc")


def test_the_folder_checked_is_the_folder_replaced(tmp_path, result, monkeypatch):
    """``lnk/../mydata`` is reached through the link's target, as the kernel resolves it."""
    (tmp_path / "deep" / "empty").mkdir(parents=True)
    (tmp_path / "work" / "mydata").mkdir(parents=True)
    (tmp_path / "work" / "mydata" / "notes.txt").write_text("precious")
    (tmp_path / "work" / "lnk").symlink_to(tmp_path / "deep" / "empty")
    monkeypatch.chdir(tmp_path / "work")
    written = biodist.save(result, "lnk/../mydata")
    assert (tmp_path / "work" / "mydata" / "notes.txt").read_text() == "precious"
    assert written[0].parent == tmp_path / "deep" / "mydata"


def test_a_symlinked_folder_is_written_through(tmp_path, result):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    biodist.save(result, link)
    assert link.is_symlink() and (real / "run.json").is_file()
    assert leftovers(link) == [] and leftovers(real) == []


def test_a_symlink_loop_is_refused_in_one_line(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(ConfigError, match="symlink"):
        check_out(loop)


def test_the_new_folder_keeps_the_old_ones_permissions(tmp_path, result):
    out = tmp_path / "r"
    biodist.save(result, out)
    out.chmod(0o2750)
    biodist.save(result, out)
    assert oct(out.stat().st_mode & 0o7777) == oct(0o2750)


def test_a_live_runs_folder_in_the_making_is_left_alone(tmp_path, result):
    out = tmp_path / "r"
    live = tmp_path / f".r.{atomic._tag(atomic._NEW)}abcd"  # this process: alive
    live.mkdir()
    dead = tmp_path / f".r.{atomic._NEW}{atomic._host()}-999999999-abcd"  # no such process
    dead.mkdir()
    biodist.save(result, out)
    assert live.exists() and not dead.exists()


def test_the_working_folder_and_its_parents_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for bad in (".", "", str(tmp_path), str(tmp_path.parent)):
        with pytest.raises(ConfigError, match="--out"):
            check_out(bad)
    assert check_out("sub") == Path(os.path.realpath(tmp_path)) / "sub"  # a new sub-folder is fine


def test_too_little_space_is_refused_before_computing(tmp_path, monkeypatch, capsys):
    class Usage:
        free = 1000

    monkeypatch.setattr(folders.shutil, "disk_usage", lambda path: Usage())
    assert main(["simulate", str(DEFAULT_SCENARIO), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "MiB free" in err and "MiB needed" in err
    assert not (tmp_path / "r").exists()


def test_a_full_disk_names_the_file(tmp_path):
    def full(fh):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    path = tmp_path / "x.csv"
    with pytest.raises(OutputError, match=r"x\.csv: no space left on the device"):
        atomic_write(path, full)
    assert list(tmp_path.iterdir()) == []  # the temporary file went too


def test_a_full_disk_during_save_exits_2_naming_the_file_and_keeps_the_old_result(tmp_path, monkeypatch, capsys):
    out = tmp_path / "r"
    assert main(["simulate", str(DEFAULT_SCENARIO), "--out", str(out)]) == 0
    before = (out / "run.json").read_bytes()

    def full_write(fh):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(folders, "_write_table", lambda path, result: atomic_write(path, full_write))

    capsys.readouterr()
    assert main(["simulate", str(DEFAULT_SCENARIO), "--set", "dose_cells=2e6", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cells.csv: no space left on the device" in err, err
    assert (out / "run.json").read_bytes() == before
    assert leftovers(out) == []


def test_export_sbml_refuses_what_is_not_a_regular_file(tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert main(["export-sbml", str(DEFAULT_SCENARIO), "-o", str(fifo)]) == 2
    assert "not a regular file" in capsys.readouterr().err
    assert fifo.is_fifo()


def test_a_full_disk_stops_a_sweep_at_once(tmp_path, monkeypatch, capsys):
    from biodist.studies.sweep import run as sweep_run
    from biodist.studies.sweep.store import ChunkStore

    spec = tmp_path / "s.toml"
    spec.write_text(
        f'scenario = "{DEFAULT_SCENARIO}"\nchunk_points = 1\n[parameters."cell.lung_pass_fraction"]\n'
        'values = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06]\n[outputs]\ncompartments = ["knee"]\ntimes_h = [24]\n'
    )
    evaluated = []
    real = sweep_run.evaluate_chunk

    def counted(*args, **kwargs):
        evaluated.append(args[2])
        return real(*args, **kwargs)

    def full(self, i, payload):
        raise OutputError(f"{self.path(i)}: no space left on the device (nothing was written there)")

    monkeypatch.setattr(sweep_run, "evaluate_chunk", counted)
    monkeypatch.setattr(ChunkStore, "write", full)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "chunk-00000.parquet: no space left" in err, err
    assert len(evaluated) == 1  # the other five chunks were never computed
