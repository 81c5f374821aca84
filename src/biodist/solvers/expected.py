"""Expected counts of a compiled model: one solve of every class's chain, every readout from it.

The readouts asked for decide which chain is solved: when each of them can be read off
the cells' chain (``cells``, ``target``) that smaller chain is solved, otherwise the
refined chain with the label model's dead-cell states. The classes of a size model are
one stack, solved in one call; the expected counts are their weighted sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..config.tracer import BASIC_READOUTS
from ..errors import SolverError
from ..model import CompiledModel
from .linear import solve

__all__ = ["READOUTS", "Expected", "dense_times", "expected_fractions", "solve_model"]

#: Readouts of the cells' chain and the label model (any tracer of ``configs/tracers/`` may be asked for too).
READOUTS = BASIC_READOUTS
#: Points of the log-spaced grid of :func:`dense_times`.
DENSE_POINTS = 200


@dataclass(frozen=True)
class Expected:
    """Expected values of readouts at report times.

    Attributes
    ----------
    times_h : ndarray, shape (T,)
    views : dict of str to ndarray, shape (*batch, rows, T)
        Each readout asked for (rows as in ``model.readouts[name].rows``).
    exposure_cell_h : ndarray, shape (*batch, C, T), or None
        Cell-hours of the ``cells`` readout accumulated by each time.
    solver : str
    """

    times_h: np.ndarray
    views: dict[str, np.ndarray]
    exposure_cell_h: np.ndarray | None
    solver: str


def dense_times(times_h: Sequence[float] | np.ndarray, points: int = DENSE_POINTS) -> np.ndarray:
    """Log-spaced times from 3.6 s to the last report time, the report times included (for curves and peaks)."""
    times = np.asarray(times_h, dtype=float)
    t_end = max(float(times.max()), 1e-2)
    return np.unique(np.concatenate([np.geomspace(1e-3, t_end, points), times]))


def solve_model(
    model: CompiledModel,
    times_h: Sequence[float] | np.ndarray,
    readouts: Sequence[str] = ("cells",),
    method: str = "exact",
    exposure: bool = False,
) -> Expected:
    """Solve the model once and observe it through the readouts asked for.

    Parameters
    ----------
    model : CompiledModel
    times_h : array_like
        Report times (h).
    readouts : sequence of str
        What to return: ``"cells"``, ``"bli"``, ``"label"``, ``"target"`` or a tracer (``"111In"``,
        ``"dna"``...; each solves its own chain); ``"cells"`` alone (or with ``"bli"``, ``"target"``)
        solves the cells' chain only. An unknown name is refused before anything is solved.
    method : {"exact", "eig", "expm", "solve_ivp"}
        See :func:`biodist.solvers.linear.solve`.
    exposure : bool
        Also the cell-hours of the ``cells`` readout.

    Returns
    -------
    Expected
    """
    times = np.asarray(times_h, dtype=float)
    wanted = model.readouts
    basic = [r for r in readouts if r in READOUTS]
    tracers = [r for r in readouts if r not in READOUTS]
    tracer_views = {name: model.tracer(name) for name in tracers}  # unknown names refused before any solve
    lumped = all(wanted[r].lumped is not None for r in basic)
    views = {}
    cell_hours = None
    if basic or exposure or not tracers:
        chains = model.cell_chains if lumped else model.chains
        mixed, mixed_integral = _solve_chains(model, chains, times, method, exposure)
        for name in basic:
            observe = wanted[name].lumped if lumped else wanted[name].matrix
            views[name] = observe @ mixed
        if mixed_integral is not None:
            observe = wanted["cells"].lumped if lumped else wanted["cells"].matrix
            cell_hours = observe @ mixed_integral
    for name, (chains, readout) in tracer_views.items():
        views[name] = readout.matrix @ _solve_chains(model, chains, times, method, False)[0]
    return Expected(times, {r: views[r] for r in readouts}, cell_hours, method)


def _solve_chains(
    model: CompiledModel, chains: Sequence, times: np.ndarray, method: str, exposure: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Solve every class's chain in one stacked call, check the balance; the class-weighted states (and integrals)."""
    if len(chains) == 1:
        q, x0, b = chains[0].generator[None], chains[0].initial[None], chains[0].input_rate[None]
    else:
        q = np.stack([c.generator for c in chains])
        x0 = np.stack([np.broadcast_to(c.initial, q.shape[1:-1]) for c in chains])
        b = np.stack([np.broadcast_to(c.input_rate, q.shape[1:-1]) for c in chains])
    states, integrals = solve(q, x0, times, b, chains[0].infusion_h, method=method, exposure=exposure)
    _check_balance(q, x0, b, chains[0].infusion_h, times, states)
    return _mix(model.weights, states), None if integrals is None else _mix(model.weights, integrals)


#: Largest loss or gain of cells (fraction of those given) and most negative count accepted from a solve.
_BALANCE = 1e-6


def _check_balance(
    q: np.ndarray, x0: np.ndarray, b: np.ndarray, infusion_h: object, times: np.ndarray, states: np.ndarray
) -> None:
    """Refuse a solution that is not finite, loses or makes cells, or goes negative (beyond round-off).

    Every chain conserves cells (its columns sum to 0), so the states must add up to what was given by
    each time; rates too far apart for double precision break that first.
    """
    given = x0.sum(axis=-1)[..., None] + b.sum(axis=-1)[..., None] * np.minimum(
        times, np.asarray(infusion_h)[..., None]
    )
    scale = np.maximum(given.max(axis=-1, keepdims=True), 1e-300)
    total = states.sum(axis=-2)
    finite = bool(np.all(np.isfinite(states)))
    lost = np.abs(total - given) / scale if finite else np.inf
    negative = -states.min(axis=-2) / scale if finite else np.inf
    if not finite or np.max(lost) > _BALANCE or np.max(negative) > _BALANCE:
        what = "is not finite" if not finite else f"does not keep the cells given (off by {np.max(lost):.2g} of them)"
        raise SolverError(
            f"the solution {what}: the model's rates (largest {np.abs(q).max():.3g} /h) are too far apart for double "
            "precision over these report times; shorten the horizon or bring the extreme rates back towards the "
            "physiological range"
        )


def _mix(weights: np.ndarray, per_class: np.ndarray) -> np.ndarray:
    """Class-weighted sum (classes on the first axis), accumulated class by class."""
    if len(per_class) == 1 and weights[0] == 1.0:
        return per_class[0]
    total = weights[0] * per_class[0]
    for w, x in zip(weights[1:], per_class[1:], strict=True):
        total = total + w * x
    return total


def expected_fractions(model: CompiledModel, times_h: np.ndarray) -> np.ndarray:
    """Expected fraction of the dose in each of the cells' compartments, shape (*batch, C, T)."""
    counts = solve_model(model, times_h).views["cells"]
    return counts / np.asarray(model.dose_cells, dtype=float)[..., None, None]
