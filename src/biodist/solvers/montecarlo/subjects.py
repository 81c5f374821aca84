"""Virtual subjects: each replicate draws its own parameters from the scenario's ``[uncertainty]`` table."""

from __future__ import annotations

import numpy as np

from ...config import Scenario, sample_parameters
from ...config.keys import get
from ...errors import ConfigError

__all__ = ["MEDIAN_FACTOR", "off_median", "parameter_sets"]


#: A default further than this factor from its distribution's median is flagged (the mean over subjects then
#: differs from the deterministic run for that reason, not only for the model's non-linearity).
MEDIAN_FACTOR = 1.1


def parameter_sets(
    scenario: Scenario, replicates: int, uncertainty: bool, seq: np.random.SeedSequence
) -> tuple[list[Scenario], dict[str, np.ndarray]]:
    """One scenario for all replicates, or one per virtual subject with the values each drew.

    The distributions are the scenario's :meth:`~biodist.Scenario.uncertain_parameters` (its species', its
    cell product's and its own).

    Returns
    -------
    scenarios : list of Scenario
        ``[scenario]`` without uncertainty, else one validated scenario per replicate.
    draws : dict of str to ndarray
        The drawn value of each uncertain key per replicate (empty without uncertainty).
    """
    if not uncertainty:
        return [scenario], {}
    declared = scenario.uncertain_parameters()
    if not declared:
        raise ConfigError(
            f"{scenario.sources.get('scenario', 'scenario')}: uncertainty requested but neither the scenario, its "
            f"species ({scenario.species.name}) nor its cell product ({scenario.cell.name}) declares an "
            "[uncertainty] table; add distributions for the parameters to vary"
        )
    scenario.check_uncertainty_support()
    draws = sample_parameters(declared, replicates, np.random.default_rng(seq))
    sets = [scenario.with_values({k: float(v[r]) for k, v in draws.items()}) for r in range(replicates)]
    return sets, draws


def off_median(scenario: Scenario) -> tuple[str, ...]:
    """One line for each uncertain parameter whose value in the scenario is not the median of its distribution."""
    notes = []
    for key, dist in scenario.uncertain_parameters().items():
        value, median = float(get(scenario, key)), dist.median_value()
        if value > 0 and median > 0 and max(value / median, median / value) > MEDIAN_FACTOR:
            notes.append(
                f"{key}: the scenario's value {value:.3g} is not the median of its declared distribution "
                f"({median:.3g}, {dist.distribution}); the virtual subjects centre on the median"
            )
    return tuple(notes)
