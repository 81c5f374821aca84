"""Many parameter sets of the linear model at once: the fast path of sweeps (and of anyone's loop over points).

Each point is compiled by the same :func:`~biodist.model.compile_model` as a single
run (no physiology is written twice). The varied values are set as arrays
(:func:`~biodist.config.keys.assign`, without validation: a sweep validates its ranges
once, at their corners), the model compiles once for the whole chunk — every formula
of the compiler broadcasts — and the stack of rate matrices is solved in one call of
the linear solver. Where a varied key cannot be broadcast (the size model's per-point
calibration, or a setting used in a branch), each point is compiled on its own and the
chains of all points are still solved as one stack.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...config import Scenario
from ...config.keys import assign
from ...model import compile_model
from ...solvers import solve, solve_model

__all__ = ["batch_fractions", "batch_points", "simulate_points"]


def _batched(base: Scenario, names: Sequence[str], points: np.ndarray, times: np.ndarray) -> np.ndarray | None:
    """All points from one compile, or ``None`` when the varied keys do not broadcast."""
    if base.heterogeneity != "none":
        return None
    try:
        with np.errstate(all="raise"):
            model = compile_model(assign(base, {k: points[:, d] for d, k in enumerate(names)}))
            chain = model.cell_chains[0]
    except (TypeError, ValueError, FloatingPointError, AttributeError):
        return None
    if chain.generator.shape[:-2] != (len(points),):
        return None
    dose = np.broadcast_to(np.asarray(model.dose_cells, dtype=float), (len(points),))
    return solve_model(model, times).views["cells"] / dose[:, None, None]


def batch_points(base: Scenario, names: Sequence[str], points: np.ndarray, times_h: np.ndarray) -> np.ndarray:
    """Expected fractions of the dose for sweep points, shape (P, C, T).

    Parameters
    ----------
    base : Scenario
        The scenario the points vary.
    names : sequence of str
        Dotted keys (as in ``--set``), one per column of ``points``.
    points : ndarray, shape (P, D)
        Values, one row per point.
    times_h : array_like
        Report times (h).
    """
    points = np.asarray(points, dtype=float)
    times = np.asarray(times_h, dtype=float)
    fast = _batched(base, names, points, times)
    if fast is not None:
        return fast
    return batch_fractions([assign(base, dict(zip(names, map(float, row), strict=True))) for row in points], times)


def batch_fractions(scenarios: Sequence[Scenario], times_h: np.ndarray) -> np.ndarray:
    """Expected fraction of the dose per compartment and time for many scenarios, shape (P, C, T).

    Each scenario is compiled on its own; the chains of all of them (every class of every
    point) are solved as one stack. All scenarios must share compartments (they differ in
    values, as in a sweep).
    """
    times = np.asarray(times_h, dtype=float)
    models = [compile_model(sc) for sc in scenarios]
    chains = [(p, w, c) for p, m in enumerate(models) for w, c in zip(m.weights, m.cell_chains, strict=True)]
    dose = np.array([float(models[p].dose_cells) for p, _, _ in chains])
    states = solve(
        np.stack([c.generator for _, _, c in chains]),
        np.stack([c.initial for _, _, c in chains]) / dose[:, None],
        times,
        np.stack([c.input_rate for _, _, c in chains]) / dose[:, None],
        np.array([float(c.infusion_h) for _, _, c in chains]),
    )[0]
    out = np.zeros((len(models), states.shape[1], len(times)))
    np.add.at(out, np.array([p for p, _, _ in chains]), np.array([w for _, w, _ in chains])[:, None, None] * states)
    return out


def simulate_points(base: Scenario, values: dict[str, Sequence[float]], times_h: Sequence[float] | None = None) -> dict:
    """Expected cells for many values of some keys at once (one compile and one stacked solve where possible).

    Parameters
    ----------
    base : Scenario
    values : dict of str to sequence
        Dotted key → values; all sequences have the same length P.
    times_h : array_like, optional
        Report times (h); default: the scenario's.

    Returns
    -------
    dict
        ``compartments`` (tuple), ``times_h`` (T,), ``cells`` (P, C, T).

    Examples
    --------
    >>> out = simulate_points(sc, {"cell.lung_pass_fraction": np.linspace(0.015, 0.037, 50)})  # doctest: +SKIP
    """
    names = list(values)
    points = np.column_stack([np.asarray(values[k], dtype=float) for k in names])
    times = np.asarray(base.times_h if times_h is None else times_h, dtype=float)
    dose = points[:, names.index("dose_cells")] if "dose_cells" in names else np.full(len(points), base.dose_cells)
    cells = batch_points(base, names, points, times) * dose[:, None, None]
    return {"compartments": compile_model(base).compartments, "times_h": times, "cells": cells}
