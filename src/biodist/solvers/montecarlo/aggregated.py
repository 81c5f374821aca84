"""The aggregated sampler: exact counts without following cells.

Between report times the cells of each state move together: the counts leaving a
state are multinomial over ``P(Δt) = e^{Q Δt}`` (from the linear solver), so the cost
is independent of the number of cells. During an infusion, cells still to be given
enter in each step with a binomial draw and land in the state of a cell that entered
at a uniform time within the step. Classes (diameters) are independent chains.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...model import Chain, CompiledModel
from ..linear import propagators, solve

__all__ = ["Plan", "plan", "sample_aggregated"]


@dataclass(frozen=True)
class Plan:
    """What the aggregated sampler needs per class and report-time step, computed once per parameter set."""

    weights: np.ndarray
    start: np.ndarray
    transitions: list[list[np.ndarray | None]]  # [class][step]: P(Δt) transposed, rows = from-state
    entered: list[list[np.ndarray | None]]  # [class][step]: state at step end of cells entering during it
    entering: list[float | None]  # [step]: probability that a still-pending cell enters during the step
    infusion: bool  # cells enter over an infusion (none given at 0), even when no step reaches into it


def _stochastic(p: np.ndarray, axis: int) -> np.ndarray:
    """Clip round-off negatives and renormalise (columns of a transition matrix, or a distribution)."""
    p = np.clip(p, 0.0, None)
    return p / p.sum(axis=axis, keepdims=True)


def plan(model: CompiledModel, times: np.ndarray, chains: tuple[Chain, ...] | None = None) -> Plan:
    """The transition matrices and entry distributions of every step, for every class.

    ``chains``: one chain per class to sample instead of the cells' (a tracer's, for a readout).
    """
    chains = model.cell_chains if chains is None else chains
    start = chains[0].start_distribution()
    infusion = float(model.infusion_h)
    steps = np.diff(np.concatenate([[0.0], times]))
    bounds, t = [], 0.0
    for t1 in times:
        bounds.append((t, t1))
        t = max(t, t1)
    entering: list[float | None] = []
    for a, t1 in bounds:
        b = min(t1, infusion)
        entering.append((b - a) / (infusion - a) if infusion > 0 and b > a else None)
    positive = steps > 0
    transitions, entered = [], []
    for chain in chains:
        p = propagators(chain.generator, steps[positive])
        it = iter(p)
        transitions.append([_stochastic(next(it), 0).T if ok else None for ok in positive])
        row = []
        for j, (a, t1) in enumerate(bounds):
            if entering[j] is None:
                row.append(None)
                continue
            b = min(t1, infusion)  # a cell entering uniformly in [a, b], seen at t1
            x = solve(chain.generator, np.zeros_like(start), [t1 - a], start / (b - a), b - a)[0][:, 0]
            row.append(_stochastic(x, 0))
        entered.append(row)
    return Plan(model.weights, start, transitions, entered, entering, infusion > 0)


def sample_aggregated(plan: Plan, n_cells: int, rng: np.random.Generator) -> np.ndarray:
    """Exact counts of one replicate, shape (C, T)."""
    n = len(plan.start)
    n_steps = len(plan.entering)
    per_class = rng.multinomial(n_cells, plan.weights)
    counts = np.zeros((n, n_steps), np.int64)
    for k in range(len(plan.weights)):
        if plan.infusion:
            state, pending = np.zeros(n, np.int64), int(per_class[k])
        else:
            state, pending = rng.multinomial(per_class[k], plan.start), 0
        for j in range(n_steps):
            p = plan.transitions[k][j]
            if p is not None:
                state = rng.multinomial(state, p).sum(axis=0)
            if pending and plan.entering[j] is not None:
                entering = rng.binomial(pending, plan.entering[j])
                pending -= entering
                state = state + rng.multinomial(entering, plan.entered[k][j])
            counts[:, j] += state
    return counts
