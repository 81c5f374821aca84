"""What a Monte Carlo run will cost (checked by :func:`biodist.solvers.budget.check_cost` before it starts).

The rates are those measured by ``benchmarks/bench_mc.py`` on the development machine (2 cores,
x86_64), rounded towards slower, so that the estimate errs on the long side.
"""

from __future__ import annotations

import os

from ..budget import Cost

__all__ = ["estimate"]

#: Cells walked per second and thread by the per-cell kernel (bench_mc: 13–21 million; rounded down).
PER_CELL_RATE = 1.0e7
#: Seconds per replicate, report-time step and diameter class of the aggregated sampler (bench_mc: ~3e-5).
AGGREGATED_STEP_S = 5e-5
#: Seconds per parameter set to compile and plan (virtual subjects).
PER_SUBJECT_S = 2e-3


def _threads() -> int:
    return int(os.environ.get("NUMBA_NUM_THREADS") or os.cpu_count() or 1)


def estimate(
    n_cells: int, replicates: int, method: str, n_states: int, n_times: int, n_classes: int, subjects: int
) -> Cost:
    """The time and memory of a run (see the module docstring for the rates)."""
    arrays = 2 * replicates * n_states * n_times * 8  # counts and expectations, replicate x compartment x time
    tables = subjects * n_classes * n_states * n_states * 8 * 2  # jump tables / transition matrices
    setup = subjects * PER_SUBJECT_S
    if method == "per_cell":
        threads = _threads()
        seconds = n_cells * replicates / (PER_CELL_RATE * threads) + setup
        seeds = (n_cells // 65536 + 1) * 8
        what = f"{n_cells:.3g} cells x {replicates:,} replicates walked one by one on {threads} thread(s)"
        return Cost(seconds, arrays + tables + seeds, what)
    seconds = replicates * n_times * n_classes * AGGREGATED_STEP_S + setup
    what = f"{replicates:,} replicates x {n_times} report times x {n_classes} class(es), aggregated"
    return Cost(seconds, arrays + tables, what)
