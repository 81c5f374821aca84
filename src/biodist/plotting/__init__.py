"""Figures. Every function takes ``ax=None`` (or a figure) and returns what it drew on.

matplotlib is imported inside the functions, so importing this package stays light.
"""

from __future__ import annotations

from .calibration import plot_corner, plot_predictive
from .compare import plot_compare_bars, plot_compare_time_course, plot_dose_split
from .montecarlo import plot_target_histograms
from .studies import plot_fit, plot_sobol, plot_validation
from .style import FLOOR_CELLS, OKABE_ITO
from .time_course import plot_compartment, plot_time_course

__all__ = [
    "FLOOR_CELLS",
    "OKABE_ITO",
    "plot_compare_bars",
    "plot_compare_time_course",
    "plot_compartment",
    "plot_corner",
    "plot_dose_split",
    "plot_fit",
    "plot_predictive",
    "plot_sobol",
    "plot_target_histograms",
    "plot_time_course",
    "plot_validation",
]
