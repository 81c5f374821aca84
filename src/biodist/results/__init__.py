"""The result family: labelled arrays, tidy tables and dicts; :func:`simulate` and :func:`monte_carlo` make two.

Results import the solvers (and what lies below them), never the studies above.
"""

from __future__ import annotations

from .base import BAND, QUANTILES, THRESHOLDS, Result
from .compare import DOSE_GROUPS, CompareResult, RouteResult, target_cells
from .fit import FitResult
from .format import format_cells, format_percent
from .montecarlo import MonteCarloResult, monte_carlo
from .simulation import SimulationResult, simulate
from .validation import ValidationResult

__all__ = [
    "BAND",
    "DOSE_GROUPS",
    "QUANTILES",
    "THRESHOLDS",
    "CompareResult",
    "FitResult",
    "MonteCarloResult",
    "Result",
    "RouteResult",
    "SimulationResult",
    "ValidationResult",
    "format_cells",
    "format_percent",
    "monte_carlo",
    "simulate",
    "target_cells",
]
