"""Calibration: the likelihood against brute-force integrals, the predictor against validate, priors, terms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp
from tests.conftest import CONFIGS

from biodist.config import Distribution
from biodist.config.calibration import CalibrationSettings
from biodist.errors import ConfigError
from biodist.studies.calibration.likelihood import (
    ABOVE,
    BELOW,
    INTERVAL,
    NORMAL,
    Terms,
    log_likelihood,
    predictive_draws,
    study_log_likelihood,
)
from biodist.studies.calibration.predict import Entry, Predictor
from biodist.studies.calibration.problem import Problem
from biodist.studies.validate import evaluate, load_datasets

CALIBRATION = CONFIGS / "calibration" / "bm_msc.toml"
KEYS = (
    "cell.lung_pass_fraction",
    "cell.retention_per_pass.default",
    "cell.lung_half_life_h",
    "cell.lodged_half_life_h",
    "cell.lung_release_per_h",
)


def _terms() -> Terms:
    kind = np.array([NORMAL, NORMAL, INTERVAL, BELOW, ABOVE, NORMAL, BELOW, ABOVE])
    lo = np.array([0.3, -1.0, -0.5, np.nan, 0.2, 1.0, np.nan, -0.4])
    hi = np.array([0.3, -1.0, 0.4, 0.1, np.nan, 1.0, -2.0, np.nan])
    sd = np.array([0.1, 0.4, 0.2, 0.3, 0.5, 0.2, 0.15, 0.25])
    study = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    shared = np.array([1, 1, 1, 1, 0, 1, 1, 1], dtype=bool)
    return Terms(kind, lo, hi, sd, study, shared)


def _log_term(t: Terms, i: int, m: np.ndarray) -> np.ndarray:
    """One term's log-probability, written out with scipy.stats (the oracle)."""
    k, s = t.kind[i], t.sd[i]
    if k == NORMAL:
        return stats.norm.logpdf(t.lo[i], m, s)
    if k == INTERVAL:
        return np.log(np.maximum(stats.norm.cdf(t.hi[i], m, s) - stats.norm.cdf(t.lo[i], m, s), 1e-300))
    if k == BELOW:
        return stats.norm.logcdf(t.hi[i], m, s)
    return stats.norm.logcdf(m, t.lo[i], s)


def _brute(t: Terms, mu: np.ndarray, tau: float, s: int) -> float:
    """A study's log-likelihood by a 400,001-point integral over its offset (independent terms added)."""
    idx = np.flatnonzero(t.study == s)
    own = sum(float(_log_term(t, i, mu[i])) for i in idx if not t.shared[i])
    b = np.linspace(-15 * tau - 5, 15 * tau + 5, 400_001)
    log_f = stats.norm.logpdf(b, 0, tau)
    for i in idx:
        if t.shared[i]:
            log_f = log_f + _log_term(t, i, mu[i] + b)
    return float(logsumexp(log_f) + math.log(b[1] - b[0])) + own


@pytest.mark.parametrize("tau", [0.05, 0.8, 2.5])
def test_study_likelihood_matches_brute_force_integral(tau):
    """Normal terms integrated analytically, censored ones on the mode-centred grid: within 1e-3 nats of a
    brute-force integral over the study offset, for random predictions far from and near the data."""
    t = _terms()
    rng = np.random.default_rng(3)
    mu = rng.normal(0.0, 1.0, (4, len(t)))
    got = study_log_likelihood(mu, np.full(4, tau), t)
    for p in range(4):
        for s in range(3):
            assert got[p, s] == pytest.approx(_brute(t, mu[p], tau, s), abs=1e-3)


def test_without_between_study_spread_terms_are_independent():
    """τ → 0: the likelihood is the sum of every term at b = 0."""
    t = _terms()
    mu = np.random.default_rng(5).normal(0.0, 0.5, (3, len(t)))
    want = [sum(float(_log_term(t, i, mu[p, i])) for i in range(len(t))) for p in range(3)]
    assert log_likelihood(mu, np.full(3, 1e-7), t) == pytest.approx(want, abs=1e-5)


def test_undefined_prediction_has_zero_likelihood():
    t = _terms()
    mu = np.zeros((2, len(t)))
    mu[1, 3] = np.nan
    out = log_likelihood(mu, np.array([0.5, 0.5]), t)
    assert np.isfinite(out[0]) and out[1] == -np.inf


def test_predictive_draws_share_one_offset_per_study():
    """A new study's readings: amounts of a study move together (correlation τ²/(τ²+sd²)), ratios do not."""
    t = _terms()
    rng = np.random.default_rng(11)
    n, tau = 200_000, 0.8
    reading = predictive_draws(np.zeros((n, len(t))), np.full(n, tau), t, rng)
    c = np.corrcoef(reading[:, 0], reading[:, 1])[0, 1]
    want = tau**2 / math.sqrt((tau**2 + 0.1**2) * (tau**2 + 0.4**2))
    assert c == pytest.approx(want, abs=4 / math.sqrt(n))
    assert abs(np.corrcoef(reading[:, 4], reading[:, 5])[0, 1]) < 4 / math.sqrt(n)  # study 1: a ratio and an amount
    assert reading[:, 4].std() == pytest.approx(0.5, rel=0.01)  # the ratio: its own error only


