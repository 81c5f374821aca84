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


#: Marker of each readout in the validation figure (the assay that made the measurement).
_READOUT_MARKERS = {
    "cells": "o",
    "bli": "P",
    "dna": "D",
    "label": "s",
    "111In": "s",
    "99mTc": "^",
    "18F-FDG": "v",
    "51Cr": "X",
}


def plot_validation(rows: list[dict], ax: Axes | None = None) -> Axes:
    """Measured vs simulated (% of dose, log–log), one marker per measurement, identity line, spread as error bars.

    Colour is the study, the marker the assay's readout (what the model is read through); misses are hollow.
    Upper bounds are drawn at their value with a bar down to the axis floor; half-lives and orderings are not
    percentages and are left to the table.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 6), layout="constrained")
    floor = 1e-5
    vals = [r for r in rows if r["quantity"] not in ("half_life_h", "ratio_at_least")]
    studies = list(dict.fromkeys(r["dataset"] for r in vals))
    palette = [c for c in OKABE_ITO if c != "#F0E442"] + ["#F0E442"]  # yellow last: faint on white
    colours = {d: palette[i % len(palette)] for i, d in enumerate(studies)}
    for r in vals:
        x = max(r["measured"], floor)
        y = max(r["simulated"], floor)
        lo, hi = max(r["low"], floor), max(r["high"], floor)
        colour = colours[r["dataset"]]
        ax.errorbar(
            x,
            y,
            xerr=[[x - lo], [hi - x]],
            fmt=_READOUT_MARKERS.get(r["measures"], "o"),
            ms=7,
            color=colour,
            capsize=2,
            mfc=colour if r["pass"] else "white",
            mew=1.5,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    lims = [floor / 2, 200]
    ax.plot(lims, lims, color="grey", lw=1, ls="--")
    ax.set_xlim(lims)
    ax.set_ylim(lims)
    ax.set_xlabel("measured (% of dose; bars: reported spread or bound)")
    ax.set_ylabel("simulated through the assay's readout (% of dose)")
    ax.set_title("biodist against published measurements")
    study_handles = [
        plt.Line2D([], [], marker="o", ls="", color=colours[d], label=d.replace("20", " 20", 1)) for d in studies
    ]
    readouts = list(dict.fromkeys(r["measures"] for r in vals))
    readout_handles = [
        plt.Line2D([], [], marker=_READOUT_MARKERS.get(m, "o"), ls="", color="grey", label=m) for m in readouts
    ]
    readout_handles.append(plt.Line2D([], [], marker="o", ls="", color="grey", mfc="white", label="miss (hollow)"))
    first = ax.legend(handles=study_handles, title="study", frameon=False, fontsize=9, loc="upper left")
    ax.add_artist(first)
    ax.legend(handles=readout_handles, title="readout", frameon=False, fontsize=9, loc="lower right")
    ax.grid(True, which="major", alpha=0.3)
    return ax
