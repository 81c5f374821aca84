"""The ranges a model can resolve: what double precision can follow, and how far in time a report may reach.

Every rate of the circulation lies between the hours of cell fates (~1e-2 /h) and the seconds of blood
transit (~1e3 /h in a mouse). A rate much faster than that adds nothing a cell could do, and solving it
beside the slow ones in double precision loses the slow ones (a lung half-life of 1e-18 h once lost 95 %
of the dose without a word). These limits refuse such inputs where they are written, with the key.
"""

from __future__ import annotations

__all__ = [
    "CONFIG_NAME_PATTERN",
    "MAX_RATE_PER_H",
    "MAX_TIME_H",
    "MIN_HALF_LIFE_H",
    "NAME_PATTERN",
    "RESERVED_ORGAN_NAMES",
]

#: Fastest rate accepted (1/h): a time constant of 3.6 ms, a thousand times a mouse's blood transit.
MAX_RATE_PER_H = 1e6
#: Shortest half-life accepted (h): 3.6 ms (``ln 2 / MIN_HALF_LIFE_H`` is within :data:`MAX_RATE_PER_H`).
MIN_HALF_LIFE_H = 1e-6
#: Latest report time accepted (h): 100,000 h, 11.4 years.
MAX_TIME_H = 1e5
#: What an organ name may look like (a TOML bare key without dots, so that it can be part of a --set key).
NAME_PATTERN = r"[A-Za-z][A-Za-z0-9_-]*"
#: What the bare name of a species, cell or route file may look like: no path separators, no leading dot.
CONFIG_NAME_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
#: Names taken by the model's own states and keys: no organ may be called so.
RESERVED_ORGAN_NAMES = frozenset(
    {
        "venous_blood",
        "arterial_blood",
        "cleared",
        "depot",
        "engrafted",
        "rest",
        "default",
        "label_liver",
        "label_spleen",
    }
)
