"""Prediction intervals over the calibrated posterior: ``simulate --interval 0.9``.

The expected counts are computed for posterior draws of the product's calibrated parameters
(:func:`biodist.config.posterior.find_posterior`; one compile and one stacked solve for all draws where
the compiler broadcasts) and their central quantiles reported: e.g. 5–95 % for ``level=0.9``. This is
the parameter uncertainty the validation library leaves, for the mean of many subjects; it is not the
spread of one subject's count (``mc --uncertainty`` adds counting noise) nor a new study's reading
(which adds the between-study spread).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..config import Scenario
from ..config.keys import assign
from ..config.posterior import find_posterior
from ..errors import ConfigError
from ..model import compile_model
from ..solvers import solve_model
from .simulation import SimulationResult

__all__ = ["DRAWS", "with_interval"]

#: Posterior draws an interval is computed from.
DRAWS = 400


def _counts(scenario: Scenario, values: dict[str, np.ndarray], times: np.ndarray) -> np.ndarray:
    """Expected cells (P, C, T) for P parameter sets: one batched compile, or one compile per set."""
    n = len(next(iter(values.values())))
    if scenario.heterogeneity == "none":
        with np.errstate(under="ignore"):
            model = compile_model(assign(scenario, values))
            if model.cell_chains[0].generator.shape[:-2] == (n,):
                return solve_model(model, times).views["cells"]
    return np.stack(
        [
            solve_model(compile_model(assign(scenario, {k: float(v[i]) for k, v in values.items()})), times).views[
                "cells"
            ]
            for i in range(n)
        ]
    )


def with_interval(result: SimulationResult, level: float = 0.9, draws: int = DRAWS, seed: int = 0) -> SimulationResult:
    """``result`` with the central ``level`` interval of its expected counts over the posterior.

    Keys the scenario sets to another value than its product file's are held at the scenario's value
    (listed as ``held``); the others are drawn jointly from the posterior.
    """
    if not 0 < level < 1:
        raise ConfigError(f"--interval {level!r}; allowed: a probability between 0 and 1, e.g. 0.9 (5-95 %)")
    sc = result.scenario
    posterior, why = find_posterior(sc)
    if posterior is None:
        raise ConfigError(f"--interval: {why}")
    held = posterior.held(sc)
    values = {k: v for k, v in posterior.sample(draws, np.random.default_rng(seed)).items() if k not in held}
    counts = _counts(sc, values, result.times_h)
    # round-off can leave tiny negatives in empty compartments, as in the counts
    counts = np.maximum(counts, 0.0)
    lo, hi = np.quantile(counts, [(1 - level) / 2, (1 + level) / 2], axis=0)
    interval: dict[str, Any] = {
        "level": level,
        "draws": draws,
        "seed": seed,
        "posterior": str(posterior.path),
        "drawn": sorted(values),
        "held": list(held),
        "low": lo,
        "high": hi,
    }
    return replace(result, interval=interval)
