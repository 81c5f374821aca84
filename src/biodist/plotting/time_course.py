"""Time courses of expected cells: one compartment, or small multiples of every compartment."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..results import SimulationResult
from .style import FLOOR_CELLS, OKABE_ITO

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_compartment", "plot_time_course"]


def plot_compartment(result: SimulationResult, compartment: str, ax: Axes | None = None, **kw: object) -> Axes:
    """Expected cells in one compartment over time, log–log.

    Parameters
    ----------
    result : SimulationResult
        Preferably computed on a dense time grid.
    compartment : str
        Which compartment.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if omitted.
    **kw
        Passed to ``Axes.plot``.

    Returns
    -------
    Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3), layout="constrained")
    t = result.times_h
    keep = t > 0
    y = np.maximum(result.cells(compartment)[keep], FLOOR_CELLS)
    ax.plot(t[keep], y, **({"color": OKABE_ITO[5]} | kw))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(bottom=FLOOR_CELLS, top=max(10.0, float(y.max()) * 3))
    ax.grid(True, which="major", alpha=0.3)
    return ax


def plot_time_course(result: SimulationResult, fig: Figure | None = None) -> Figure:
    """Small multiples: one log-scale panel per compartment, the target highlighted.

    Parameters
    ----------
    result : SimulationResult
        Preferably computed on a dense, log-spaced time grid.
    fig : matplotlib Figure, optional
        Figure to draw into; a new one if omitted.

    Returns
    -------
    Figure
    """
    import matplotlib.pyplot as plt

    comps = result.compartments
    ncols = 4
    nrows = -(-len(comps) // ncols)
    if fig is None:
        fig = plt.figure(figsize=(3.2 * ncols, 2.4 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    for ax, comp in zip(axes, comps, strict=False):
        is_target = comp == result.target
        colour, width = (OKABE_ITO[6], 2.0) if is_target else (OKABE_ITO[5], 1.5)
        plot_compartment(result, comp, ax=ax, color=colour, lw=width, label="viable cells")
        if result.label is not None and comp in result.label and comp != "cleared":
            keep = result.times_h > 0
            lab = np.maximum(np.asarray(result.label[comp])[keep], FLOOR_CELLS)
            ax.plot(result.times_h[keep], lab, color=OKABE_ITO[0], lw=1.0, ls="--", label="label (imaging)")
            ax.set_ylim(top=max(ax.get_ylim()[1], float(lab.max()) * 3))
        ax.set_title(f"{comp} (target)" if is_target else comp, fontsize=10, fontweight="bold" if is_target else None)
    for ax in axes[len(comps) :]:
        ax.set_visible(False)
    if result.label is not None:
        axes[2].legend(fontsize=7, frameon=False, loc="lower center")
    for ax in axes[(nrows - 1) * ncols :]:
        ax.set_xlabel("time after dosing (h)")
    for ax in axes[::ncols]:
        ax.set_ylabel("expected cells")
    sc = result.scenario
    how = "bolus" if sc.infusion_minutes == 0 else f"{sc.infusion_minutes:g}-min infusion"
    fig.suptitle(
        f"{sc.name}: {result.dose_cells:,.0f} {sc.cell.name} cells, {sc.route} {how}, {sc.species.name} — "
        f"expected viable cells per compartment{' and label (dashed)' if result.label is not None else ''} "
        f"(log scales; floor {FLOOR_CELLS:g} cells)",
        fontsize=11,
    )
    return fig
