"""A linear chain: states, generator, dosing — assembled from a list of transitions.

One cell's continuous-time Markov chain is ``dx/dt = Q x + b`` for the expected
counts, with ``Q[j, i]`` the rate (1/h) from state ``i`` to state ``j`` (columns sum to 0)
and ``b`` the infusion input (cells/h) while the infusion lasts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["Chain", "assemble"]


@dataclass(frozen=True)
class Chain:
    """One linear chain (possibly a batch of them with the same states).

    Attributes
    ----------
    states : tuple of str
        State labels.
    generator : ndarray, shape (*batch, n, n)
        ``Q`` (1/h); columns sum to 0.
    initial : ndarray, shape (*batch, n)
        Cells at time 0 (a bolus).
    input_rate : ndarray, shape (*batch, n)
        Cells/h entering each state during the infusion.
    infusion_h : float or ndarray
        Infusion duration (h); 0 for a bolus.
    """

    states: tuple[str, ...]
    generator: np.ndarray
    initial: np.ndarray
    input_rate: np.ndarray
    infusion_h: Any

    def index(self, name: str) -> int:
        """Position of a state."""
        return self.states.index(name)

    @property
    def dosed(self) -> np.ndarray:
        """Cells administered into each state in all (bolus plus the whole infusion)."""
        return self.initial + self.input_rate * np.asarray(self.infusion_h)[..., None]

    def start_distribution(self) -> np.ndarray:
        """Probability of each start state for one administered cell."""
        dose = self.dosed
        return dose / dose.sum(axis=-1, keepdims=True)


@lru_cache(maxsize=512)
def _pattern(states: tuple[str, ...], ends: tuple[tuple[str, str], ...]) -> tuple[dict[str, int], np.ndarray]:
    """State positions, and where each transition's rate goes in the flattened ``Q`` (off-diagonal, then diagonal)."""
    idx = {s: i for i, s in enumerate(states)}
    n = len(states)
    src = np.array([idx[a] for a, _ in ends], dtype=np.intp)
    dst = np.array([idx[b] for _, b in ends], dtype=np.intp)
    return idx, np.concatenate([dst * n + src, src * n + src])


def _is_batch(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.ndim > 0


def _scalars(values: Sequence[Any]) -> np.ndarray | None:
    """The values as a 1-D float array when none of them is an array (a batch), else ``None``."""
    try:
        out = np.array(values, dtype=float)
    except ValueError:  # arrays of different shapes among scalars
        return None
    return out if out.ndim == 1 else None


def _generator(n: int, flat_index: np.ndarray, rates: Sequence[Any]) -> np.ndarray:
    """``Q`` from transitions; each entry accumulated in the order of the transitions (the same sums every time)."""
    weights = _scalars(rates)
    if weights is not None:
        return np.bincount(flat_index, np.concatenate([weights, -weights]), n * n).reshape(n, n)
    batch = np.broadcast_shapes(*(np.shape(r) for r in rates))
    q = np.zeros((*batch, n * n))
    m = len(rates)
    for position, rate in zip(flat_index[:m], rates, strict=True):  # off-diagonal entries
        q[..., position] += rate
    for position, rate in zip(flat_index[m:], rates, strict=True):  # diagonal entries, in the same order
        q[..., position] -= rate
    return q.reshape(*batch, n, n)


def assemble(
    states: tuple[str, ...], moves: Sequence[tuple[str, str, Any]], entry: Mapping[str, Any], infusion_h: Any
) -> Chain:
    """Build a chain from transitions ``(from, to, rate)`` and the cells placed in each state at dosing.

    With ``infusion_h > 0`` the entry is spread over the infusion as a constant input;
    otherwise it is the initial state. Rates and amounts may be arrays (a batch).
    """
    idx, flat_index = _pattern(states, tuple((m[0], m[1]) for m in moves))
    n = len(states)
    q = _generator(n, flat_index, [m[2] for m in moves])
    if q.ndim == 2 and _scalars(list(entry.values())) is not None and not _is_batch(infusion_h):
        dose = np.zeros(n)
        for state, amount in entry.items():
            dose[idx[state]] += amount
        if float(infusion_h) > 0.0:
            return Chain(states, q, np.zeros(n), dose / float(infusion_h), float(infusion_h))
        return Chain(states, q, dose, np.zeros(n), 0.0)
    batch = np.broadcast_shapes(q.shape[:-2], *(np.shape(v) for v in entry.values()), np.shape(infusion_h))
    if batch != q.shape[:-2]:
        q = np.broadcast_to(q, (*batch, *q.shape[-2:])).copy()
    dose = np.zeros((*batch, n))
    for state, amount in entry.items():
        dose[..., idx[state]] += amount
    infusion = np.asarray(infusion_h, dtype=float)
    if np.all(infusion > 0.0):
        initial, input_rate = np.zeros_like(dose), dose / infusion[..., None]
    elif np.all(infusion == 0.0):
        initial, input_rate = dose, np.zeros_like(dose)
    else:  # a batch mixing boluses and infusions
        infusing = (infusion > 0.0)[..., None]
        initial = np.where(infusing, 0.0, dose)
        input_rate = np.where(infusing, dose / np.where(infusing, infusion[..., None], 1.0), 0.0)
    return Chain(states, q, initial, input_rate, infusion_h if infusion.ndim else float(infusion))
