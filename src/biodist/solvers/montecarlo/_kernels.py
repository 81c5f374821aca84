"""numba kernels: arrays in, output arrays filled. No objects, no I/O, no configs.

The per-cell kernel walks independent cells through a continuous-time Markov
chain given as tables: for each parameter set ``p``, diameter class ``k`` and state ``s``
the total exit rate ``exit_rate[p, k, s]`` (1/h) and the cumulative jump
distribution ``dest_cum[p, k, s, :]``. Everything physiological has been compiled into
these tables (:mod:`biodist.solvers.montecarlo.tables`, from the compiled model), so the
same model feeds the ODE and the Monte Carlo.

Random numbers: every chunk owns a xoshiro256+ stream (Blackman & Vigna 2018),
seeded inside the kernel from the chunk's integer seed through splitmix64. No
state is shared between chunks or threads (numba's ``np.random`` keeps one
generator per thread, which a seed set in one thread does not reach), so every
count is the same whatever the number of threads. xoshiro256+ is also several
times faster than the Mersenne Twister behind ``np.random``.

References
----------
Blackman D, Vigna S (2018). Scrambled linear pseudorandom number generators.
arXiv:1805.01407 (xoshiro256+; splitmix64 for seeding).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["jit", "jit_parallel", "seed_stream", "uniform", "walk_cells"]

#: The one configured decorator: cached compilation, numpy error semantics.
jit = numba.njit(cache=True, error_model="numpy")
#: The same, for kernels that run chunks in parallel (prange).
jit_parallel = numba.njit(cache=True, error_model="numpy", parallel=True)

_U = np.uint64
_TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53


@jit
def _splitmix64(x: np.uint64) -> tuple[np.uint64, np.uint64]:
    x = x + _U(0x9E3779B97F4A7C15)
    z = x
    z = (z ^ (z >> _U(30))) * _U(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U(27))) * _U(0x94D049BB133111EB)
    return x, z ^ (z >> _U(31))


@jit
def seed_stream(seed: int, state: np.ndarray) -> None:
    """Fill a xoshiro256+ state (4 × uint64) from an integer seed via splitmix64."""
    x = _U(seed)
    for i in range(4):
        x, state[i] = _splitmix64(x)


@jit
def uniform(state: np.ndarray) -> float:
    """Next double in [0, 1) from a xoshiro256+ state, updated in place."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    result = s0 + s3
    t = s1 << _U(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _U(45)) | (s3 >> _U(19))
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return float(result >> _U(11)) * _TWO_M53


@jit
def _search(cum: np.ndarray, u: float) -> int:
    """First index ``j`` with ``u < cum[j]`` (``cum`` increasing, last entry 1)."""
    n = cum.shape[0]
    for j in range(n - 1):
        if u < cum[j]:
            return j
    return n - 1


@jit_parallel
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
    seeds : uint64[C]
        Seed of each chunk's random stream (64 bits, from the run's SeedSequence).
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
    n_classes = class_cum.shape[1]
    n_times = times.shape[0]
    t_end = times[n_times - 1]
    for c in numba.prange(n_chunks):
        rng = np.empty(4, dtype=np.uint64)
        seed_stream(seeds[c], rng)
        p = chunk_table[c]
        infusion = entry_h[p]
        first = math.inf
        passes = 0
        n_transits = 0
        circ = 0.0
        for _ in range(n_per_chunk[c]):
            k = _search(class_cum[p], uniform(rng)) if n_classes > 1 else 0
            s = _search(start_cum[p], uniform(rng))
            t = infusion * uniform(rng) if infusion > 0.0 else 0.0
            r = 0
            while r < n_times and times[r] < t:
                r += 1
            transited = False
            # a cell placed in the target (an intra-arterial first pass) arrives on entry, if that is by the last
            # report time: the walk stops there, so later arrivals (jumps) are never seen and entries must not be
            arrived = s == target and t <= t_end
            if arrived:
                first = min(first, t)
                for rr in range(n_times):
                    if times[rr] >= t:
                        arrivals[c, rr] += 1
            while True:
                rate = exit_rate[p, k, s]
                t_next = t - math.log(1.0 - uniform(rng)) / rate if rate > 0.0 else math.inf
                while r < n_times and times[r] < t_next:
                    counts[c, s, r] += 1
                    r += 1
                if (s == venous or s == arterial) and t < t_end:
                    circ += min(t_next, t_end) - t
                if r >= n_times:
                    break
                s_next = _search(dest_cum[p, k, s], uniform(rng))
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
