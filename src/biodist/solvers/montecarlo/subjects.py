"""Virtual subjects: each replicate draws its own parameters from the scenario's ``[uncertainty]`` table."""

from __future__ import annotations

import numpy as np

from ...config import Scenario, sample_parameters
from ...errors import ConfigError

__all__ = ["parameter_sets"]


def parameter_sets(
    scenario: Scenario, replicates: int, uncertainty: bool, seq: np.random.SeedSequence
) -> tuple[list[Scenario], dict[str, np.ndarray]]:
    """One scenario for all replicates, or one per virtual subject with the values each drew.

    Returns
    -------
    scenarios : list of Scenario
        ``[scenario]`` without uncertainty, else one validated scenario per replicate.
    draws : dict of str to ndarray
        The drawn value of each uncertain key per replicate (empty without uncertainty).
    """
    if not uncertainty:
        return [scenario], {}
    if not scenario.uncertainty:
        raise ConfigError(
            f"{scenario.sources.get('scenario', 'scenario')}: uncertainty requested but the scenario has no "
            "[uncertainty] table; add distributions for the parameters to vary"
        )
    scenario.check_uncertainty_support()
    draws = sample_parameters(scenario.uncertainty, replicates, np.random.default_rng(seq))
    sets = [scenario.with_values({k: float(v[r]) for k, v in draws.items()}) for r in range(replicates)]
    return sets, draws
