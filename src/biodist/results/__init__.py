"""The result family: labelled arrays, tidy tables and dicts; :func:`simulate` and :func:`monte_carlo` make two.

Results import the solvers (and what lies below them), never the studies above. Each result
module loads on first use (PEP 562), so a command imports only the results it returns.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .base import BAND, QUANTILES, THRESHOLDS, Result
from .format import format_cells, format_percent

if TYPE_CHECKING:  # pragma: no cover
    from .calibration import CalibrationResult
    from .compare import DOSE_GROUPS, CompareResult, RouteResult, target_cells
    from .fit import FitResult
    from .montecarlo import MonteCarloResult, monte_carlo
    from .simulation import SimulationResult, simulate
    from .validation import ValidationResult

_LAZY = {
    "CalibrationResult": "calibration",
    "DOSE_GROUPS": "compare",
    "CompareResult": "compare",
    "RouteResult": "compare",
    "target_cells": "compare",
    "FitResult": "fit",
    "MonteCarloResult": "montecarlo",
    "monte_carlo": "montecarlo",
    "SimulationResult": "simulation",
    "simulate": "simulation",
    "ValidationResult": "validation",
}


def __getattr__(name: str) -> Any:
    """Load a result module on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'biodist.results' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "BAND",
    "DOSE_GROUPS",
    "QUANTILES",
    "THRESHOLDS",
    "CalibrationResult",
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
