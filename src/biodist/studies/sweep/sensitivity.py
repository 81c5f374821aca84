"""Sobol indices of a sweep's output (SALib's Saltelli design and Jansen estimators)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import ConfigError
from .spec import SweepSpec

if TYPE_CHECKING:  # pragma: no cover
    from .run import SweepRun

__all__ = ["analyze_sobol", "sensitivity_label", "sobol_indices"]


def sensitivity_label(spec: SweepSpec, where: Path | str = "sensitivity_output") -> tuple[str, str, float, str]:
    """Parse ``COMPARTMENT@TIME_H:STATISTIC`` and check it is one of the sweep's outputs."""
    out = spec.outputs
    label = spec.sensitivity_output or f"{out.compartments[0]}@{out.times_h[0]:g}:{out.statistics[0]}"
    try:
        comp, rest = label.split("@")
        time_txt, stat = rest.split(":")
        t = float(time_txt)
    except ValueError:
        raise ConfigError(
            f"{where}: sensitivity_output = {label!r}: expected COMPARTMENT@TIME_H:STATISTIC, e.g. knee@24:mean"
        ) from None
    if comp not in out.compartments or t not in out.times_h or stat not in out.statistics:
        raise ConfigError(f"{where}: sensitivity_output = {label!r}: not among the sweep's outputs")
    return label, comp, t, stat


def sobol_indices(run: SweepRun, frame: Any) -> dict[str, Any]:
    """First-order and total Sobol indices (with 95 % intervals) of the spec's ``sensitivity_output``.

    ``"COMPARTMENT@TIME_H:STATISTIC"``; default: the first compartment, time and statistic.
    ``frame`` is the sweep's rows (:func:`read_dataset`) or its output folder (then only the rows
    of the sensitivity output are read).
    """
    label, comp, t, stat = sensitivity_label(run.spec)
    if isinstance(frame, str | Path):
        from .store import ChunkStore

        wanted = [("compartment", "==", comp), ("time_h", "==", t), ("statistic", "==", stat)]
        frame = ChunkStore(frame).read(filters=wanted, columns=["point", "compartment", "time_h", "statistic", "cells"])
    rows = frame[(frame.compartment == comp) & (frame.time_h == t) & (frame.statistic == stat)].sort_values("point")
    if len(rows) != len(run.points):
        raise ConfigError(f"sensitivity_output = {label!r}: the sweep is incomplete; finish it with --resume")
    return {"output": label, "parameters": analyze_sobol(run.spec, rows["cells"].to_numpy())}


def analyze_sobol(spec: SweepSpec, y: np.ndarray) -> dict[str, dict[str, float]]:
    """Sobol indices of outputs ``y`` evaluated at the design points of a ``sobol`` spec (SALib, Jansen)."""
    from SALib.analyze import sobol as sobol_analyze

    res = sobol_analyze.analyze(spec.problem(), np.asarray(y, dtype=float), calc_second_order=False, seed=spec.seed)
    return {
        name: {k: float(res[k][i]) for k in ("S1", "S1_conf", "ST", "ST_conf")} for i, name in enumerate(spec.names)
    }
