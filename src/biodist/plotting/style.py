"""The look of every figure: a colour-blind-safe palette and the floor of log axes."""

from __future__ import annotations

__all__ = ["FLOOR_CELLS", "OKABE_ITO", "route_colours"]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
#: Counts below this are drawn at the axis floor (expected cells).
FLOOR_CELLS = 1e-3


def route_colours(routes: list[str]) -> dict[str, str]:
    """One colour per route, in the order given."""
    palette = (OKABE_ITO[5], OKABE_ITO[6], OKABE_ITO[3], OKABE_ITO[1], OKABE_ITO[7])
    return {r: palette[i % len(palette)] for i, r in enumerate(routes)}
