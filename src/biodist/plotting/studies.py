"""Figures of studies: Sobol indices of a sweep, measured against simulated for validation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .style import OKABE_ITO

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["plot_sobol", "plot_validation"]


def plot_sobol(indices: dict, ax: Axes | None = None) -> Axes:
    """First-order and total Sobol indices with 95 % intervals, one pair of bars per parameter."""
    import matplotlib.pyplot as plt

    params = sorted(indices["parameters"].items(), key=lambda kv: -kv[1]["ST"])
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 1.0 + 0.45 * len(params)), layout="constrained")
    y = np.arange(len(params))
    for offset, key, colour in ((-0.2, "S1", OKABE_ITO[5]), (0.2, "ST", OKABE_ITO[6])):
        vals = np.array([p[key] for _, p in params])
        conf = np.array([p[f"{key}_conf"] for _, p in params])
        ax.barh(y + offset, vals, height=0.38, xerr=conf, color=colour, label={"S1": "first order", "ST": "total"}[key])
    ax.set_yticks(y, [name for name, _ in params])
    ax.invert_yaxis()
    ax.set_xlabel("Sobol index (fraction of output variance; bars: 95 % interval)")
    ax.set_title(f"What drives {indices['output']} (cells)")
    ax.legend(frameon=False)
    ax.grid(True, axis="x", alpha=0.3)
    return ax


def plot_validation(rows: list[dict], ax: Axes | None = None) -> Axes:
    """Measured vs simulated (% of dose, log–log), one marker per target, identity line, spread as error bars.

    Cells-based measurements are circles, label-based squares; misses are hollow. Half-lives and upper bounds are
    drawn at their value (bounds with a downward bar to the axis floor).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 6), layout="constrained")
    floor = 1e-5
    vals = [r for r in rows if r["quantity"] not in ("half_life_h", "ratio_at_least")]
    for r in vals:
        x = max(r["measured"], floor)
        y = max(r["simulated"], floor)
        lo, hi = max(r["low"], floor), max(r["high"], floor)
        colour = OKABE_ITO[5] if r["measures"] == "cells" else OKABE_ITO[6]
        marker = "o" if r["measures"] == "cells" else "s"
        ax.errorbar(
            x,
            y,
            xerr=[[x - lo], [hi - x]],
            fmt=marker,
            ms=6,
            color=colour,
            capsize=2,
            mfc=colour if r["pass"] else "white",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    lims = [floor / 2, 200]
    ax.plot(lims, lims, color="grey", lw=1, ls="--", label="identity")
    ax.set_xlim(lims)
    ax.set_ylim(lims)
    ax.set_xlabel("measured (% of dose; bars: reported spread or bound)")
    ax.set_ylabel("simulated (% of dose)")
    ax.set_title("biodist against published measurements")
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=OKABE_ITO[5], label="cells (DNA, histology)"),
        plt.Line2D([], [], marker="s", ls="", color=OKABE_ITO[6], label="label (imaging)"),
        plt.Line2D([], [], marker="o", ls="", color="grey", mfc="white", label="miss (hollow)"),
    ]
    ax.legend(handles=handles, frameon=False, fontsize=9, loc="upper left")
    ax.grid(True, which="major", alpha=0.3)
    return ax
