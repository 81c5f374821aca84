"""A readout's samples: what an assay would count in each replicate of a Monte Carlo run.

* A readout that is a function of the cells' counts (``cells``, ``bli``, ``target``) is observed on the
  sampled counts themselves (its ``lumped`` matrix): same replicates, same cells.
* Any other (``label``, ``dna``, a tracer) follows each cell's tracer as **one unit** through the
  tracer's own chain, with the exact aggregated sampler and a random stream of its own: the unit moves
  with its cell, and leaks into free tracer, is taken up, excreted, decays or is degraded as a whole.
  The mean is exact (the unit's chain is the tracer's chain). The spread is exact when a cell's tracer
  never divides (no efflux, decay-corrected: ``label``, ``dna``; this reads the chain's loss of a dead cell's DNA or
  label as the loss of the whole cell's, at once — were it lost bit by bit, the spread would again be a bound);
  otherwise it is an **upper
  bound** on the counting spread, because a cell's share ``X`` of tracer in a row lies in [0, 1], so
  ``Var X = E[X²] − p² <= p − p² = p (1 − p)``, the variance of the whole unit. These samples are
  independent of the run's cell counts (their joint spread is not modelled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...config.tracer import Tracer
from ...model import CompiledModel
from ..expected import solve_model

__all__ = ["ReadoutSamples", "sample_readout", "sampled_states"]


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


def sampled_states(model: CompiledModel, name: str) -> int:
    """States of the chain a readout's units are sampled on (0: observed on the cells' counts)."""
    if model.readouts.get(name) is not None and model.readouts[name].lumped is not None:
        return 0
    chains = model.chains if name in model.readouts else model.tracer(name)[0]
    return len(chains[0].states)


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
    readout = base.readouts.get(name)
    per_set = [solve_model(m, times, readouts=(name,)).views[name] / m.dose_cells for m in models]
    expected = n_cells * (np.stack(per_set) if len(models) == replicates else np.repeat(per_set, replicates, axis=0))
    if readout is not None and readout.lumped is not None:
        samples = np.einsum("kc,rct->rkt", readout.lumped, counts)  # float: an attenuated bli is not whole cells
        return ReadoutSamples(name, readout.rows, readout.units, samples, expected, "exact")
    from .aggregated import plan, sample_aggregated

    observations = [m.readouts[name] if name in m.readouts else m.tracer(name)[1] for m in models[:1]]
    chains = [m.chains if name in m.readouts else m.tracer(name)[0] for m in models]
    plans = [plan(m, times, c) for m, c in zip(models, chains, strict=True)]
    matrix = observations[0].matrix
    samples = (
        np.stack(
            [
                matrix
                @ sample_aggregated(plans[r if len(plans) == replicates else 0], n_cells, np.random.default_rng(s))
                for r, s in enumerate(seqs)
            ]
        )
        .round()
        .astype(np.int64)
    )
    spread = "upper_bound" if _divides(base, name) else "exact"
    return ReadoutSamples(name, observations[0].rows, observations[0].units, samples, expected, spread)
