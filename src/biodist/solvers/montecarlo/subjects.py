"""Virtual subjects: each replicate draws its own parameters.

The cell product's calibrated keys come from its shipped posterior (``configs/posteriors/``; jointly, so their
correlations are kept) where one applies; every other uncertain key from the declared distributions
(the scenario's, its species' and its product's ``[uncertainty]`` tables). ``uncertainty="ranges"`` uses the
declared distributions only (the priors of the calibration).
"""

from __future__ import annotations

import numpy as np

from ...config import Scenario, sample_parameters
from ...config.keys import get
from ...config.posterior import Posterior, find_posterior
from ...errors import ConfigError

__all__ = ["MEDIAN_FACTOR", "off_median", "parameter_sets", "posterior_for"]


#: A default further than this factor from its distribution's median is flagged (the mean over subjects then
#: differs from the deterministic run for that reason, not only for the model's non-linearity).
MEDIAN_FACTOR = 1.1


def posterior_for(scenario: Scenario, uncertainty: bool | str) -> Posterior | None:
    """The posterior the virtual subjects draw from (``None``: declared distributions only)."""
    if not uncertainty or uncertainty == "ranges":
        return None
    return find_posterior(scenario)[0]


def parameter_sets(
    scenario: Scenario, replicates: int, uncertainty: bool | str, seq: np.random.SeedSequence
) -> tuple[list[Scenario], dict[str, np.ndarray]]:
    """One scenario for all replicates, or one per virtual subject with the values each drew.

    The distributions are the scenario's :meth:`~biodist.Scenario.uncertain_parameters` (its species', its
    cell product's and its own); the product's calibrated keys are drawn from its posterior instead where
    one applies (see the module docstring), except keys the scenario sets to another value (held there).

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
    rng = np.random.default_rng(seq)
    posterior = posterior_for(scenario, uncertainty)
    drawn = {}
    if posterior is not None:
        held = posterior.held(scenario)
        drawn = {k: v for k, v in posterior.sample(replicates, rng).items() if k not in held}
        declared = {k: d for k, d in declared.items() if k not in drawn and k not in held}
    draws = dict(sorted((drawn | sample_parameters(declared, replicates, rng)).items()))
    sets = [scenario.with_values({k: float(v[r]) for k, v in draws.items()}) for r in range(replicates)]
    return sets, draws


def off_median(scenario: Scenario, uncertainty: bool | str = True) -> tuple[str, ...]:
    """One line for each uncertain parameter whose value in the scenario is not the median of what is drawn."""
    notes = []
    posterior = posterior_for(scenario, uncertainty)
    calibrated = {} if posterior is None else posterior.median()
    held = () if posterior is None else posterior.held(scenario)
    if posterior is not None:
        notes.append(f"the product's calibrated keys are drawn from its posterior ({posterior.path})")
    for key in held:
        notes.append(f"{key}: held at the scenario's value (it differs from the product file's), not drawn")
    for key, value in calibrated.items():
        if key in held:
            continue
        now = float(get(scenario, key))
        if now > 0 and max(now / value, value / now) > MEDIAN_FACTOR:
            notes.append(
                f"{key}: the scenario's value {now:.3g} is not the posterior median ({value:.3g}); the virtual "
                "subjects centre on the posterior"
            )
    for key, dist in scenario.uncertain_parameters().items():
        if key in calibrated:
            continue
        value, median = float(get(scenario, key)), dist.median_value()
        if value > 0 and median > 0 and max(value / median, median / value) > MEDIAN_FACTOR:
            notes.append(
                f"{key}: the scenario's value {value:.3g} is not the median of its declared distribution "
                f"({median:.3g}, {dist.distribution}); the virtual subjects centre on the median"
            )
    return tuple(notes)
