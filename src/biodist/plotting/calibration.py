"""Figures of a calibration: the posterior against the prior (corner), and every measurement's predictive check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .style import OKABE_ITO

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_corner", "plot_predictive"]

_INSIDE, _OUTSIDE, _PRIOR = OKABE_ITO[5], OKABE_ITO[6], "0.55"


def _label(name: str) -> str:
    """``cell.retention_per_pass.default`` → ``retention per pass (default)``."""
    short = name.removeprefix("cell.").replace(".default", " (default)")
    if short.endswith("_per_h"):
        short = short.removesuffix("_per_h") + " (1/h)"
    elif short.endswith("_h"):
        short = short.removesuffix("_h") + " (h)"
    return short.replace("_", " ")


def plot_corner(result: Any, max_points: int = 2000, fig: Figure | None = None) -> Figure:
    """Pairs of posterior draws (log axes), each quantity's posterior (filled) over its prior (outline)."""
    import matplotlib.pyplot as plt

    draws = result.draws[:: max(len(result.draws) // max_points, 1)]
    logs, prior = np.log10(draws), np.log10(result.prior)
    k = len(result.names)
    if fig is None:
        fig = plt.figure(figsize=(2.0 * k + 1, 2.0 * k + 1), layout="constrained")
    axes = fig.subplots(k, k, squeeze=False)
    span = [
        (min(logs[:, i].min(), np.quantile(prior[:, i], 0.005)), max(logs[:, i].max(), np.quantile(prior[:, i], 0.995)))
        for i in range(k)
    ]
    for i in range(k):
        lo, hi = span[i]
        for j in range(k):
            ax = axes[i, j]
            if j > i:
                ax.set_axis_off()
                continue
            if i == j:
                bins = np.linspace(lo, hi, 40)
                ax.hist(prior[:, i], bins=bins, density=True, histtype="step", color=_PRIOR, label="prior")
                ax.hist(logs[:, i], bins=bins, density=True, color=_INSIDE, alpha=0.6, label="posterior")
                ax.set_yticks([])
                if i == 0:
                    ax.legend(frameon=False, fontsize=8)
            else:
                ax.scatter(logs[:, j], logs[:, i], s=2, alpha=0.25, color=_INSIDE, linewidths=0)
                ax.set_ylim(lo, hi)
            ax.set_xlim(*span[j])
            if i == k - 1:
                ax.set_xlabel(f"log10 {_label(result.names[j])}", fontsize=9)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(f"log10 {_label(result.names[i])}", fontsize=9)
            elif j != i:
                ax.set_yticklabels([])
    fig.suptitle(f"Posterior of {result.info.get('product', 'the product')} (walkers pooled) over the prior")
    return fig


def _row_label(r: dict) -> str:
    """``bonios2011 · heart ic (18F-FDG)``: the study, its measurement without the repeated prefix, the readout."""
    what = r["id"].removeprefix(f"{r['study']}_").replace("_", " ")
    return f"{r['study']} · {what} ({r['measures']})"


def plot_predictive(result: Any, ax: Axes | None = None) -> Axes:
    """Each measurement over a new study's 90 % posterior-predictive reading, relative to the model's median.

    Bars: 5–95 % of a new study's reading (between-study and measurement error) over the posterior median
    of the model; markers: what was reported (● a value, ▮ a range of group means, ◀ an upper bound, ▶ a lower
    bound), blue inside the interval, vermillion outside; hollow markers: the study left out of the fit.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    rows = result.predictive
    fitted = [r for r in rows if not r["held_out"]]
    held = {(r["study"], r["id"]): r for r in rows if r["held_out"]}
    order = fitted or list(held.values())
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 1.2 + 0.26 * len(order)), layout="constrained")
    markers = {"value": "o", "range of group means": "s", "upper bound": "<", "lower bound": ">"}
    for y, r in enumerate(order):
        for shift, row, hollow in ((0.0, r, r["held_out"]), (0.3, held.get((r["study"], r["id"])), True)):
            if row is None or (shift and not fitted):
                continue
            scale = row["model_median"]
            colour = _INSIDE if row["inside"] else _OUTSIDE
            ax.plot([row["q05"] / scale, row["q95"] / scale], [y + shift] * 2, color=colour, lw=2.5, alpha=0.45)
            if row["kind"] == "range of group means":
                ax.plot([row["low"] / scale, row["high"] / scale], [y + shift] * 2, color=colour, lw=1.2)
            ax.plot(  # a value, the centre of a range, or the bound
                [row["observed"] / scale],
                [y + shift],
                markers[row["kind"]],
                color=colour,
                mfc="white" if hollow else colour,
                ms=6,
            )
    ax.axvline(1.0, color="0.3", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(range(len(order)), [_row_label(r) for r in order], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("reported / model (posterior median); bar: a new study's 90 % predictive reading")
    inside, n = result.coverage(False if fitted else True)
    title = f"Posterior predictive: {inside} of {n} measurements inside their 90 % interval"
    if fitted and held:
        out_in, out_n = result.coverage(True)
        title += f"; left out: {out_in} of {out_n}"
    ax.set_title(title)
    key = [
        Line2D([], [], marker="o", ls="", color=_INSIDE, label="inside"),
        Line2D([], [], marker="o", ls="", color=_OUTSIDE, label="outside"),
        *(
            [Line2D([], [], marker="o", ls="", color="0.3", mfc="white", label="study left out of the fit")]
            if held
            else []
        ),
        Line2D([], [], marker="<", ls="", color="0.3", label="upper bound"),
        Line2D([], [], marker=">", ls="", color="0.3", label="lower bound"),
        Line2D([], [], marker="s", ls="", color="0.3", label="range of group means"),
    ]
    ax.figure.legend(handles=key, frameon=False, fontsize=8, loc="outside lower center", ncol=6)
    ax.grid(True, axis="x", alpha=0.3)
    return ax
