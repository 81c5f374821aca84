"""Figures of studies: Sobol indices of a sweep, measured against simulated for validation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .style import OKABE_ITO

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_fit", "plot_sobol", "plot_validation"]


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


#: Quantities drawn on the "% of dose" panel, and on the "ratio" panel; half-lives are in the key only.
_PERCENT = ("pct_dose", "upper_bound_pct_dose", "pct_dose_per_g")
_RATIO = ("ratio", "ratio_at_least")


def _short(row: dict) -> str:
    """A measurement's line in the key: its study and what it is, without the repeated study prefix."""
    what = row["id"].removeprefix(f"{row['dataset']}_").replace("_", " ")
    unit = {"pct_dose_per_g": " (%/g)", "half_life_h": " (half-life, table only)"}.get(row["quantity"], "")
    return f"{row['dataset']}: {what}{unit}"


def plot_validation(rows: list[dict], fig: Figure | None = None) -> Axes:
    """Measured vs simulated for every validation measurement: % of the dose, ratios, and a numbered key.

    Every point carries the number of its line in the key (study and measurement), so each can be told apart;
    the marker is the assay's readout (what the model is read through), hollow markers are misses. Bars are
    the reported spread or bound; an ordering (``ratio_at_least``) is drawn at its bound with a bar to the right.
    Returns the "% of dose" axes.
    """
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(15, 8.5), layout="constrained")
    grid = fig.add_gridspec(1, 3, width_ratios=[1.0, 0.8, 0.9])
    ax, ax_ratio, ax_key = (fig.add_subplot(grid[0, i]) for i in range(3))
    palette = [c for c in OKABE_ITO[1:] if c != "#F0E442"]  # no black (text) and no yellow (faint on white)
    colours = {m: palette[i % len(palette)] for i, m in enumerate(_READOUT_MARKERS)}
    numbered = list(enumerate(rows, start=1))
    for axis, kinds, floor, top in ((ax, _PERCENT, 1e-5, 200.0), (ax_ratio, _RATIO, 1e-2, 1e6)):
        for n, r in numbered:
            if r["quantity"] not in kinds:
                continue
            x, y = max(r["measured"], floor), max(r["simulated"], floor)
            lo = max(r["low"], floor)
            hi = top if r["high"] is None else max(r["high"], floor)
            colour = colours.get(r["measures"], "grey")
            axis.errorbar(
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
            axis.annotate(str(n), (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
        axis.set_xscale("log")
        axis.set_yscale("log")
        lims = [floor / 2, top]
        axis.plot(lims, lims, color="grey", lw=1, ls="--")
        axis.set_xlim(lims)
        axis.set_ylim(lims)
        axis.grid(True, which="major", alpha=0.3)
    ax.set_xlabel("measured (% of dose, or %/g; bars: reported spread or bound)")
    ax.set_ylabel("simulated through the assay's readout")
    ax.set_title("% of the dose in an organ")
    ax_ratio.set_xlabel("measured ratio (orderings: their bound, bar to the right)")
    ax_ratio.set_ylabel("simulated ratio")
    ax_ratio.set_title("ratios: organ / organ, or one organ at two times")
    readouts = list(dict.fromkeys(r["measures"] for r in rows))
    handles = [
        plt.Line2D([], [], marker=_READOUT_MARKERS.get(m, "o"), ls="", color=colours.get(m, "grey"), label=m)
        for m in readouts
    ]
    handles.append(plt.Line2D([], [], marker="o", ls="", color="grey", mfc="white", label="miss (hollow)"))
    ax.legend(handles=handles, title="readout", frameon=False, fontsize=9, loc="upper left")
    ax_key.axis("off")
    size = 7.5 if len(rows) <= 50 else 6
    for i, (n, r) in enumerate(numbered):
        mark = "" if r["pass"] else "  MISS"
        colour = "black" if r["pass"] else "#B03A00"
        text = f"{n:>2}  {_short(r)}{mark}"
        y = 1 - i / max(len(rows), 30)
        ax_key.text(0, y, text, fontsize=size, va="top", transform=ax_key.transAxes, family="monospace", color=colour)
    n_miss = sum(not r["pass"] for r in rows)
    fig.suptitle(f"biodist against {len(rows)} published measurements: {len(rows) - n_miss} pass, {n_miss} missed")
    return ax


def plot_fit(result: Any, ax: Axes | None = None) -> Axes:
    """Observed against predicted % of the dose (the model at the fitted values), log–log, one marker per organ.

    Each point is labelled with its time; censored rows (below detection, observed 0) are drawn at their
    detection limit as hollow left-pointing triangles (the value lies somewhere to the left). The dashed line is
    equality; the dotted ones a factor of 2.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 5.5), layout="constrained")
    d = result.data
    obs = np.asarray(d["observed_pct_dose"], dtype=float)
    pred = np.asarray(d["predicted_pct_dose"], dtype=float)
    positive = obs[obs > 0]
    floor = max(1e-6, float(min(positive.min(), pred[pred > 0].min() if (pred > 0).any() else 1.0)) / 3)
    organs = list(dict.fromkeys(d["organ"]))
    colours = {o: OKABE_ITO[(i + 1) % len(OKABE_ITO)] for i, o in enumerate(organs)}
    limits = d.get("detection_limit_pct_dose") or [None] * len(obs)
    for o, t, x, y, lim in zip(d["organ"], d["time_h"], obs, pred, limits, strict=True):
        censored = x == 0
        xs, ys = (lim or floor if censored else x), max(y, floor)
        ax.plot(xs, ys, "<" if censored else "o", color=colours[o], ms=7, mfc="white" if censored else colours[o])
        ax.annotate(f"{t:g} h", (xs, ys), textcoords="offset points", xytext=(4, 3), fontsize=7)
    lo, hi = floor / 2, 100 * 2
    grid = np.array([lo, hi])
    ax.plot(grid, grid, color="grey", lw=1, ls="--")
    for k in (0.5, 2.0):
        ax.plot(grid, k * grid, color="grey", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    handles = [plt.Line2D([], [], marker="o", ls="", color=colours[o], label=o) for o in organs]
    if (obs == 0).any():
        handles.append(
            plt.Line2D([], [], marker="<", ls="", color="grey", mfc="white", label="below detection (at its limit)")
        )
    ax.legend(handles=handles, frameon=False, fontsize=9, loc="upper left")
    ax.set_xlabel("observed (% of dose)")
    ax.set_ylabel("predicted at the fitted values (% of dose)")
    fitted = ", ".join(f"{p.split('.')[-1]} = {e:.3g}" for p, e in zip(result.params, result.estimate, strict=True))
    ax.set_title(f"fit: {fitted}", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    return ax