@pytest.mark.parametrize(
    "dist",
    [
        Distribution(distribution="uniform", low=0.015, high=0.037),
        Distribution(distribution="log-uniform", low=1e-3, high=0.1),
        Distribution(distribution="log-normal", median=24, gsd=1.95, low=4, high=168),
        Distribution(distribution="normal", mean=5, sd=1, low=3, high=9),
    ],
)
def test_prior_density_is_normalised_and_matches_its_draws(dist):
    lo, hi = dist.low, dist.high
    mass = integrate.quad(lambda x: float(np.exp(dist.logpdf(np.array(x)))), lo, hi, limit=200)[0]
    assert mass == pytest.approx(1.0, abs=1e-6)
    assert dist.logpdf(np.array([lo * 0.99, hi * 1.01])).tolist() == [-np.inf, -np.inf]
    x = dist.sample(200_000, np.random.default_rng(1))  # the density of the draws: P(X < median) = 1/2
    assert np.mean(x < dist.median_value()) == pytest.approx(0.5, abs=0.005)


def test_predictor_gives_validate_numbers_single_and_batched():
    """The calibration's model values are validate's (every measurement), one by one and as a batch."""
    datasets = load_datasets(CONFIGS / "validation")
    entries = [Entry(p, d, m) for p, d in datasets for m in d.measurements]
    pred = Predictor(entries, KEYS)
    base = [0.026, 0.01, 24.0, 25.0, 2e-4]  # the shipped bone-marrow MSC values
    want = np.array([r["simulated"] for p, d in datasets for r in evaluate(p, d)])
    toupet = np.array([e.study == "toupet2013" for e in entries])  # adipose MSC: the keys set another product
    got = pred(base)
    np.testing.assert_allclose(got[~toupet], want[~toupet], rtol=1e-10)
    rng = np.random.default_rng(2)
    batch = np.column_stack(
        [
            rng.uniform(0.015, 0.037, 5),
            10 ** rng.uniform(-3, -1, 5),
            rng.uniform(8, 60, 5),
            rng.uniform(8, 60, 5),
            10 ** rng.uniform(-5, -3, 5),
        ]
    )
    together = pred(batch)
    for k in range(5):
        np.testing.assert_allclose(together[k], pred(batch[k]), rtol=1e-10)
    assert not np.allclose(together[0], together[1])  # the values do reach the model


def test_terms_read_the_reported_spread_and_the_tolerance():
    problem = Problem.build(CalibrationSettings.load(CALIBRATION), CALIBRATION.parent)
    by_id = {e.measurement.id: i for i, e in enumerate(problem.entries)}
    err = problem.settings.error
    for e, i in ((e, by_id[e.measurement.id]) for e in problem.entries):
        m = e.measurement
        sd = problem.terms.sd[i]
        if m.quantity == "upper_bound_pct_dose":
            assert problem.terms.kind[i] == BELOW and problem.terms.hi[i] == pytest.approx(math.log(m.value))
        elif m.quantity == "ratio_at_least":
            assert problem.terms.kind[i] == ABOVE and not problem.terms.shared[i]
        elif m.spread == "range_of_group_means":
            assert problem.terms.kind[i] == INTERVAL
        elif m.low is not None and m.low > 0 and m.quantity != "half_life_h":
            assert sd == pytest.approx(max(math.log(m.high / m.low) / 2, err.min_sd))
        elif m.low is None:
            assert sd == pytest.approx(max(math.log(e.dataset.tolerance_factor) / 1.6448536, err.min_sd), rel=1e-6)
        assert sd >= err.min_sd
    assert [s for s, _ in problem.excluded] == ["toupet2013"]  # adipose MSC: not the product


def test_leave_out_of_an_unknown_study_is_one_line():
    with pytest.raises(ConfigError, match=r"--leave-out nosuch2020: no such study; allowed: aicher2003"):
        Problem.build(CalibrationSettings.load(CALIBRATION), CALIBRATION.parent, ["nosuch2020"])


def test_parameter_without_a_prior_is_refused(tmp_path):
    text = CALIBRATION.read_text().replace('"cell.lung_release_per_h",', '"cell.viable_fraction",')
    path = tmp_path / "c.toml"
    path.write_text(text.replace('datasets = "../validation"', f'datasets = "{CONFIGS / "validation"}"'))
    with pytest.raises(ConfigError, match=r"'cell.viable_fraction' has no prior; add \[uncertainty"):
        Problem.build(CalibrationSettings.load(path), path.parent)


def test_settings_refuse_a_burn_in_longer_than_the_run(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(CALIBRATION.read_text().replace("burn = 1000", "burn = 100000"))
    with pytest.raises(ConfigError, match="burn-in must be shorter"):
        CalibrationSettings.load(path)
