"""A readout's samples: what an assay would count in each replicate of a Monte Carlo run.

* A readout that is a function of the cells' counts (``cells``, ``bli``, ``target``) is observed on the
  sampled counts themselves (its ``lumped`` matrix): same replicates, same cells.
* Any other (``label``, ``dna``, a tracer) follows each cell's tracer as **one unit** through the
  tracer's own chain, with the exact aggregated sampler and a random stream of its own: the unit moves
  with its cell, and leaks into free tracer, is taken up, excreted, decays or is degraded as a whole.
  The mean is exact (the unit's chain is the tracer's chain). The spread is exact when a cell's tracer
  never divides (no efflux, decay-corrected: ``label``, ``dna``; this reads the chain's loss of a dead cell's
  DNA or label as the loss of the whole cell's, at once — were it lost bit by bit, the spread would again be
  a bound); otherwise it is an **upper bound** on the counting spread, because a cell's share ``X`` of
  tracer in a row lies in [0, 1], so ``Var X = E[X²] − p² <= p − p² = p (1 − p)``, the variance of the whole
  unit. These samples are independent of the run's cell counts (their joint spread is not modelled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...config.tracer import Tracer
from ...model import Chain, CompiledModel, Readout
from ..expected import solve_model

__all__ = ["ReadoutSamples", "expected_counts", "sample_readout", "sampled_states"]


@dataclass(frozen=True)
class ReadoutSamples:
    """One readout per replicate.

    Attributes
    ----------
    name : str
        The readout (``"bli"``, ``"dna"``, ``"111In"``...).
    rows : tuple of str
        What each row counts (compartments; for a tracer also free tracer and what left the body).
    units : str
    samples : ndarray, shape (R, k, T)
        Sampled readout (cell equivalents): whole units (int64) for a tracer's chain, floats for a readout of
        the counts (an attenuated ``bli`` is a fraction of its cells).
    expected : ndarray, shape (R, k, T)
        The ODE's expected readout for each replicate's parameters.
    spread : str
        ``"exact"`` or ``"upper_bound"`` (see the module docstring).
    """

    name: str
    rows: tuple[str, ...]
    units: str
    samples: np.ndarray
    expected: np.ndarray
    spread: str


def expected_counts(
    models: Sequence[CompiledModel], times: np.ndarray, n_cells: int, replicates: int, readout: str = "cells"
) -> np.ndarray:
    """ODE expectation of a readout for each replicate (``models``: one, or one per replicate), shape (R, k, T)."""
    fractions = np.stack([solve_model(m, times, readouts=(readout,)).views[readout] / m.dose_cells for m in models])
    return n_cells * (fractions if len(models) == replicates else np.repeat(fractions, replicates, axis=0))


def _units(model: CompiledModel, name: str) -> tuple[tuple[Chain, ...], Readout]:
    """The chains a readout's units walk (the refined chain for ``label``, else the tracer's) and its observation."""
    return (model.chains, model.readouts[name]) if name in model.readouts else model.tracer(name)


def _of_counts(model: CompiledModel, name: str) -> bool:
    """Whether the readout is a function of the cells' counts (it has a matrix on the cells' chain)."""
    return name in model.readouts and model.readouts[name].lumped is not None


def sampled_states(model: CompiledModel, name: str) -> int:
    """States of the chain a readout's units are sampled on (0: observed on the cells' counts)."""
    return 0 if _of_counts(model, name) else len(_units(model, name)[0][0].states)


def _divides(model: CompiledModel, name: str) -> bool:
    """Whether a cell's tracer can split between places (efflux) or fade (decay not corrected)."""
    if name in model.readouts:
        return False
    tracer = Tracer.load(name, base=model.scenario.folder)
    return tracer.efflux_per_h > 0 or not tracer.decay_corrected


def sample_readout(
    name: str,
    models: Sequence[CompiledModel],
    counts: np.ndarray,
    n_cells: int,
    times: np.ndarray,
    seqs: Sequence[np.random.SeedSequence],
) -> ReadoutSamples:
    """Sample readout ``name`` for every replicate (``models``: one, or one per replicate; ``seqs``: per replicate)."""
    replicates = counts.shape[0]
    base = models[0]
    expected = expected_counts(models, times, n_cells, replicates, name)
    if _of_counts(base, name):
        readout = base.readouts[name]
        samples = np.einsum("kc,rct->rkt", readout.lumped, counts)  # float: an attenuated bli is not whole cells
        return ReadoutSamples(name, readout.rows, readout.units, samples, expected, "exact")
    from .aggregated import plan, sample_aggregated

    plans = [plan(m, times, _units(m, name)[0]) for m in models]
    observation = _units(base, name)[1]
    drawn = [
        sample_aggregated(plans[r if len(plans) == replicates else 0], n_cells, np.random.default_rng(s))
        for r, s in enumerate(seqs)
    ]
    samples = np.einsum("ks,rst->rkt", observation.matrix, np.stack(drawn)).round().astype(np.int64)
    spread = "upper_bound" if _divides(base, name) else "exact"
    return ReadoutSamples(name, observation.rows, observation.units, samples, expected, spread)
