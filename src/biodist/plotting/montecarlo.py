"""Monte Carlo figures: the target's count over replicates."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .style import OKABE_ITO

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..results import MonteCarloResult

__all__ = ["plot_target_histograms"]


def _where(result: MonteCarloResult) -> str:
    """What "at the target" adds up when a direct injection left a depot there."""
    extra = [c for c in ("depot", "engrafted") if c in result.compartments]
    return f" (its bed, {' and '.join(extra)})" if extra else ""


def plot_target_histograms(result: MonteCarloResult, fig: Figure | None = None) -> Figure:
    """Histogram of the target's count (or of the readout asked for) over replicates, one panel per report time.

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
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    counts, expected, what = result.target_readout()
    subjects = bool(result.parameters) or bool(result.extra.get("uncertainty"))
    n_times = counts.shape[1]
    ncols = min(n_times, 3)
    nrows = -(-n_times // ncols)
    if fig is None:
        fig = plt.figure(figsize=(3.6 * ncols, 2.8 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for j, ax in enumerate(axes[:n_times]):
        values = counts[:, j]
        low, high = int(np.floor(values.min())), int(np.ceil(values.max()))  # an attenuated bli is fractional
        step = max(1, -(-(high - low + 1) // 40))  # whole-cell bins, at most ~40 of them
        bins = np.arange(low, high + step + 1, step) - 0.5
        ax.hist(values, bins=bins, color=OKABE_ITO[5], alpha=0.85)
        ax.axvline(expected[j], color=OKABE_ITO[6], lw=1.5, label="ODE expectation")
        ax.set_title(f"{result.times_h[j]:g} h", fontsize=10)
        ax.set_xlabel(f"{what} at the {result.target}")
        ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))  # large counts: a few readable ticks
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:g}"))
        ax.set_ylabel("replicates")
    for ax in axes[n_times:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8, frameon=False)
    sc = result.scenario
    fig.suptitle(
        f"{sc.name}: {what} at the {result.target}{_where(result)} over {result.replicates} replicates of "
        f"{result.n_cells:,} cells "
        f"({result.method}{', virtual subjects' if subjects else ''}, seed {result.seed})",
        fontsize=11,
    )
    return fig
