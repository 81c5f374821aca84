"""The figures of a result, as files: which ones each kind of result gets, and writing them atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..atomic import atomic_write
from ..results import (
    CalibrationResult,
    CompareResult,
    FitResult,
    MonteCarloResult,
    Result,
    SimulationResult,
    ValidationResult,
    simulate,
)
from ..solvers import dense_times

__all__ = ["FIGURES", "figures_of", "savefig", "use_agg", "write_figures"]

#: The figure files each kind of result gets.
FIGURES = {
    "simulate": ("time_course.png",),
    "mc": ("target_histogram.png",),
    "compare": ("compare_time_course.png", "compare_bars.png", "dose_split.png"),
    "validate": ("validation.png",),
    "fit": ("fit.png",),
    "calibrate": ("corner.png", "predictive.png"),
}
#: Points of the log-spaced grid of time-course figures.
_PLOT_POINTS = 241


def use_agg() -> None:
    """Select the non-interactive backend (files only, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")


def savefig(path: Path, fig: Any) -> Path:
    """Save a figure as PNG, atomically, and close it."""
    import matplotlib.pyplot as plt

    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=120))
    plt.close(fig)
    return path


def figures_of(result: Result) -> dict[str, Any]:
    """The figures of a result: file name → matplotlib Figure."""
    from .. import plotting

    if isinstance(result, SimulationResult):  # expected counts on a dense grid, from the scenario
        dense = simulate(result.scenario, times_h=dense_times(result.times_h, _PLOT_POINTS))
        return {"time_course.png": plotting.plot_time_course(dense)}
    if isinstance(result, MonteCarloResult):
        return {"target_histogram.png": plotting.plot_target_histograms(result)}
    if isinstance(result, CompareResult):
        draw = (plotting.plot_compare_time_course, plotting.plot_compare_bars, plotting.plot_dose_split)
        return {name: f(result).figure for name, f in zip(FIGURES["compare"], draw, strict=True)}
    if isinstance(result, ValidationResult):
        return {"validation.png": plotting.plot_validation(result.rows).figure}
    if isinstance(result, CalibrationResult):
        return {"corner.png": plotting.plot_corner(result), "predictive.png": plotting.plot_predictive(result).figure}
    if isinstance(result, FitResult) and result.data:
        return {"fit.png": plotting.plot_fit(result).figure}
    return {}


def write_figures(folder: Path, result: Result) -> list[Path]:
    """Write every figure of ``result`` into ``folder``; returns the files written."""
    use_agg()
    return [savefig(Path(folder) / name, fig) for name, fig in figures_of(result).items()]
