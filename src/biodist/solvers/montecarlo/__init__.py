"""Monte Carlo: cell counts as random numbers, per-cell histories, virtual subjects.

Two samplers of the same compiled cells' chain:

* ``"per_cell"`` walks every cell (numba kernel, parallel over fixed-size chunks) and
  records, besides the counts, what only a per-cell walk knows: cumulative arrivals at
  the target, the first arrival, lung passes and time in blood;
* ``"aggregated"`` samples the counts exactly without following cells: multinomial
  transitions between report times, at a cost independent of the number of cells.

Replicates are independent runs. With ``uncertainty=True`` each replicate is a virtual
subject that first draws its own parameter set from the scenario's ``[uncertainty]``
distributions.

Random numbers come from ``numpy.random.SeedSequence(seed)`` only: one child for the
parameter draws and one per replicate, and from each replicate's one integer seed per
chunk of cells. A readout sampled on its own chain (:mod:`.readout`) draws from a third
child, so the cell counts are the same with or without it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...config import Scenario
from ...config.tracer import check_readout
from ...errors import ConfigError
from ...model import CompiledModel, compile_model
from ..budget import Cost, check_cost, say_duration
from .cost import estimate
from .readout import ReadoutSamples, expected_counts, sample_readout, sampled_states
from .subjects import off_median, parameter_sets

__all__ = ["METHODS", "ReadoutSamples", "Samples", "run_cost", "sample"]

#: Sampling methods.
METHODS = ("per_cell", "aggregated")


@dataclass(frozen=True)
class Samples:
    """What a Monte Carlo run drew, before it is labelled as a result.

    Attributes
    ----------
    scenario : Scenario
    models : list of CompiledModel
        One model, or one per virtual subject.
    method : str
    seed : int
        Entropy of the root ``SeedSequence``.
    n_cells : int
    times_h : ndarray, shape (T,)
    sampled : dict of str to ndarray
        The samplers' raw arrays (``counts`` (R, C, T), and the per-cell histories).
    expected : ndarray, shape (R, C, T)
        The ODE's expected counts for each replicate's parameters.
    parameters : dict of str to ndarray
        Drawn values per replicate.
    elapsed_s : float
    readout : ReadoutSamples or None
        The readout asked for, when it is not ``cells``.
    notes : tuple of str
        With uncertainty: each parameter whose value in the scenario is not the median of its distribution.
    """

    scenario: Scenario
    models: list[CompiledModel]
    method: str
    seed: int
    n_cells: int
    times_h: np.ndarray
    sampled: dict[str, np.ndarray]
    expected: np.ndarray
    parameters: dict[str, np.ndarray]
    elapsed_s: float
    readout: ReadoutSamples | None = None
    notes: tuple[str, ...] = ()


def _check(n_cells: int, replicates: int, method: str, seed: int | None) -> None:
    if method not in METHODS:
        raise ConfigError(f"method = {method!r}: allowed: {', '.join(METHODS)}")
    if isinstance(replicates, bool) or not isinstance(replicates, int | np.integer) or replicates < 1:
        raise ConfigError(f"replicates = {replicates!r}: must be an integer >= 1")
    if isinstance(n_cells, bool) or not isinstance(n_cells, int | np.integer) or n_cells < 1:
        raise ConfigError(f"n_cells = {n_cells!r}: must be an integer >= 1")
    if seed is not None and (not isinstance(seed, int | np.integer) or seed < 0):
        raise ConfigError(f"seed = {seed!r}: must be an integer >= 0 (or omitted)")


def run_cost(
    scenario: Scenario, n_cells: int, replicates: int, method: str, uncertainty: bool, readout: str = "cells"
) -> tuple[Cost, str]:
    """What a run will cost (with the readout's own sampling), and the cheaper alternative to name if refused."""
    base = compile_model(scenario)
    shape = (len(base.compartments), len(scenario.times_h), base.n_classes, replicates if uncertainty else 1)
    cost = estimate(n_cells, replicates, method, *shape)
    units = sampled_states(base, readout)
    if units:
        extra = estimate(n_cells, replicates, "aggregated", units, *shape[1:])
        cost = Cost(cost.seconds + extra.seconds, cost.bytes + extra.bytes, f"{cost.what}, then the {readout} readout")
    if method == "per_cell":
        fast = estimate(n_cells, replicates, "aggregated", *shape)
        cheaper = (
            f"use --method aggregated (exact counts without the per-cell histories: about "
            f"{say_duration(fast.seconds)}) or fewer --cells"
        )
    else:
        cheaper = "use fewer --replicates"
    return cost, cheaper


def _check_cost(
    scenario: Scenario, n_cells: int, replicates: int, method: str, uncertainty: bool, allow_long: bool, readout: str
) -> None:
    """Say what the run will cost before it starts; refuse it when too long (unless allowed) or too large."""
    cost, cheaper = run_cost(scenario, n_cells, replicates, method, uncertainty, readout)
    check_cost(cost, allow_long, cheaper)


def sample(
    scenario: Scenario,
    n_cells: int | None,
    replicates: int,
    seed: int | None,
    method: str,
    uncertainty: bool,
    progress: Any,
    allow_long: bool = False,
    readout: str = "cells",
) -> Samples:
    """Sample cell counts, histories and their spread (see :func:`biodist.monte_carlo`)."""
    n_cells = round(scenario.dose_cells) if n_cells is None else n_cells
    _check(n_cells, replicates, method, seed)
    check_readout(readout, scenario.folder)
    _check_cost(scenario, n_cells, replicates, method, uncertainty, allow_long, readout)
    root = np.random.SeedSequence(seed)
    param_seq, run_seq = root.spawn(2)
    sets, draws = parameter_sets(scenario, replicates, uncertainty, param_seq)
    models = [compile_model(sc) for sc in sets]
    times = np.asarray(scenario.times_h, dtype=float)
    seqs = run_seq.spawn(replicates)
    started = time.perf_counter()
    if method == "per_cell":
        from .per_cell import sample_per_cell  # numba: compiled on first use

        out = sample_per_cell(models, n_cells, seqs, times, progress)
    else:
        from .aggregated import plan, sample_aggregated

        plans = [plan(m, times) for m in models]  # P(Δt) once per parameter set, reused by every replicate
        counts = [
            sample_aggregated(plans[r if uncertainty else 0], n_cells, np.random.default_rng(seqs[r]))
            for r in range(replicates)
        ]
        out = {"counts": np.stack(counts)}
    observed = None
    if readout != "cells":
        observed = sample_readout(readout, models, out["counts"], n_cells, times, root.spawn(1)[0].spawn(replicates))
    elapsed = time.perf_counter() - started
    return Samples(
        scenario=scenario,
        models=models,
        method=method,
        seed=int(root.entropy),
        n_cells=int(n_cells),
        times_h=times,
        sampled=out,
        expected=expected_counts(models, times, n_cells, replicates),
        parameters=draws,
        elapsed_s=elapsed,
        readout=observed,
        notes=off_median(scenario, uncertainty) if uncertainty else (),
    )
