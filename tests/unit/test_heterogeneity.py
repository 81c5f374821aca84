"""Size model: quadrature, calibration (closed form), and the mixture ODE."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats
from tests.conftest import DEFAULT_SCENARIO

import biodist
from biodist.model import compile_model
from biodist.model.size import calibrate_deformability, diameter_classes, pass_probability


def lognormal(mean, sd):
    s2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - s2 / 2, math.sqrt(s2)


def test_classes_reproduce_the_moments():
    d, w = diameter_classes(26.5, 7.8)
    assert w.sum() == pytest.approx(1.0)
    assert w @ d == pytest.approx(26.5, rel=1e-12)
    assert math.sqrt(w @ (d - 26.5) ** 2) == pytest.approx(7.8, rel=1e-10)


@pytest.mark.parametrize("p_pass", [0.015, 0.026, 0.037, 0.3])
def test_calibration_matches_the_closed_form(p_pass):
    """For log-normal diameters and a probit sieve, ln(phi D) = mu + sqrt(s_c^2 + s_b^2) Phi^-1(p)."""
    mu, s_c = lognormal(26.5, 7.8)
    s_b, lung_um = 0.19, 5.5
    d, w = diameter_classes(26.5, 7.8)
    phi = calibrate_deformability(d, w, lung_um, s_b, p_pass)
    closed = math.exp(mu + math.hypot(s_c, s_b) * stats.norm.ppf(p_pass)) / lung_um
    assert phi == pytest.approx(closed, rel=1e-6)


def test_quadrature_matches_adaptive_integration():
    """48 Gauss-Hermite classes integrate a bed's pass probability to 1e-8 against scipy.quad."""
    mu, s_c = lognormal(26.5, 7.8)
    d, w = diameter_classes(26.5, 7.8)
    for effective in (10.0, 13.0, 17.0):
        exact, _ = integrate.quad(
            lambda x, e=effective: stats.norm.pdf(x, mu, s_c) * pass_probability(math.exp(x), e, 0.19),
            mu - 12 * s_c,
            mu + 12 * s_c,
            epsabs=1e-13,
        )
        assert w @ pass_probability(d, effective, 0.19) == pytest.approx(exact, abs=1e-8)


def test_size_mixture_keeps_the_configured_lung_first_pass():
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"heterogeneity": "size"})
    classes = compile_model(sc)
    assert classes.first_pass["lung"] == pytest.approx(1 - sc.cell.lung_pass_fraction, abs=1e-9)
    # smaller classes pass more easily, in every bed
    lodging = np.array([c.first_pass["lung"] for c in classes.circulations])
    assert (np.diff(lodging[np.argsort(classes.diameters_um)]) >= -1e-15).all()


def test_size_mixture_mass_balance_and_independent_check():
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"heterogeneity": "size", "infusion_minutes": 30})
    t = np.array([0.1, 0.5, 6, 72])
    exact = biodist.simulate(sc, times_h=t)
    ivp = biodist.simulate(sc, times_h=t, method="solve_ivp")
    np.testing.assert_allclose(exact.counts.sum(axis=0), np.minimum(t / 0.5, 1) * sc.dose_cells, rtol=1e-9)
    assert np.abs(exact.counts - ivp.counts).max() <= 1e-6 * sc.dose_cells


def test_none_is_one_class_with_the_configured_lodging(default_scenario):
    classes = compile_model(default_scenario)
    assert classes.n_classes == 1
    assert classes.first_pass == biodist.compile_model(default_scenario).first_pass
