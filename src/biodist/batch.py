"""Many parameter sets of the linear model at once: the fast path of sweeps.

Each point is compiled by the same :func:`~biodist.model.compile_model` as a
single run (no physiology is written twice); the expensive part — diagonalising
the generators and evaluating the exact solution at the report times — is done
for the whole stack of rate matrices in one vectorised call. Points whose
eigenvectors are ill-conditioned fall back to the single-point exact solver
(matrix exponential), exactly as :func:`biodist.ode.solve_linear` does.

Values are set with :func:`set_unchecked` (``model_copy``, no re-validation):
the sweep validates its ranges once, at their corners, before it starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .heterogeneity import compile_classes
from .ode import COND_MAX, solve_linear
from .scenario import Scenario

__all__ = ["batch_fractions", "batch_points", "set_unchecked"]


def _apply_tree(obj: Any, tree: Mapping[str, Any]) -> Any:
    """Copy ``obj`` once, with every leaf of the nested ``tree`` of updates applied."""
    get = obj.__getitem__ if isinstance(obj, dict) else obj.__getattribute__
    update = {k: (_apply_tree(get(k), v) if isinstance(v, dict) else v) for k, v in tree.items()}
    return {**obj, **update} if isinstance(obj, dict) else obj.model_copy(update=update)


def set_unchecked(scenario: Scenario, values: Mapping[str, float]) -> Scenario:
    """A copy of ``scenario`` with dotted keys set, without re-validation (keys as in ``--set``).

    Each object on the way is copied once, however many keys below it change.
    """
    tree: dict[str, Any] = {}
    for key, value in values.items():
        *path, leaf = key.split(".")
        node = tree
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = value
    return _apply_tree(scenario, tree)


def _stack_solve(
    q: np.ndarray, x0: np.ndarray, b: np.ndarray, infusion_h: float, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exact states for a stack of generators by batched eigendecomposition.

    Returns
    -------
    states : ndarray, shape (P, n, T)
    ok : ndarray of bool, shape (P,)
        False where the eigenvectors are ill-conditioned (those rows are to be redone).
    """
    w, v = np.linalg.eig(q)
    with np.errstate(all="ignore"):
        v_inv = np.linalg.inv(v)
        # condition number in the 1-norm from the inverse already at hand (no SVD)
        cond = np.abs(v).sum(axis=1).max(axis=1) * np.abs(v_inv).sum(axis=1).max(axis=1)
    ok = np.isfinite(cond) & (cond <= COND_MAX)
    cx = np.einsum("pij,pj->pi", v_inv, x0)
    if infusion_h > 0:
        cb = np.einsum("pij,pj->pi", v_inv, b)
        during = times < infusion_h
        s_in = np.append(times[during], infusion_h)
        z = w[:, :, None] * s_in[None, None, :]
        small = np.abs(z) < 1e-8
        safe = np.where(small, 1.0, w[:, :, None])
        with np.errstate(all="ignore"):
            phi1 = np.where(small, s_in * (1 + z / 2), np.expm1(z) / safe)
        coeff_in = phi1 * cb[:, :, None]  # x0 is zero during an infusion
        after = times[~during] - infusion_h
        c_end = coeff_in[:, :, -1]
        coeff_after = np.exp(w[:, :, None] * after[None, None, :]) * c_end[:, :, None]
        coeff = np.concatenate([coeff_in[:, :, :-1], coeff_after], axis=2)
    else:
        coeff = np.exp(w[:, :, None] * times[None, None, :]) * cx[:, :, None]
    states = np.einsum("pij,pjt->pit", v, coeff).real
    return states, ok


def batch_points(base: Scenario, names: Sequence[str], points: np.ndarray, times_h: np.ndarray) -> np.ndarray:
    """Expected fractions of the dose for sweep points, shape (P, C, T).

    Fast path: the varied values are set as arrays and the model is compiled once
    for all points (every formula in the compiler broadcasts). Where a varied key
    cannot be broadcast (e.g. the size model's per-point calibration, or a
    setting used in a branch), each point is compiled on its own — the same
    compiler, so the same numbers.
    """
    from .model import compile_model

    points = np.asarray(points, dtype=float)
    times = np.asarray(times_h, dtype=float)
    if base.heterogeneity == "none":
        try:
            with np.errstate(all="raise"):
                model = compile_model(set_unchecked(base, {k: points[:, d] for d, k in enumerate(names)}))
        except (TypeError, ValueError, FloatingPointError, AttributeError):
            model = None
        if model is not None and model.generator.shape[:-2] == (len(points),):
            order = np.argsort(times, kind="stable")
            dose = np.asarray(model.dose_cells, dtype=float).reshape(-1, 1)
            x0, b = model.initial / dose, model.input_rate / dose
            states, ok = _stack_solve(model.generator, x0, b, model.infusion_h, times[order])
            for i in np.flatnonzero(~ok):
                states[i] = solve_linear(model.generator[i], x0[i], times[order], b[i], model.infusion_h)
            out = np.empty_like(states)
            out[:, :, order] = states
            return out
    scenarios = [set_unchecked(base, dict(zip(names, map(float, row), strict=True))) for row in points]
    return batch_fractions(scenarios, times)


def batch_fractions(scenarios: Sequence[Scenario], times_h: np.ndarray) -> np.ndarray:
    """Expected fraction of the dose per compartment and time for many scenarios.

    All scenarios must share compartments (they differ in parameter values,
    as in a sweep); points with different infusion durations are solved in
    groups of equal duration.

    Returns
    -------
    ndarray, shape (P, C, T)
    """
    times = np.asarray(times_h, dtype=float)
    order = np.argsort(times, kind="stable")
    t_sorted = times[order]
    generators, starts, inputs, weights, owners, infusions = [], [], [], [], [], []
    for p, sc in enumerate(scenarios):
        classes = compile_classes(sc)
        for w, model in zip(classes.weights, classes.models, strict=True):
            generators.append(model.generator)
            starts.append(model.initial / model.dose_cells)
            inputs.append(model.input_rate / model.dose_cells)
            weights.append(w)
            owners.append(p)
            infusions.append(model.infusion_h)
    q = np.stack(generators)
    x0, b = np.stack(starts), np.stack(inputs)
    durations = np.asarray(infusions)
    states = np.empty((len(q), q.shape[1], len(times)))
    for duration in np.unique(durations):  # one stacked solve per infusion duration
        rows = np.flatnonzero(durations == duration)
        states[rows], ok = _stack_solve(q[rows], x0[rows], b[rows], float(duration), t_sorted)
        for i in rows[~ok]:  # ill-conditioned: the single-point exact solver (expm fallback)
            states[i] = solve_linear(q[i], x0[i], t_sorted, b[i], float(duration))
    out = np.zeros((len(scenarios), q.shape[1], len(times)))
    np.add.at(out, np.asarray(owners), np.asarray(weights)[:, None, None] * states)
    result = np.empty_like(out)
    result[:, :, order] = out
    return result
