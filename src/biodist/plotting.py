"""Figures. Every function takes ``ax=None`` (or a figure) and returns what it drew on.

matplotlib is imported inside the functions, so ``import biodist`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .results import SimulationResult

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .compare import CompareResult
    from .mc_result import MonteCarloResult

__all__ = [
    "OKABE_ITO",
    "plot_compare_bars",
    "plot_compare_time_course",
    "plot_compartment",
    "plot_dose_split",
    "plot_sobol",
    "plot_target_histograms",
    "plot_time_course",
    "plot_validation",
]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
#: Counts below this are drawn at the axis floor (expected cells).
_FLOOR_CELLS = 1e-3


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
    y = np.maximum(result.cells(compartment)[keep], _FLOOR_CELLS)
    ax.plot(t[keep], y, **({"color": OKABE_ITO[5]} | kw))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(bottom=_FLOOR_CELLS, top=max(10.0, float(y.max()) * 3))
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
            lab = np.maximum(np.asarray(result.label[comp])[keep], _FLOOR_CELLS)
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
        f"(log scales; floor {_FLOOR_CELLS:g} cells)",
        fontsize=11,
    )
    return fig


def plot_target_histograms(result: MonteCarloResult, fig: Figure | None = None) -> Figure:
    """Histogram of the target's count over replicates, one panel per report time.

    Parameters
    ----------
    result : MonteCarloResult
        Sampled counts.
    fig : matplotlib Figure, optional
        Figure to draw into; a new one if omitted.

    Returns
    -------
    Figure
    """
    import matplotlib.pyplot as plt

    counts = result.target_counts()
    subjects = bool(result.parameters) or bool(result.extra.get("uncertainty"))
    n_times = counts.shape[1]
    ncols = min(n_times, 3)
    nrows = -(-n_times // ncols)
    if fig is None:
        fig = plt.figure(figsize=(3.6 * ncols, 2.8 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    expected = result.expected[:, result.index(result.target), :].mean(axis=0)
    for j, ax in enumerate(axes[:n_times]):
        values = counts[:, j]
        low, high = int(values.min()), int(values.max())
        step = max(1, -(-(high - low + 1) // 40))  # whole-cell bins, at most ~40 of them
        bins = np.arange(low, high + step + 1, step) - 0.5
        ax.hist(values, bins=bins, color=OKABE_ITO[5], alpha=0.85)
        ax.axvline(expected[j], color=OKABE_ITO[6], lw=1.5, label="ODE expectation")
        ax.set_title(f"{result.times_h[j]:g} h", fontsize=10)
        ax.set_xlabel(f"cells in {result.target}")
        ax.set_ylabel("replicates")
    for ax in axes[n_times:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8, frameon=False)
    sc = result.scenario
    fig.suptitle(
        f"{sc.name}: cells in {result.target} over {result.replicates} replicates of {result.n_cells:,} cells "
        f"({result.method}{', virtual subjects' if subjects else ''}, seed {result.seed})",
        fontsize=11,
    )
    return fig


def _route_colours(routes: list[str]) -> dict[str, str]:
    palette = (OKABE_ITO[5], OKABE_ITO[6], OKABE_ITO[3], OKABE_ITO[1], OKABE_ITO[7])
    return {r: palette[i % len(palette)] for i, r in enumerate(routes)}


def plot_compare_time_course(cmp: CompareResult, ax: Axes | None = None) -> Axes:
    """Cells at the target over time per route: exact mean (line) and Monte Carlo 5–95 % (bars)."""
    import matplotlib.pyplot as plt

    from .compare import target_cells

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    colours = _route_colours(list(cmp.routes))
    styles = ("-", "--", ":", "-.")
    for k, (name, r) in enumerate(cmp.routes.items()):
        t = r.dense.times_h
        keep = t > 0
        y = target_cells(r.dense, r.dense.counts)[keep]
        y = np.where(y >= _FLOOR_CELLS, y, np.nan)  # stop the line where fewer than 0.001 cells are expected
        ax.plot(t[keep], y, color=colours[name], lw=2, ls=styles[k % len(styles)], label=f"{name} (mean)")
        tr = r.ode.times_h
        lo, hi = r.quantiles[0.05], r.quantiles[0.95]
        mid = np.maximum(r.target_mean, _FLOOR_CELLS)
        yerr = np.vstack([mid - np.maximum(lo, _FLOOR_CELLS), np.maximum(hi, _FLOOR_CELLS) - mid]).clip(min=0)
        ax.errorbar(tr[tr > 0], mid[tr > 0], yerr=yerr[:, tr > 0], fmt="o", ms=3, color=colours[name], capsize=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(bottom=_FLOOR_CELLS)
    ax.set_xlabel("time after dosing (h)")
    ax.set_ylabel(f"cells at the {cmp.scenario.target} (expected; bars: 5–95 % of replicates)")
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
    colours = _route_colours(names)
    means = np.array([max(cmp.routes[n].target_mean[j], _FLOOR_CELLS) for n in names])
    lo = np.array([max(cmp.routes[n].quantiles[0.05][j], _FLOOR_CELLS) for n in names])
    hi = np.array([max(cmp.routes[n].quantiles[0.95][j], _FLOOR_CELLS) for n in names])
    x = np.arange(len(names))
    ax.bar(x, means, color=[colours[n] for n in names], width=0.6)
    ax.errorbar(x, means, yerr=np.vstack([means - lo, hi - means]).clip(min=0), fmt="none", ecolor="black", capsize=4)
    for xi, m, top in zip(x, means, hi, strict=True):
        label = f"{m:,.0f}" if m >= 1000 else f"{m:.3g}"
        ax.annotate(label, (xi, max(m, top)), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=9)
    ax.set_yscale("log")
    ax.set_ylim(bottom=_FLOOR_CELLS, top=max(10.0, float(hi.max()) * 20))
    ax.set_xticks(x, names)
    ax.set_ylabel(f"cells at the {cmp.scenario.target} (log scale)")
    ax.set_title(f"{cmp.scenario.name}: cells at the {cmp.scenario.target} at {cmp.times_h[j]:g} h")
    ax.grid(True, axis="y", which="major", alpha=0.3)
    return ax


def plot_dose_split(cmp: CompareResult, ax: Axes | None = None) -> Axes:
    """Where the dose is at one time, per route: stacked shares of lung, liver, spleen, target, cleared, rest."""
    import matplotlib.pyplot as plt

    from .compare import DOSE_GROUPS

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 1.2 + 0.7 * len(cmp.routes)), layout="constrained")
    j = cmp.time_index
    colours = dict(
        zip(DOSE_GROUPS, (OKABE_ITO[2], OKABE_ITO[1], OKABE_ITO[7], OKABE_ITO[6], "#999999", OKABE_ITO[4]), strict=True)
    )
    names = list(cmp.routes)
    for y, name in enumerate(names):
        split = cmp.routes[name].dose_split(j)
        left = 0.0
        for group in DOSE_GROUPS:
            width = 100 * split[group]
            ax.barh(y, width, left=left, color=colours[group], label=group if y == 0 else None)
            left += width
        ax.annotate(f"target {100 * split['target']:.3g} %", (101, y), va="center", fontsize=9, annotation_clip=False)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of the dose")
    ax.set_title(f"{cmp.scenario.name}: where the dose is at {cmp.times_h[j]:g} h", loc="left")
    ax.figure.legend(ncols=len(DOSE_GROUPS), loc="outside lower center", frameon=False, fontsize=9)
    ax.invert_yaxis()
    return ax


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
    vals = [r for r in rows if r["quantity"] != "half_life_h"]
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
