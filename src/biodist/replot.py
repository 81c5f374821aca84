"""``biodist plot``: redraw the figures of a saved result folder from its ``run.json`` and tables.

Expected counts are recomputed from the resolved scenario stored in ``run.json``
(the ODE is deterministic); Monte Carlo counts and bands are read back, never
re-sampled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .compare import CompareResult, RouteResult, _dense_times
from .config import apply_values, scenario_from_record
from .errors import ConfigError
from .expected import simulate
from .mc_result import MonteCarloResult

__all__ = ["redraw"]


def _record(folder: Path) -> dict[str, Any]:
    path = folder / "run.json"
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; give a folder written by simulate, mc or compare --out") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    kind = record.get("kind")
    if kind not in ("simulate", "mc", "compare"):
        raise ConfigError(f"{path}: kind = {kind!r}: allowed: simulate, mc, compare")
    return record


def _saved_mc(folder: Path, record: dict[str, Any]) -> MonteCarloResult:
    import pandas as pd

    path = folder / "counts.parquet"
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
    expected = np.broadcast_to(np.array([res["expected"][c] for c in comps]), counts.shape)
    return MonteCarloResult(
        scenario=scenario_from_record(record, folder / "run.json"),
        method=res["method"],
        seed=int(res["seed"]),
        n_cells=int(res["n_cells"]),
        compartments=tuple(comps),
        times_h=times,
        counts=counts,
        expected=expected,
        parameters={},
        histories={},
        diameters_um=np.array([]),
        class_weights=np.array([]),
        elapsed_s=float(res["elapsed_s"]),
        extra={"uncertainty": bool(res.get("uncertainty"))},
    )


def _saved_compare(folder: Path, record: dict[str, Any]) -> CompareResult:
    scenario = scenario_from_record(record, folder / "run.json")
    dense = _dense_times(scenario)
    routes = {}
    for name, saved in record["result"].items():
        sc = apply_values(scenario, {"route": name})
        quantiles = {float(q): np.asarray(v) for q, v in saved["target_quantiles"].items()}
        routes[name] = RouteResult(name, simulate(sc), simulate(sc, times_h=dense, label=False), quantiles)
    return CompareResult(
        scenario, routes, float(record["time_h"]), int(record["replicates"]), int(record["seed"]), record["uncertainty"]
    )


def redraw(folder: Path) -> list[Path]:
    """Redraw every figure of ``folder``; returns the files written."""
    from .writers import draw_compare, draw_simulate, savefig

    record = _record(folder)
    kind = record["kind"]
    if kind == "simulate":
        scenario = scenario_from_record(record, folder / "run.json")
        return draw_simulate(folder, scenario, np.asarray(record["result"]["times_h"], dtype=float))
    if kind == "compare":
        return draw_compare(folder, _saved_compare(folder, record))
    from .plotting import plot_target_histograms

    savefig(folder / "target_histogram.png", plot_target_histograms(_saved_mc(folder, record)))
    return [folder / "target_histogram.png"]
