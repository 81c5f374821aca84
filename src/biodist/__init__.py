"""biodist: where infused therapeutic cells go, and how many reach the target.

A compartment model of the circulation (venous blood → lungs → arterial blood
→ organs → back) with lung trapping on first pass, per-bed retention, and the
fates of lodged and circulating cells, solved exactly; a Monte Carlo of the
cells themselves; route comparisons, sweeps, fits and validation.

Everything below is loaded on first use (PEP 562), so ``import biodist`` is quick
and loads neither matplotlib, numba, dask nor the command line.

Examples
--------
>>> import biodist
>>> scenario = biodist.Scenario.load("human_msc_iv")  # doctest: +SKIP
>>> result = biodist.simulate(scenario.with_values({"cell.lung_pass_fraction": 0.015}))  # doctest: +SKIP
>>> result.to_dataframe()  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._deprecated import install as _install_deprecated
from ._version import version as _version
from .errors import BiodistError, BiodistWarning, ConfigError, SolverError

if TYPE_CHECKING:  # pragma: no cover
    from .config import Scenario, load_scenario
    from .io.folders import load, save
    from .model import CompiledModel, compile_model
    from .results import (
        CalibrationResult,
        CompareResult,
        FitResult,
        MonteCarloResult,
        SimulationResult,
        ValidationResult,
        monte_carlo,
        simulate,
    )
    from .studies.calibration import calibrate
    from .studies.compare import compare
    from .studies.fit import fit
    from .studies.sweep import sweep
    from .studies.validate import validate

#: Public name → module that defines it.
_LAZY = {
    "Scenario": "biodist.config",
    "load_scenario": "biodist.config",
    "compile_model": "biodist.model",
    "CompiledModel": "biodist.model",
    "CirculationModel": "biodist.model",
    "simulate": "biodist.results",
    "monte_carlo": "biodist.results",
    "SimulationResult": "biodist.results",
    "MonteCarloResult": "biodist.results",
    "CompareResult": "biodist.results",
    "CalibrationResult": "biodist.results",
    "calibrate": "biodist.studies.calibration",
    "FitResult": "biodist.results",
    "ValidationResult": "biodist.results",
    "compare": "biodist.studies.compare",
    "sweep": "biodist.studies.sweep",
    "fit": "biodist.studies.fit",
    "validate": "biodist.studies.validate",
    "save": "biodist.io.folders",
    "load": "biodist.io.folders",
}


def __getattr__(name: str) -> Any:
    """Load a public name on first use."""
    if name == "__version__":  # importlib.metadata costs ~40 ms: only when asked
        return _version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'biodist' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


_install_deprecated()

__all__ = [
    "BiodistError",
    "BiodistWarning",
    "CalibrationResult",
    "CirculationModel",
    "CompareResult",
    "CompiledModel",
    "ConfigError",
    "FitResult",
    "MonteCarloResult",
    "Scenario",
    "SimulationResult",
    "SolverError",
    "ValidationResult",
    "__version__",
    "calibrate",
    "compare",
    "compile_model",
    "fit",
    "load",
    "load_scenario",
    "monte_carlo",
    "save",
    "simulate",
    "sweep",
    "validate",
]
