"""The per-cell sampler: every cell walked by the numba kernel, in fixed-size chunks, with its history.

Chunk boundaries depend on the number of cells alone, and each chunk seeds its own
stream from a 64-bit integer drawn from the replicate's ``SeedSequence``, so a seed
gives the same counts whatever the number of threads. Per-chunk outputs are reduced
into per-replicate totals after every kernel call, and chunk seeds are drawn one
replicate at a time: memory holds one call's chunks and one replicate's seeds (8 bytes
per 65,536 cells), whatever the number of replicates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from ...config import LUNG
from ...model import ARTERIAL, VENOUS, CompiledModel
from ._kernels import walk_cells
from .tables import chain_tables

__all__ = ["CHUNK_CELLS", "sample_per_cell"]

#: Cells per chunk of the per-cell kernel (fixed: results must not depend on threads).
CHUNK_CELLS = 1 << 16
#: Chunks handed to one kernel call (so that progress can be reported between calls).
_CHUNKS_PER_CALL = 64

Progress = Callable[[int], None]


def _calls(n_cells: int, seqs: Sequence[np.random.SeedSequence]) -> Iterator[tuple[np.ndarray, ...]]:
    """The chunks of every replicate in order, ``_CHUNKS_PER_CALL`` at a time: (sizes, seeds, replicates).

    A replicate's chunk seeds are drawn when it is reached (64-bit words of its SeedSequence: 32-bit ones
    could repeat over many chunks) and dropped when it is done, so the memory held is that of one
    replicate's seeds and one call's chunks, whatever the number of replicates.
    """
    full, last = divmod(n_cells, CHUNK_CELLS)
    n_chunks = full + (1 if last else 0)
    sizes, seeds, owners = [], [], []
    for r, seq in enumerate(seqs):
        words = seq.generate_state(n_chunks, dtype=np.uint64)
        for start in range(0, n_chunks, _CHUNKS_PER_CALL):
            stop = min(start + _CHUNKS_PER_CALL, n_chunks)
            idx = np.arange(start, stop)
            sizes.append(np.where(idx < full, CHUNK_CELLS, last).astype(np.int64))
            seeds.append(words[start:stop])
            owners.append(np.full(stop - start, r, dtype=np.int64))
            while sum(len(x) for x in sizes) >= _CHUNKS_PER_CALL:
                yield _take(sizes, seeds, owners, _CHUNKS_PER_CALL)
    while sizes:
        yield _take(sizes, seeds, owners, _CHUNKS_PER_CALL)


def _take(sizes: list, seeds: list, owners: list, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``n`` chunks of the queue (removed from it)."""
    s, w, o = (np.concatenate(x) for x in (sizes, seeds, owners))
    sizes[:], seeds[:], owners[:] = ([s[n:]], [w[n:]], [o[n:]]) if len(s) > n else ([], [], [])
    return s[:n], w[:n], o[:n]


def sample_per_cell(
    models: Sequence[CompiledModel],
    n_cells: int,
    seqs: Sequence[np.random.SeedSequence],
    times: np.ndarray,
    progress: Progress | None = None,
) -> dict[str, np.ndarray]:
    """Walk ``n_cells`` cells per replicate; one model for all replicates, or one per replicate.

    Returns
    -------
    dict of str to ndarray
        Per replicate: ``counts`` (R, C, T), ``arrivals`` (R, T), ``first_arrival`` (R,),
        ``lung_passes``, ``circulating_h``, ``transits`` (R,), ``class_cells``, ``class_passed`` (R, K).
    """
    replicates = len(seqs)
    tables = chain_tables([(m.weights, m.cell_chains) for m in models])
    base = models[0]
    n_states, n_times, n_classes = len(base.compartments), len(times), base.n_classes
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
    reduced = {k: np.zeros((replicates, *shape), dtype) for k, (shape, dtype) in shapes.items()}
    reduced["first_arrival"][:] = np.inf
    venous, arterial, lung = base.index(VENOUS), base.index(ARTERIAL), base.index(LUNG)
    target = base.index(base.target)
    for sizes, seeds, owner in _calls(n_cells, seqs):
        m = len(sizes)
        out = {k: np.zeros((m, *shape), dtype) for k, (shape, dtype) in shapes.items()}
        table_of = owner if len(models) > 1 else np.zeros(m, dtype=np.int64)  # one parameter set, or one each
        walk_cells(
            sizes,
            seeds,
            table_of,
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
                np.minimum.at(reduced[key], owner, arr)
            else:
                np.add.at(reduced[key], owner, arr)
        if progress is not None:
            progress(int(sizes.sum()))
    return reduced
