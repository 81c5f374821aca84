"""The budget of a run: what it will cost, said before it starts; past a threshold it must be asked for.

Every long computation (a Monte Carlo run, a sweep) works out a :class:`Cost` before it starts
and passes it to :func:`check_cost`, which refuses a run that cannot fit in memory, refuses
one that would run longer than :data:`LONG_RUN_S` unless it is asked for (``allow_long=True``,
``--yes``), and says the cost of one that will take noticeably long (:class:`LongRunNotice`).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

from ..errors import ConfigError, LongRunNotice

__all__ = ["LONG_RUN_S", "NOTICE_S", "Cost", "check_cost", "memory_available", "say_duration"]

#: A run estimated to last longer than this (s) needs ``allow_long=True`` (``--yes``).
LONG_RUN_S = 120.0
#: A run estimated to last longer than this (s) says so before it starts.
NOTICE_S = 10.0


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

    ``cheaper`` names the cheaper alternative, for the messages. A run that goes ahead and is
    expected to take more than :data:`NOTICE_S` says so first, with the alternative (a :class:`LongRunNotice`).
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
    if cost.seconds > NOTICE_S:
        warnings.warn(
            f"{cost.what}: about {say_duration(cost.seconds)} and {cost.bytes / 1e6:.3g} MB; to be quicker, {cheaper}",
            LongRunNotice,
            stacklevel=3,
        )
