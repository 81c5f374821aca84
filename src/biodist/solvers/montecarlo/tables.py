"""Jump-chain tables of the cells' chains: what the per-cell Monte Carlo kernel consumes.

A :class:`~biodist.model.Chain` is a continuous-time Markov chain for one cell. Its
generator ``Q`` gives, for each state, the total exit rate ``-Q[s, s]`` and the jump
distribution ``Q[j, s] / -Q[s, s]``; its dosing gives the distribution of the state a
cell starts in. Several chains (diameter classes, or the parameter sets of virtual
patients) are stacked so that one kernel call serves them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ...model import Chain


__all__ = ["ChainTables", "chain_tables"]


@dataclass(frozen=True)
class ChainTables:
    """Stacked tables for ``P`` parameter sets of ``K`` classes over ``n`` states.

    Attributes
    ----------
    class_cum : ndarray, shape (P, K)
        Cumulative class probabilities.
    start_cum : ndarray, shape (P, n)
        Cumulative start-state probabilities.
    exit_rate : ndarray, shape (P, K, n)
        Total exit rate of each state (1/h).
    dest_cum : ndarray, shape (P, K, n, n)
        Cumulative jump probabilities ``dest_cum[p, k, s, j]``.
    entry_h : ndarray, shape (P,)
        Infusion duration (h): cells enter uniformly over ``[0, entry_h]``.
    """

    class_cum: np.ndarray
    start_cum: np.ndarray
    exit_rate: np.ndarray
    dest_cum: np.ndarray
    entry_h: np.ndarray


def _cumulative(p: np.ndarray) -> np.ndarray:
    cum = np.cumsum(np.clip(p, 0.0, None), axis=-1)
    cum /= cum[..., -1:]
    cum[..., -1] = 1.0
    return cum


def _jump_tables(generator: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rate = -np.diag(generator).copy()
    rate[rate < 0] = 0.0
    jumps = generator.T.copy()  # row s: rates out of s
    np.fill_diagonal(jumps, 0.0)
    absorbing = rate == 0.0
    jumps[absorbing, :] = 0.0
    jumps[absorbing, absorbing.argmax()] = 1.0  # never used: absorbing states do not jump
    jumps[~absorbing] /= rate[~absorbing, None]
    return rate, _cumulative(jumps)


def chain_tables(sets: Sequence[tuple[np.ndarray, Sequence[Chain]]]) -> ChainTables:
    """Stack the jump tables of parameter sets, each a (class weights, class models) pair.

    Parameters
    ----------
    sets : sequence of (weights, chains)
        One entry per parameter set; every set has the same number ``K`` of
        classes and every chain the same states and dosing schedule.

    Returns
    -------
    ChainTables
    """
    rates, dests, starts, classes, entries = [], [], [], [], []
    for weights, chains in sets:
        tables = [_jump_tables(c.generator) for c in chains]
        rates.append(np.stack([t[0] for t in tables]))
        dests.append(np.stack([t[1] for t in tables]))
        starts.append(_cumulative(chains[0].start_distribution()))
        classes.append(_cumulative(np.asarray(weights, dtype=float)))
        entries.append(chains[0].infusion_h)
    return ChainTables(
        class_cum=np.stack(classes),
        start_cum=np.stack(starts),
        exit_rate=np.stack(rates),
        dest_cum=np.stack(dests),
        entry_h=np.asarray(entries, dtype=float),
    )
