"""Monte Carlo: cell counts as random numbers, per-cell histories, virtual subjects.

Two samplers of the same compiled chain:

* ``"per_cell"`` walks every cell (numba kernel, parallel over fixed-size
  chunks) and records, besides the counts, what only a per-cell walk knows:
  cumulative arrivals at the target, the first arrival, lung passes and time in
  blood;
* ``"aggregated"`` samples the counts exactly without following cells:
  multinomial transitions between report times with ``P(Δt) = expm(Q Δt)``,
  at a cost independent of the number of cells (no histories).

Replicates are independent runs. With ``uncertainty=True`` each replicate is a
virtual subject that first draws its own parameter set from the scenario's
``[uncertainty]`` distributions.

Random numbers come from ``numpy.random.SeedSequence(seed)`` only: one child per
replicate, and from it one integer seed per chunk of cells. Chunk boundaries
depend on the number of cells alone, so a seed gives the same counts whatever
the number of threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import expm

from ._kernels import walk_cells
from .chain import chain_tables, start_distribution
from .config import apply_values
from .errors import ConfigError
from .heterogeneity import compile_classes
from .mc_result import MonteCarloResult
from .model import ARTERIAL, VENOUS, ModelClasses
from .physiology import LUNG
from .scenario import Scenario
from .uncertainty import sample_parameters

__all__ = ["CHUNK_CELLS", "METHODS", "monte_carlo"]

#: Cells per chunk of the per-cell kernel (fixed: results must not depend on threads).
CHUNK_CELLS = 1 << 16
#: Sampling methods.
METHODS = ("per_cell", "aggregated")
#: Chunks handed to one kernel call (so that progress can be reported between calls).
_CHUNKS_PER_CALL = 64

Progress = Callable[[int], None]


def _check(n_cells: int, replicates: int, method: str, seed: int | None) -> None:
    if method not in METHODS:
        raise ConfigError(f"method = {method!r}: allowed: {', '.join(METHODS)}")
    if isinstance(replicates, bool) or not isinstance(replicates, int | np.integer) or replicates < 1:
        raise ConfigError(f"replicates = {replicates!r}: must be an integer >= 1")
    if isinstance(n_cells, bool) or not isinstance(n_cells, int | np.integer) or n_cells < 1:
        raise ConfigError(f"n_cells = {n_cells!r}: must be an integer >= 1")
    if seed is not None and (not isinstance(seed, int | np.integer) or seed < 0):
        raise ConfigError(f"seed = {seed!r}: must be an integer >= 0 (or omitted)")


def _parameter_sets(
    scenario: Scenario, replicates: int, uncertainty: bool, seq: np.random.SeedSequence
) -> tuple[list[Scenario], dict[str, np.ndarray]]:
    if not uncertainty:
        return [scenario], {}
    if not scenario.uncertainty:
        raise ConfigError(
            f"{scenario.sources.get('scenario', 'scenario')}: uncertainty requested but the scenario has no "
            "[uncertainty] table; add distributions for the parameters to vary"
        )
    draws = sample_parameters(scenario.uncertainty, replicates, np.random.default_rng(seq))
    sets = [apply_values(scenario, {k: float(v[r]) for k, v in draws.items()}) for r in range(replicates)]
    return sets, draws


def _chunks(n_cells: int) -> np.ndarray:
    full, last = divmod(n_cells, CHUNK_CELLS)
    return np.array([CHUNK_CELLS] * full + ([last] if last else []), dtype=np.int64)


def _per_cell(
    classes: list[ModelClasses],
    n_cells: int,
    replicates: int,
    seqs: list[np.random.SeedSequence],
    times: np.ndarray,
    target: int,
    progress: Progress | None,
) -> dict[str, np.ndarray]:
    tables = chain_tables([(c.weights, c.models) for c in classes])
    base = classes[0].base
    per_rep = _chunks(n_cells)
    n_chunks = len(per_rep)
    sizes = np.tile(per_rep, replicates)
    # 64-bit chunk seeds: 32-bit words from one SeedSequence can repeat across many chunks
    seeds = np.concatenate([s.generate_state(n_chunks, dtype=np.uint64) for s in seqs])
    table_of = np.repeat(np.arange(replicates) if len(classes) > 1 else np.zeros(replicates, np.int64), n_chunks)
    total = len(sizes)
    owner = np.repeat(np.arange(replicates), n_chunks)  # replicate of each chunk
    n_states, n_times, n_classes = len(base.compartments), len(times), len(classes[0].weights)
    shapes = {
        "counts": ((n_states, n_times), np.int64),
        "arrivals": ((n_times,), np.int64),
        "first_arrival": ((), np.float64),
        "lung_passes": ((), np.int64),
        "circulating_h": ((), np.float64),
        "transits": ((), np.int64),
        "class_cells": ((n_classes,), np.int64),
        "class_passed": ((n_classes,), np.int64),
    }
    # per-replicate totals; per-chunk arrays only for the chunks of one kernel call (memory O(call), not O(run))
    reduced = {k: np.zeros((replicates, *shape), dtype) for k, (shape, dtype) in shapes.items()}
    reduced["first_arrival"][:] = np.inf
    venous, arterial, lung = base.index(VENOUS), base.index(ARTERIAL), base.index(LUNG)
    for start in range(0, total, _CHUNKS_PER_CALL):
        sl = slice(start, min(start + _CHUNKS_PER_CALL, total))
        m = sl.stop - sl.start
        out = {k: np.zeros((m, *shape), dtype) for k, (shape, dtype) in shapes.items()}
        walk_cells(
            sizes[sl],
            seeds[sl],
            table_of[sl].astype(np.int64),
            tables.class_cum,
            tables.start_cum,
            tables.exit_rate,
            tables.dest_cum,
            tables.entry_h,
            times,
            target,
            venous,
            arterial,
            lung,
            *out.values(),
        )
        for key, arr in out.items():
            if key == "first_arrival":
                np.minimum.at(reduced[key], owner[sl], arr)
            else:
                np.add.at(reduced[key], owner[sl], arr)
        if progress is not None:
            progress(int(sizes[sl].sum()))
    return reduced


def _transition(q: np.ndarray, dt: float) -> np.ndarray:
    p = np.clip(expm(q * dt), 0.0, None)
    return p / p.sum(axis=0, keepdims=True)


def _entered_distribution(q: np.ndarray, start: np.ndarray, a: float, b: float, t1: float) -> np.ndarray:
    """State at ``t1`` of a cell that entered at a uniform time in ``[a, b]``."""
    n = q.shape[0]
    aug = np.zeros((n + 1, n + 1))
    aug[:n, :n] = q
    aug[:n, n] = start
    mean_entry = expm(aug * (b - a))[:n, n] / (b - a)
    p = np.clip(expm(q * (t1 - b)) @ mean_entry, 0.0, None)
    return p / p.sum()


@dataclass(frozen=True)
class _Plan:
    """What the aggregated sampler needs per class and report-time step, computed once per parameter set."""

    weights: np.ndarray
    start: np.ndarray
    transitions: list[list[np.ndarray | None]]  # [class][step]: P(Δt) transposed, rows = from-state
    entered: list[list[np.ndarray | None]]  # [class][step]: state at step end of cells entering during it
    entering: list[float | None]  # [step]: probability that a still-pending cell enters during the step


def _plan(cls: ModelClasses, times: np.ndarray) -> _Plan:
    base = cls.base
    start = start_distribution(base)
    infusion = base.infusion_h
    steps = np.diff(np.concatenate([[0.0], times]))
    transitions, entered = [], []
    entering: list[float | None] = []
    t = 0.0
    bounds = []
    for t1 in times:
        bounds.append((t, t1))
        t = max(t, t1)
    for a, t1 in bounds:
        b = min(t1, infusion)
        entering.append((b - a) / (infusion - a) if infusion > 0 and b > a else None)
    for model in cls.models:
        q = model.generator
        transitions.append([_transition(q, dt).T if dt > 0 else None for dt in steps])
        entered.append(
            [
                _entered_distribution(q, start, a, min(t1, infusion), t1) if entering[j] is not None else None
                for j, (a, t1) in enumerate(bounds)
            ]
        )
    return _Plan(cls.weights, start, transitions, entered, entering)


def _aggregated_one(plan: _Plan, n_cells: int, rng: np.random.Generator) -> np.ndarray:
    """Exact counts of one replicate (classes independent; multinomial steps between report times)."""
    n = len(plan.start)
    n_steps = len(plan.entering)
    per_class = rng.multinomial(n_cells, plan.weights)
    counts = np.zeros((n, n_steps), np.int64)
    infusion = any(e is not None for e in plan.entering)
    for k in range(len(plan.weights)):
        if infusion:
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


def monte_carlo(
    scenario: Scenario,
    n_cells: int | None = None,
    replicates: int = 100,
    seed: int | None = None,
    method: str = "per_cell",
    uncertainty: bool = False,
    progress: Progress | None = None,
) -> MonteCarloResult:
    """Sample cell counts, histories and their spread.

    Parameters
    ----------
    scenario : Scenario
        From :func:`biodist.load_scenario`; its ``heterogeneity`` chooses the
        homogeneous or the size-resolved chain.
    n_cells : int, optional
        Cells per replicate; default: the scenario's dose (rounded).
    replicates : int
        Independent runs (virtual subjects with ``uncertainty=True``).
    seed : int, optional
        Seed of ``numpy.random.SeedSequence``; ``None`` draws fresh entropy
        (recorded in the result so the run can be repeated).
    method : {"per_cell", "aggregated"}
        See the module docstring.
    uncertainty : bool
        Draw each replicate's parameters from ``scenario.uncertainty``.
    progress : callable, optional
        Called with the number of cells just finished (per-cell method).

    Returns
    -------
    MonteCarloResult
    """
    n_cells = round(scenario.dose_cells) if n_cells is None else n_cells
    _check(n_cells, replicates, method, seed)
    root = np.random.SeedSequence(seed)
    param_seq, run_seq = root.spawn(2)
    sets, draws = _parameter_sets(scenario, replicates, uncertainty, param_seq)
    classes = [compile_classes(sc) for sc in sets]
    base = classes[0].base
    times = np.asarray(scenario.times_h, dtype=float)
    target = base.index(scenario.target)
    seqs = run_seq.spawn(replicates)
    started = time.perf_counter()
    if method == "per_cell":
        out = _per_cell(classes, n_cells, replicates, seqs, times, target, progress)
    else:
        plans = [_plan(c, times) for c in classes]  # P(Δt) once per parameter set, reused by every replicate
        out = {
            "counts": np.stack(
                [
                    _aggregated_one(plans[r if uncertainty else 0], n_cells, np.random.default_rng(seqs[r]))
                    for r in range(replicates)
                ]
            )
        }
    elapsed = time.perf_counter() - started
    return MonteCarloResult.build(
        scenario=scenario,
        sets=sets,
        classes=classes,
        method=method,
        seed=root.entropy,
        n_cells=n_cells,
        times_h=times,
        sampled=out,
        parameters=draws,
        elapsed_s=elapsed,
    )
