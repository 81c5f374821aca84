"""Route comparison figures: the target over time, bars at one time, where the dose is."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..results import BAND, DOSE_GROUPS
from .style import FLOOR_CELLS, OKABE_ITO, route_colours

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..results import CompareResult

__all__ = ["plot_compare_bars", "plot_compare_time_course", "plot_dose_split"]


def _what(cmp: CompareResult) -> str:
    """What the figures count: cells, or cell equivalents of the readout shown."""
    return "cells" if cmp.readout == "cells" else f"{cmp.readout} (cell eq.)"


def plot_compare_time_course(cmp: CompareResult, ax: Axes | None = None) -> Axes:
    """Cells at the target over time per route: exact mean (line) and Monte Carlo 5–95 % (bars)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    colours = route_colours(list(cmp.routes))
    styles = ("-", "--", ":", "-.")
    for k, (name, r) in enumerate(cmp.routes.items()):
        t, y = r.shown_dense()
        keep = t > 0
        y = y[keep]
        y = np.where(y >= FLOOR_CELLS, y, np.nan)  # stop the line where fewer than 0.001 cells are expected
        ax.plot(t[keep], y, color=colours[name], lw=2, ls=styles[k % len(styles)], label=f"{name} (mean)")
        tr = r.ode.times_h
        lo, hi = r.shown_quantiles[BAND[0]], r.shown_quantiles[BAND[1]]
        mid = np.maximum(r.shown_mean, FLOOR_CELLS)
        yerr = np.vstack([mid - np.maximum(lo, FLOOR_CELLS), np.maximum(hi, FLOOR_CELLS) - mid]).clip(min=0)
        ax.errorbar(tr[tr > 0], mid[tr > 0], yerr=yerr[:, tr > 0], fmt="o", ms=3, color=colours[name], capsize=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(bottom=FLOOR_CELLS)
    ax.set_xlabel("time after dosing (h)")
    ax.set_ylabel(f"{_what(cmp)} at the {cmp.scenario.target}\n(expected; bars: 5–95 % of replicates)")
    ax.set_title(f"{cmp.scenario.name}: {cmp.scenario.dose_cells:,.0f} {cmp.scenario.cell.name} cells, by route")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False, fontsize=9)
    return ax


def plot_compare_bars(cmp: CompareResult, ax: Axes | None = None) -> Axes:
    """Cells at the target at one time per route, log scale, with the Monte Carlo 5–95 % range."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
    j = cmp.time_index
    names = list(cmp.routes)
    colours = route_colours(names)
    means = np.array([max(cmp.routes[n].shown_mean[j], FLOOR_CELLS) for n in names])
    lo = np.array([max(cmp.routes[n].shown_quantiles[BAND[0]][j], FLOOR_CELLS) for n in names])
    hi = np.array([max(cmp.routes[n].shown_quantiles[BAND[1]][j], FLOOR_CELLS) for n in names])
    x = np.arange(len(names))
    ax.bar(x, means, color=[colours[n] for n in names], width=0.6)
    ax.errorbar(x, means, yerr=np.vstack([means - lo, hi - means]).clip(min=0), fmt="none", ecolor="black", capsize=4)
    for xi, m, top in zip(x, means, hi, strict=True):
        label = f"{m:,.0f}" if m >= 1000 else f"{m:.3g}"
        ax.annotate(label, (xi, max(m, top)), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=9)
    ax.set_yscale("log")
    ax.set_ylim(bottom=FLOOR_CELLS, top=max(10.0, float(hi.max()) * 20))
    ax.set_xticks(x, names)
    ax.set_ylabel(f"{_what(cmp)} at the {cmp.scenario.target} (log scale)")
    ax.set_title(f"{cmp.scenario.name}: {_what(cmp)} at the {cmp.scenario.target} at {cmp.times_h[j]:g} h")
    ax.grid(True, axis="y", which="major", alpha=0.3)
    return ax


def plot_dose_split(cmp: CompareResult, ax: Axes | None = None) -> Axes:
    """Where the dose is at one time, per route: stacked shares of lung, liver, spleen, target, cleared, rest."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 1.2 + 0.7 * len(cmp.routes)), layout="constrained")
    j = cmp.time_index
    colours = dict(
        zip(DOSE_GROUPS, (OKABE_ITO[2], OKABE_ITO[1], OKABE_ITO[7], OKABE_ITO[6], "#999999", OKABE_ITO[4]), strict=True)
    )
    names = list(cmp.routes)
    for y, name in enumerate(names):
        split = cmp.routes[name].shown_split(j)
        left = 0.0
        for group in DOSE_GROUPS:
            width = 100 * split[group]
            ax.barh(y, width, left=left, color=colours[group], label=group if y == 0 else None)
            left += width
        ax.annotate(f"target {100 * split['target']:.3g} %", (101, y), va="center", fontsize=9, annotation_clip=False)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlim(0, 100)
    if cmp.readout == "cells":
        ax.set_xlabel("% of the dose")
        ax.set_title(f"{cmp.scenario.name}: where the dose is at {cmp.times_h[j]:g} h", loc="left")
    else:
        ax.set_xlabel(f"% of the dose's {cmp.readout} (cleared: left the body)")
        ax.set_title(f"{cmp.scenario.name}: where the {cmp.readout} is at {cmp.times_h[j]:g} h", loc="left")
    ax.figure.legend(ncols=len(DOSE_GROUPS), loc="outside lower center", frameon=False, fontsize=9)
    ax.invert_yaxis()
    return ax
