"""Numbers as people read them: cell counts and percentages with a precision that suits their size."""

from __future__ import annotations

import numpy as np

__all__ = ["format_cells", "format_percent"]


def format_cells(x: float) -> str:
    """Cell count with a precision that suits its size (``1,234,567``, ``12.3``, ``0.042``)."""
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:.1f}"
    if x >= 0.001:
        return f"{x:.3f}"
    return "0" if x < 1e-9 else f"{x:.1e}"


def format_percent(fraction: float) -> str:
    """A fraction as a percentage: one decimal from 1 %, two significant digits below."""
    pct = 100.0 * fraction
    if pct >= 1:
        return f"{pct:.1f} %"
    if pct <= 0:
        return "0 %"
    if pct < 1e-4:
        return f"{pct:.1e} %"
    return np.format_float_positional(pct, precision=2, unique=False, fractional=False, trim="-") + " %"
