"""Run folders: :func:`save` a result (tables, ``run.json``, optionally figures) and :func:`load` it back.

Every ``--out`` of the command line goes through :func:`save`. A folder holds:

========== ===================================== ===========================================
kind       table                                 ``run.json``
========== ===================================== ===========================================
simulate   ``cells.csv``                         the resolved scenario and ``result`` (the JSON)
mc         ``counts.parquet``                    … and ``arrays`` (expectations, histories)
compare    ``compare.csv``                       … and ``arrays`` (each route's expected counts)
validate   ``validation.csv``                    ``results`` (one row per measurement)
fit        ``fit.json``                          the scenario and ``result``
========== ===================================== ===========================================

A folder is written whole: assembled in a temporary sibling and swapped into place (see
:func:`biodist.atomic.atomic_folder`), so a run killed at any moment leaves the previous
complete result or the new one, never a mix. Because a result replaces its folder, a
folder holding anything biodist did not write is refused (:func:`check_out`). :func:`load`
rebuilds the result from the files without solving or sampling again (folders written
before biodist 0.2 are completed from their scenario, as ``biodist plot`` always did).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_folder, atomic_write, write_json
from ..config import Scenario
from ..errors import BiodistError, BiodistWarning, ConfigError
from ..results import (
    CalibrationResult,
    CompareResult,
    FitResult,
    MonteCarloResult,
    Result,
    RouteResult,
    SimulationResult,
    ValidationResult,
    simulate,
)
from ..solvers.montecarlo import ReadoutSamples
from .calibration import POSTERIOR_FILES, read_samples, write_posterior
from .record import run_record

__all__ = ["KINDS", "TABLES", "IncompleteRecordWarning", "check_out", "load", "read_record", "save"]

#: The table file of each kind of result.
TABLES = {
    "simulate": "cells.csv",
    "mc": "counts.parquet",
    "compare": "compare.csv",
    "validate": "validation.csv",
    "fit": "fit.json",
    "calibrate": "summary.csv",
}
KINDS = tuple(TABLES)
_CSV_FLOATS = "%.10g"
#: Files a result folder may hold besides its table, ``run.json`` and figures.
_ALSO = {"fit": ("fitted_cell.toml",), "calibrate": POSTERIOR_FILES}
#: Free space asked for before a run whose output size is not estimated (figures and tables).
MIN_FREE_BYTES = 16 * 2**20
#: Longest folder name: its temporary siblings add ~60 characters and a name may have 255 bytes.
_MAX_NAME = 180


def _files_of(kind: str) -> set[str]:
    """Every file a result of ``kind`` is written with."""
    from .figures import FIGURES

    return {TABLES[kind], "run.json", *FIGURES.get(kind, ()), *_ALSO.get(kind, ())}


def _refuse(folder: Path | str, why: str) -> ConfigError:
    return ConfigError(f"--out {folder}: {why}")


def check_out(folder: str | Path, need_bytes: int = MIN_FREE_BYTES, kind: str | None = None) -> Path:
    """Check, before any work, that a result can be written to ``folder``; returns the path to write (no symlinks).

    A result replaces its folder whole, so an existing folder must be empty or hold one biodist
    result (of ``kind``, when given) and nothing else. Also refused: the working folder itself
    (or one holding it), a path that is not a folder, a parent that cannot be written, and less
    free space than ``need_bytes``. A symlink is followed: the folder it points to is replaced.
    """
    given = str(folder)
    if given in ("", "."):
        raise _refuse(repr(given), "give a folder name for the results (e.g. --out results/run1)")
    target = Path(os.path.realpath(folder))  # what the kernel will reach: symlinks and '..' as it resolves them
    if os.path.islink(target):
        raise _refuse(given, "is a symlink that does not resolve (a loop); give a folder")
    if len(os.fsencode(target.name)) > _MAX_NAME:
        raise _refuse(given, f"the folder name is longer than {_MAX_NAME} bytes; give a shorter one")
    here = Path(os.path.realpath(Path.cwd()))
    if target == here or target in here.parents:
        raise _refuse(
            given,
            "is the working folder or holds it; a result replaces its folder whole, so give a new folder name "
            "(e.g. --out results/run1)",
        )
    if target.exists() and not target.is_dir():
        raise _refuse(given, "exists and is not a folder; give a folder to write the results into")
    if target.is_dir():
        _check_replaceable(given, target, kind)
    existing = next(p for p in (target.parent, *target.parent.parents) if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK | os.R_OK):
        raise _refuse(given, f"{existing} cannot be written (permission denied); write elsewhere")
    free = shutil.disk_usage(existing).free
    if free < need_bytes:
        raise _refuse(
            given,
            f"{free / 2**20:.1f} MiB free on its device, {need_bytes / 2**20:.1f} MiB needed; "
            "free space or write elsewhere",
        )
    return target


def _check_replaceable(given: str, target: Path, kind: str | None) -> None:
    """An existing folder may be replaced only if it is empty or holds one biodist result and nothing else."""
    entries = list(target.iterdir())
    if not entries:
        return
    hint = "a result replaces its folder whole, so give a new or empty folder"
    if not (target / "run.json").is_file():
        raise _refuse(given, f"holds {entries[0].name!r} and no biodist run.json; {hint}")
    try:
        old_kind = read_record(target)["kind"]
    except ConfigError:
        raise _refuse(given, f"its run.json is not a biodist record; {hint}") from None
    if kind is not None and old_kind != kind:
        raise _refuse(given, f"holds a {old_kind!r} result; writing a {kind!r} result would delete it; {hint}")
    ours = _files_of(old_kind)
    for p in entries:
        if p.name.startswith(".") and p.name.endswith(".tmp") and p.name[1:].split(".tmp")[0].rsplit(".", 1)[0] in ours:
            continue  # a temporary file an older biodist left when it was killed while writing
        if p.name not in ours or p.is_symlink() or not p.is_file():
            raise _refuse(given, f"holds {p.name!r}, which biodist did not write with this result; {hint}")


class IncompleteRecordWarning(BiodistWarning):
    """A folder written by an older biodist lacks some of what a result holds today."""


def _write_table(path: Path, result: Result) -> None:
    if path.suffix == ".json":
        write_json(path, result.to_dict())
        return
    frame = result.to_dataframe()
    if path.suffix == ".parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        payload = buf.getvalue()
    else:
        float_format = None if isinstance(result, ValidationResult) else _CSV_FLOATS
        payload = frame.to_csv(index=False, float_format=float_format).encode()
    atomic_write(path, lambda fh: fh.write(payload))


def _json_array(values: Any) -> list:
    """An array as nested lists, with ``null`` for infinity (JSON has none): a first arrival that never happened."""
    arr = np.asarray(values, dtype=float)
    return np.where(np.isinf(arr), None, arr).tolist()


def _from_json_array(values: Any) -> np.ndarray:
    arr = np.array(values, dtype=object)
    return np.where(arr == None, np.inf, arr).astype(float)  # noqa: E711 - elementwise comparison


def _arrays(result: Result) -> dict[str, Any]:
    """What :func:`load` needs beyond the ``--json`` object to rebuild a result exactly."""
    if isinstance(result, MonteCarloResult):
        return {
            "expected": result.expected.tolist(),
            "parameters": {k: v.tolist() for k, v in result.parameters.items()},
            "histories": {k: _json_array(v) for k, v in result.histories.items()},
            "diameters_um": result.diameters_um.tolist(),
            "class_weights": result.class_weights.tolist(),
        } | (_readout_arrays(result.readout) if result.readout is not None else {})
    if isinstance(result, CompareResult):
        return {"routes": {name: r.ode.to_dict() for name, r in result.routes.items()}}
    return {}


def _readout_arrays(ro: ReadoutSamples) -> dict[str, Any]:
    return {
        "readout": {
            "name": ro.name,
            "rows": list(ro.rows),
            "units": ro.units,
            "spread": ro.spread,
            "samples": ro.samples.tolist(),
            "expected": ro.expected.tolist(),
        }
    }


def _load_readout(saved: dict[str, Any] | None) -> ReadoutSamples | None:
    if saved is None:
        return None
    samples = np.asarray(saved["samples"])  # int64 for a tracer's units, float for a readout of the counts
    expected = np.asarray(saved["expected"], dtype=float)
    return ReadoutSamples(saved["name"], tuple(saved["rows"]), saved["units"], samples, expected, saved["spread"])


def _record(result: Result, command: list[str] | None, scenario: Scenario | None) -> dict[str, Any]:
    kind = result.kind
    if isinstance(result, ValidationResult):
        return run_record(None, command, kind=kind, results=result.rows)
    if isinstance(result, FitResult):
        return run_record(scenario, command, kind=kind, result=result.to_dict())
    if isinstance(result, CalibrationResult):
        return run_record(None, command, kind=kind, result=result.to_dict(), diagnostics=result.diagnostics)
    extra: dict[str, Any] = {"kind": kind}
    if isinstance(result, MonteCarloResult):
        extra["seed"] = result.seed
    if isinstance(result, CompareResult):
        extra |= {
            "routes": list(result.routes),
            "time_h": result.time_h,
            "replicates": result.replicates,
            "seed": result.seed,
            "uncertainty": result.uncertainty,
        }
    extra["result"] = result.to_dict()
    extra["arrays"] = _arrays(result)
    return run_record(result.scenario, command, **extra)


def save(
    result: Result,
    folder: str | Path,
    *,
    figures: bool = False,
    command: list[str] | None = None,
    scenario: Scenario | None = None,
    also: Callable[[Path], list[Path]] | None = None,
) -> list[Path]:
    """Write a result into ``folder``, whole: its table, ``run.json`` and, with ``figures=True``, its figures.

    Parameters
    ----------
    result : Result
        From :func:`biodist.simulate`, :func:`biodist.monte_carlo`, :func:`biodist.compare`,
        :func:`biodist.validate` or :func:`biodist.fit`.
    folder : path
        Created if missing; an existing result folder is replaced as a whole. A folder holding
        files biodist did not write is refused (see :func:`check_out`).
    figures : bool
        Also draw the result's figures (PNG).
    command : list of str, optional
        The command line to record (default: ``sys.argv``).
    scenario : Scenario, optional
        The scenario of a fit (recorded in ``run.json``).
    also : callable, optional
        Writes further files into the folder being assembled (given its path); returns them.

    Returns
    -------
    list of Path
        The files written (at their final place): figures and ``also``'s first, then the table, then ``run.json``.
    """
    folder = check_out(folder, kind=result.kind)
    with atomic_folder(folder) as tmp:
        extra = also(tmp) if also is not None else []
        if isinstance(result, CalibrationResult):
            extra += write_posterior(tmp, result)
        drawn = []
        if figures:
            from .figures import write_figures

            drawn = write_figures(tmp, result)
        table = tmp / TABLES[result.kind]
        _write_table(table, result)
        write_json(tmp / "run.json", _record(result, command, scenario))  # last: a folder with run.json is whole
        written = [*extra, *drawn, table, tmp / "run.json"]
    return [folder / p.relative_to(tmp) for p in written]


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------
def read_record(folder: str | Path) -> dict[str, Any]:
    """The ``run.json`` of a folder, checked to be a biodist record of a known kind."""
    path = Path(folder) / "run.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid JSON (not UTF-8 text); write the folder again with --out") from None
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; give a folder written with --out") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    kind = record.get("kind") if isinstance(record, dict) else None
    if kind not in KINDS:
        raise ConfigError(f"{path}: kind = {kind!r}: allowed: {', '.join(KINDS)}")
    return record


def _load_mc(folder: Path, record: dict[str, Any], scenario: Scenario) -> MonteCarloResult:
    import pandas as pd

    path = folder / TABLES["mc"]
    try:
        df = pd.read_parquet(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (written by mc --out)") from None
    res = record["result"]
    comps = list(res["mean"])
    times = np.asarray(res["times_h"], dtype=float)
    cube = df.pivot_table(index=["replicate", "compartment"], columns="time_h", values="cells", sort=True)
    replicates = int(df["replicate"].max()) + 1
    counts = np.stack([cube.loc[r].loc[comps].to_numpy() for r in range(replicates)]).astype(np.int64)
    arrays = record.get("arrays") or {}
    if "expected" in arrays:
        expected = np.asarray(arrays["expected"], dtype=float)
    else:  # written before 0.2: the mean expectation for every replicate
        warnings.warn(
            f"{folder}: written before biodist 0.2; it holds the counts and their summary but not the replicates' "
            "expectations, drawn parameters or histories: the loaded result's spread() and histories are incomplete",
            IncompleteRecordWarning,
            stacklevel=3,
        )
        expected = np.broadcast_to(np.array([res["expected"][c] for c in comps]), counts.shape)
    return MonteCarloResult(
        scenario=scenario,
        method=res["method"],
        seed=int(res["seed"]),
        n_cells=int(res["n_cells"]),
        compartments=tuple(comps),
        times_h=times,
        counts=counts,
        expected=expected,
        parameters={k: np.asarray(v) for k, v in arrays.get("parameters", {}).items()},
        histories={k: _from_json_array(v) for k, v in arrays.get("histories", {}).items()},
        diameters_um=np.asarray(arrays.get("diameters_um", []), dtype=float),
        class_weights=np.asarray(arrays.get("class_weights", []), dtype=float),
        elapsed_s=float(res["elapsed_s"]),
        extra={"uncertainty": bool(res.get("uncertainty"))},
        readout=_load_readout(arrays.get("readout")),
        notes=tuple(res.get("notes", ())),
    )


def _load_compare(record: dict[str, Any], scenario: Scenario) -> CompareResult:
    saved = (record.get("arrays") or {}).get("routes", {})
    routes = {}
    for name, data in record["result"].items():
        sc = scenario.with_values({"route": name})
        shown = data.get("readout")
        readout = shown["name"] if shown else "cells"
        extra = () if readout == "cells" else (readout,)
        ode = SimulationResult.from_dict(sc, saved[name]) if name in saved else simulate(sc, readouts=extra)
        quantiles = {float(q): np.asarray(v) for q, v in data["target_quantiles"].items()}
        shown_q = {float(q): np.asarray(v) for q, v in shown["target_quantiles"].items()} if shown else None
        routes[name] = RouteResult(name, ode, quantiles, None, readout, shown_q)
    return CompareResult(
        scenario, routes, float(record["time_h"]), int(record["replicates"]), int(record["seed"]), record["uncertainty"]
    )


def _load_calibration(folder: Path, record: dict[str, Any]) -> CalibrationResult:
    res = record["result"]
    names = list(record["diagnostics"])
    samples, prior = read_samples(folder / "posterior.parquet", names)
    keys = ("parameters", "correlations", "converged", "coverage_90", "predictive")
    info = {k: v for k, v in res.items() if k not in keys}
    return CalibrationResult(names, samples, prior, record["diagnostics"], res["predictive"], info)


def load(folder: str | Path) -> Result:
    """Read back a result written by :func:`save` (or by ``--out``).

    Returns
    -------
    Result
        A :class:`SimulationResult`, :class:`MonteCarloResult`, :class:`CompareResult`,
        :class:`ValidationResult` or :class:`FitResult`.
    """
    folder = Path(folder)
    record = read_record(folder)
    try:
        return _load(folder, record)
    except BiodistError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OSError) as exc:  # a damaged folder
        what = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        raise ConfigError(f"{folder}: not a complete biodist result ({what}); write it again with --out") from None


def _load(folder: Path, record: dict[str, Any]) -> Result:
    kind = record["kind"]
    if kind == "validate":
        return ValidationResult(list(record["results"]))
    if kind == "calibrate":
        return _load_calibration(folder, record)
    if kind == "fit" and "scenario" not in record:
        return FitResult.from_dict(record["result"])
    scenario = Scenario.from_record(record, folder / "run.json")
    if kind == "simulate":
        return SimulationResult.from_dict(scenario, record["result"])
    if kind == "mc":
        return _load_mc(folder, record, scenario)
    if kind == "compare":
        return _load_compare(record, scenario)
    return FitResult.from_dict(record["result"])
