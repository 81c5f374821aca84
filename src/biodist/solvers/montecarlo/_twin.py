"""Plain-numpy twin of :func:`biodist.solvers.montecarlo._kernels.walk_cells`, for small inputs and tests.

An independent implementation: it advances all cells of a chunk together, one
jump per step, with vectorised numpy and a ``numpy.random.Generator``. It
samples the same process as the numba kernel, so the two agree in
distribution (not draw for draw).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .tables import ChainTables

__all__ = ["walk_cells_numpy"]


def _draw(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise inverse-CDF draw: ``cum`` (m, n) cumulative rows, ``u`` (m,) uniforms."""
    return np.minimum((u[:, None] >= cum).sum(axis=1), cum.shape[1] - 1)


def walk_cells_numpy(
    tables: ChainTables,
    table: int,
    n_cells: int,
    times: np.ndarray,
    target: int,
    venous: int,
    arterial: int,
    lung: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Walk ``n_cells`` cells of parameter set ``table``; return the same summaries as the kernel.

    Returns
    -------
    dict
        ``counts`` (n, T), ``arrivals`` (T,), ``first_arrival`` (scalar),
        ``lung_passes``, ``circulating_h``, ``transits``, ``class_cells`` (K,),
        ``class_passed`` (K,).
    """
    n_states = tables.exit_rate.shape[2]
    n_classes = tables.class_cum.shape[1]
    t_end = times[-1]
    k = _draw(np.broadcast_to(tables.class_cum[table], (n_cells, n_classes)), rng.random(n_cells))
    s = _draw(np.broadcast_to(tables.start_cum[table], (n_cells, n_states)), rng.random(n_cells))
    entry = tables.entry_h[table]
    t = entry * rng.random(n_cells) if entry > 0 else np.zeros(n_cells)
    counts = np.zeros((n_states, len(times)), np.int64)
    arrival = np.where((s == target) & (t <= t_end), t, np.inf)  # placed in the target: arrive on entry (if seen)
    first_transit = np.full(n_cells, -1)  # -1: not yet; 0: lodged/cleared first; 1: passed the lung first
    passes = 0
    circ = 0.0
    active = np.ones(n_cells, bool)
    while active.any():
        idx = np.flatnonzero(active)
        rate = tables.exit_rate[table, k[idx], s[idx]]
        with np.errstate(divide="ignore"):
            t_next = np.where(rate > 0, t[idx] + rng.exponential(1.0, len(idx)) / np.where(rate > 0, rate, 1), np.inf)
        in_state = (times[None, :] >= t[idx, None]) & (times[None, :] < t_next[:, None])
        np.add.at(counts, (np.repeat(s[idx], len(times)), np.tile(np.arange(len(times)), len(idx))), in_state.ravel())
        blood = ((s[idx] == venous) | (s[idx] == arterial)) & (t[idx] < t_end)
        circ += float((np.minimum(t_next, t_end) - t[idx])[blood].sum())
        going = t_next <= t_end
        idx, t_next = idx[going], t_next[going]
        s_next = _draw(tables.dest_cum[table, k[idx], s[idx]], rng.random(len(idx)))
        from_venous = s[idx] == venous
        passed = from_venous & (s_next == arterial)
        passes += int(passed.sum())
        first = from_venous & ((s_next == arterial) | (s_next == lung)) & (first_transit[idx] < 0)
        first_transit[idx[first]] = passed[first].astype(int)
        new_arrival = (s_next == target) & np.isinf(arrival[idx])
        arrival[idx[new_arrival]] = t_next[new_arrival]
        s[idx], t[idx] = s_next, t_next
        active[:] = False
        active[idx] = True
    transited = first_transit >= 0
    return {
        "counts": counts,
        "arrivals": (arrival[:, None] <= times[None, :]).sum(axis=0),
        "first_arrival": arrival.min() if n_cells else np.inf,
        "lung_passes": passes,
        "circulating_h": circ,
        "transits": int(transited.sum()),
        "class_cells": np.bincount(k, minlength=n_classes),
        "class_passed": np.bincount(k[first_transit == 1], minlength=n_classes),
    }
