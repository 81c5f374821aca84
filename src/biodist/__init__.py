"""biodist: where infused therapeutic cells go, and how many reach the target.

A compartment model of the circulation (venous blood → lungs → arterial blood
→ organs → back) with lung trapping on first pass, per-bed retention, and the
fates of lodged and circulating cells, solved exactly.

Examples
--------
>>> import biodist
>>> scenario = biodist.load_scenario("configs/human_msc_iv.toml")  # doctest: +SKIP
>>> result = biodist.simulate(scenario)  # doctest: +SKIP
>>> result.to_dataframe()  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

from .config import load_scenario
from .errors import BiodistError, BiodistWarning, ConfigError, SolverError
from .expected import simulate
from .model import CirculationModel, compile_model
from .results import SimulationResult
from .scenario import Scenario


def __getattr__(name: str) -> object:
    """Import the Monte Carlo lazily: it compiles numba kernels, which plain ODE users never need."""
    if name in ("monte_carlo", "MonteCarloResult"):
        from . import mc_result, montecarlo

        return {"monte_carlo": montecarlo.monte_carlo, "MonteCarloResult": mc_result.MonteCarloResult}[name]
    raise AttributeError(f"module 'biodist' has no attribute {name!r}")


try:
    __version__ = version("biodist")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "BiodistError",
    "BiodistWarning",
    "CirculationModel",
    "ConfigError",
    "MonteCarloResult",
    "Scenario",
    "SimulationResult",
    "SolverError",
    "__version__",
    "compile_model",
    "load_scenario",
    "monte_carlo",
    "simulate",
]
