"""Plain-text summaries and tables of a result (pure string functions)."""

from __future__ import annotations

import numpy as np

from .model import ARTERIAL
from .physiology import LUNG
from .results import SimulationResult

__all__ = ["format_cells", "format_percent", "summary_line", "table", "target_line"]


def format_cells(x: float) -> str:
    """Cell count with a precision that suits its size (``1,234,567``, ``12.3``, ``0.042``)."""
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:.1f}"
    if x >= 0.001:
        return f"{x:.3f}"
    return "0" if x <= 0 else f"{x:.1e}"


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


def summary_line(result: SimulationResult) -> str:
    """The one-line first-pass summary."""
    fp = result.first_pass
    dose = result.dose_cells
    viable = result.scenario.cell.viable_fraction
    lung = fp[LUNG]
    cells = f"{dose:,.0f} cells" if viable == 1.0 else f"{dose * viable:,.0f} viable cells (of {dose:,.0f} infused)"
    return (
        f"{format_percent(lung)} of {cells} lodged in the lungs on first pass; "
        f"{format_percent(1.0 - lung)} reached the arterial circulation"
    )


def target_line(result: SimulationResult) -> str:
    """Where the target stands: first pass, peak over the report times, last value."""
    target = result.target
    t_peak, n_peak = result.peak(target)
    last = result.cells(target)[-1]
    return (
        f"target {target}: {format_percent(result.first_pass.get(target, 0.0))} of viable cells on first pass; "
        f"expected {format_cells(n_peak)} cells at {t_peak:g} h (largest over report times), "
        f"{format_cells(last)} at {result.times_h[-1]:g} h"
    )


def table(result: SimulationResult) -> str:
    """Compartments × report times: expected cells and % of dose; ``*`` marks the target."""
    sc = result.scenario
    how = "bolus" if sc.infusion_minutes == 0 else f"infusion over {sc.infusion_minutes:g} min"
    head = (
        f"Expected viable cells (and % of dose) - {sc.name}: {sc.species.name}, {sc.cell.name}, "
        f"{sc.route} {how}, {result.dose_cells:,.0f} cells"
    )
    cols = [f"{t:g} h" for t in result.times_h]
    rows = []
    for i, comp in enumerate(result.compartments):
        mark = "*" if comp == result.target else " "
        cells = [
            f"{format_cells(n)} ({format_percent(f)})"
            for n, f in zip(result.counts[i], result.fraction_of_dose[i], strict=True)
        ]
        rows.append((f"{mark} {comp}", cells))
    name_w = max(len("  compartment"), *(len(r[0]) for r in rows))
    col_w = [max(len(c), *(len(r[1][j]) for r in rows)) for j, c in enumerate(cols)]
    lines = [head, "  ".join(["  compartment".ljust(name_w), *(c.rjust(w) for c, w in zip(cols, col_w, strict=True))])]
    for name, cells in rows:
        lines.append("  ".join([name.ljust(name_w), *(c.rjust(w) for c, w in zip(cells, col_w, strict=True))]))
    total = result.counts.sum(axis=0)
    lines.append(
        f"* target. 'cleared': cells no longer viable (incl. non-viable at infusion). "
        f"Sum over compartments = {format_cells(float(np.max(total)))} cells (mass balance)."
    )
    lines.append(f"{ARTERIAL} and venous_blood are circulating cells; organ rows are cells lodged in that bed.")
    return "\n".join(lines)
