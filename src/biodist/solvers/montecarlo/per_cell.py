"""The per-cell sampler: every cell walked by the numba kernel, in fixed-size chunks, with its history.

Chunk boundaries depend on the number of cells alone, and each chunk seeds its own
stream from a 64-bit integer drawn from the replicate's ``SeedSequence``, so a seed
gives the same counts whatever the number of threads. Per-chunk outputs are reduced
into per-replicate totals after every kernel call: memory grows with the chunks of
one call, never with the number of cells.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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


def _chunks(n_cells: int) -> np.ndarray:
    full, last = divmod(n_cells, CHUNK_CELLS)
    return np.array([CHUNK_CELLS] * full + ([last] if last else []), dtype=np.int64)


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
    per_rep = _chunks(n_cells)
    n_chunks = len(per_rep)
    sizes = np.tile(per_rep, replicates)
    # 64-bit chunk seeds: 32-bit words from one SeedSequence can repeat across many chunks
    seeds = np.concatenate([s.generate_state(n_chunks, dtype=np.uint64) for s in seqs])
    table_of = np.repeat(np.arange(replicates) if len(models) > 1 else np.zeros(replicates, np.int64), n_chunks)
    total = len(sizes)
    owner = np.repeat(np.arange(replicates), n_chunks)  # replicate of each chunk
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
