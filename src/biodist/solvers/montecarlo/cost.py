"""What a Monte Carlo run will cost, said before it starts; runs past a threshold need to be asked for.

The rates are those measured by ``benchmarks/bench_mc.py`` on the development machine (2 cores,
x86_64), rounded towards slower, so that the estimate errs on the long side.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ...errors import ConfigError

__all__ = ["LONG_RUN_S", "Cost", "check_cost", "estimate", "memory_available", "say_duration"]

#: Cells walked per second and thread by the per-cell kernel (bench_mc: 13–21 million; rounded down).
PER_CELL_RATE = 1.0e7
#: Seconds per replicate, report-time step and diameter class of the aggregated sampler (bench_mc: ~3e-5).
AGGREGATED_STEP_S = 5e-5
#: Seconds per parameter set to compile and plan (virtual subjects).
PER_SUBJECT_S = 2e-3
#: A run estimated to last longer than this (s) needs ``allow_long=True`` (``--yes``).
LONG_RUN_S = 120.0


@dataclass(frozen=True)
class Cost:
    """An estimate: seconds, bytes held at once, and what it was worked out from."""

    seconds: float
    bytes: float
    what: str


def memory_available() -> float:
    """Bytes of memory a run may plan on: half of this machine's physical memory."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not a POSIX system
        return 8e9


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


def say_duration(seconds: float) -> str:
    """``93.2 s``, ``14 min``, ``3.1 h``, ``9.5 days``."""
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.3g} days"


def check_cost(cost: Cost, allow_long: bool, cheaper: str) -> None:
    """Refuse a run that cannot fit in memory, or (unless ``allow_long``) one that would run long.

    ``cheaper`` names the cheaper alternative, for the message.
    """
    limit = memory_available()
    if cost.bytes > limit:
        raise ConfigError(
            f"{cost.what}: would hold {cost.bytes / 1e9:.3g} GB at once, more than the {limit / 1e9:.3g} GB this "
            f"machine can spare; {cheaper}"
        )
    if cost.seconds > LONG_RUN_S and not allow_long:
        raise ConfigError(
            f"{cost.what}: would take about {say_duration(cost.seconds)} (longer than {LONG_RUN_S:g} s); "
            f"add --yes (allow_long=True) to run it, or {cheaper}"
        )
