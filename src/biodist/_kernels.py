"""numba kernels: arrays in, output arrays filled. No objects, no I/O, no configs.

The per-cell kernel walks independent cells through a continuous-time Markov
chain given as tables: for each parameter set ``p``, diameter class ``k`` and state ``s``
the total exit rate ``exit_rate[p, k, s]`` (1/h) and the cumulative jump
distribution ``dest_cum[p, k, s, :]``. Everything physiological has been compiled into these
tables by :mod:`biodist.model`, so the same model object feeds the ODE and the
Monte Carlo.

Random numbers: chunk ``c`` re-seeds numba's generator with ``seeds[c]`` before
its first cell, inside the parallel loop. numba keeps one generator per thread
and a chunk runs start to finish on one thread, so every chunk's stream — and
therefore every count — is the same whatever the number of threads.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["jit", "walk_cells"]

#: The one configured decorator: cached compilation, numpy error semantics.
jit = numba.njit(cache=True, error_model="numpy")


@jit
def _search(cum: np.ndarray, u: float) -> int:
    """First index ``j`` with ``u < cum[j]`` (``cum`` increasing, last entry 1)."""
    n = cum.shape[0]
    for j in range(n - 1):
        if u < cum[j]:
            return j
    return n - 1


@numba.njit(cache=True, error_model="numpy", parallel=True)
def walk_cells(
    n_per_chunk: np.ndarray,
    seeds: np.ndarray,
    chunk_table: np.ndarray,
    class_cum: np.ndarray,
    start_cum: np.ndarray,
    exit_rate: np.ndarray,
    dest_cum: np.ndarray,
    entry_h: np.ndarray,
    times: np.ndarray,
    target: int,
    venous: int,
    arterial: int,
    lung: int,
    counts: np.ndarray,
    arrivals: np.ndarray,
    first_arrival: np.ndarray,
    lung_passes: np.ndarray,
    circulating_h: np.ndarray,
    transits: np.ndarray,
    class_cells: np.ndarray,
    class_passed: np.ndarray,
) -> None:
    """Walk every cell of every chunk; add what it did into the chunk's row of the outputs.

    Parameters
    ----------
    n_per_chunk : int64[C]
        Cells in each chunk.
    seeds : int64[C]
        Seed of each chunk's random stream (0 <= seed < 2**32).
    chunk_table : int64[C]
        Which parameter set (first index of the tables below) each chunk uses.
    class_cum : float64[P, K]
        Cumulative probabilities of the diameter classes.
    start_cum : float64[P, n]
        Cumulative probabilities of the state a cell starts in.
    exit_rate : float64[P, K, n]
        Total rate (1/h) of leaving each state; 0 for absorbing states.
    dest_cum : float64[P, K, n, n]
        Cumulative jump probabilities from each state.
    entry_h : float64[P]
        Cells enter at a uniform random time in ``[0, entry_h]`` (0: all at 0).
    times : float64[T]
        Report times (h), increasing.
    target, venous, arterial, lung : int
        State indices.
    counts : int64[C, n, T]
        Out: cells in each state at each report time.
    arrivals : int64[C, T]
        Out: cells that have lodged in ``target`` at least once by each report time.
    first_arrival : float64[C]
        Out: earliest arrival at ``target`` (h); ``inf`` if none.
    lung_passes : int64[C]
        Out: venous → arterial jumps (passes through the lung without lodging).
    circulating_h : float64[C]
        Out: cell-hours spent in venous or arterial blood up to the last report time.
    transits : int64[C]
        Out: cells that made a first transit of the lung bed (venous → lung or arterial).
    class_cells, class_passed : int64[C, K]
        Out: cells per diameter class, and those of them that passed the lung on their first transit.
    """
    n_chunks = n_per_chunk.shape[0]
    n_times = times.shape[0]
    t_end = times[n_times - 1]
    for c in numba.prange(n_chunks):
        np.random.seed(seeds[c])
        p = chunk_table[c]
        infusion = entry_h[p]
        first = math.inf
        passes = 0
        n_transits = 0
        circ = 0.0
        for _ in range(n_per_chunk[c]):
            k = _search(class_cum[p], np.random.random())
            s = _search(start_cum[p], np.random.random())
            t = infusion * np.random.random() if infusion > 0.0 else 0.0
            r = 0
            while r < n_times and times[r] < t:
                r += 1
            transited = False
            arrived = False
            while True:
                rate = exit_rate[p, k, s]
                t_next = t - math.log(1.0 - np.random.random()) / rate if rate > 0.0 else math.inf
                while r < n_times and times[r] < t_next:
                    counts[c, s, r] += 1
                    r += 1
                if (s == venous or s == arterial) and t < t_end:
                    circ += min(t_next, t_end) - t
                if r >= n_times:
                    break
                s_next = _search(dest_cum[p, k, s], np.random.random())
                if s == venous and (s_next == arterial or s_next == lung):
                    if s_next == arterial:
                        passes += 1
                    if not transited:
                        transited = True
                        n_transits += 1
                        if s_next == arterial:
                            class_passed[c, k] += 1
                if s_next == target and not arrived:
                    arrived = True
                    first = min(first, t_next)
                    for rr in range(n_times):
                        if times[rr] >= t_next:
                            arrivals[c, rr] += 1
                s = s_next
                t = t_next
            class_cells[c, k] += 1
        first_arrival[c] = first
        lung_passes[c] = passes
        transits[c] = n_transits
        circulating_h[c] = circ
