"""What a Monte Carlo run will cost (checked by :func:`biodist.solvers.budget.check_cost` before it starts).

The rates are those measured by ``benchmarks/bench_mc.py`` on the development machine (2 cores,
x86_64), rounded towards slower, so that the estimate errs on the long side.
"""

from __future__ import annotations

import os

from ..budget import Cost

__all__ = ["estimate"]

#: Cells walked per second by the per-cell kernel on one thread (bench_mc: 13–16 million on an idle machine,
#: ~10 million with the other core busy; rounded down).
PER_CELL_RATE = 8e6
#: What each thread beyond the first adds (bench_mc: 23–25 million on two threads against 13–16 on one).
THREAD_EFFICIENCY = 0.6
#: Seconds per replicate, report-time step and diameter class of the aggregated sampler (bench_mc: ~3e-5).
AGGREGATED_STEP_S = 5e-5
#: Seconds per parameter set to compile and plan (virtual subjects).
PER_SUBJECT_S = 2e-3


def _threads() -> int:
    """Threads the kernel may use: the CPUs this process may run on (affinity), at most NUMBA_NUM_THREADS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    limit = os.environ.get("NUMBA_NUM_THREADS")
    return max(1, min(cpus, int(limit))) if limit and limit.isdigit() else max(1, cpus)


def estimate(
    n_cells: int, replicates: int, method: str, n_states: int, n_times: int, n_classes: int, subjects: int
) -> Cost:
    """The time and memory of a run (see the module docstring for the rates)."""
    arrays = 2 * replicates * n_states * n_times * 8  # counts and expectations, replicate x compartment x time
    tables = subjects * n_classes * n_states * n_states * 8 * 2  # jump tables / transition matrices
    setup = subjects * PER_SUBJECT_S
    if method == "per_cell":
        threads = _threads()
        seconds = n_cells * replicates / (PER_CELL_RATE * (1 + THREAD_EFFICIENCY * (threads - 1))) + setup
        seeds = (n_cells // 65536 + 1) * 8
        what = f"{n_cells:.3g} cells x {replicates:,} replicates walked one by one on {threads} thread(s)"
        return Cost(seconds, arrays + tables + seeds, what)
    seconds = replicates * n_times * n_classes * AGGREGATED_STEP_S + setup
    what = f"{replicates:,} replicates x {n_times} report times x {n_classes} class(es), aggregated"
    return Cost(seconds, arrays + tables, what)
