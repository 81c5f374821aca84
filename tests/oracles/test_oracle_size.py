"""Size model invariants: a weighted mixture, and every bed's retention from its own capillary diameter.

Oracles: (i) conservation — summed over compartments, the class-weighted exposure is the integral
of the cells administered (``N t`` for a bolus), which an unweighted sum over the 48 classes
would overshoot 48-fold; (ii) the sieve of ``DESIGN.md`` ("The cell product") written here:
log-normal diameters on Gauss–Hermite nodes, the deformability ``φ`` found by our own root
search so that the mean lung pass is ``p_pass``, and each bed's retention
``1 − Φ((ln φ D_bed − ln d)/σ_b)`` from the bed's own diameter in the TOML, fed into the
hand-built generator of :mod:`tests.oracles.handbuilt`; (iii) the continuous integral over the
diameter density (``scipy.integrate.quad``) with ``φ`` in closed form.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats
from tests.oracles.handbuilt import LUNG, REST, SCENARIO, Setup, cell_chain, reorder, systemic

import biodist
from biodist.model import compile_model

DOSE = 1e6
#: The brain gets its own, narrower capillaries; the heart wider ones (species default 7.4 µm, lung 5.5 µm).
OWN_DIAMETERS = {"species.organs.brain.capillary_diameter_um": 6.0, "species.organs.heart.capillary_diameter_um": 9.5}


def size_scenario(extra: dict | None = None) -> biodist.Scenario:
    return biodist.load_scenario(SCENARIO, {"heterogeneity": "size", "dose_cells": DOSE} | (extra or {}))


def classes_by_hand(mean: float, sd: float, n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Log-normal with this mean and SD on ``n`` probabilists' Gauss–Hermite nodes in log-diameter."""
    s2 = math.log(1 + (sd / mean) ** 2)
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return mean * np.exp(-s2 / 2 + math.sqrt(s2) * x), w / math.sqrt(2 * math.pi)


def lodging_by_hand(s: Setup, diameters: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per-class lung pass and per-bed retention from each bed's own capillary diameter (TOML values)."""
    sp = s.species
    sigma = sp["capillary_log_sd"]
    bed_um = {
        o: sp["organs"].get(o, {}).get("capillary_diameter_um", sp["capillary_diameter_um"]) for o in sp["organs"]
    }
    bed_um[REST] = sp["capillary_diameter_um"]

    def passes(effective_um):
        return stats.norm.cdf((np.log(effective_um) - np.log(diameters)) / sigma)

    p = s.cell["lung_pass_fraction"]
    log_phi = optimize.brentq(lambda y: weights @ passes(math.exp(y) * bed_um[LUNG]) - p, -10, 10, xtol=1e-15)
    phi = math.exp(log_phi)
    return passes(phi * bed_um[LUNG]), {o: 1.0 - passes(phi * bed_um[o]) for o in systemic(sp)}


@pytest.mark.parametrize("infusion_minutes", [0.0, 30.0])
def test_mixture_exposure_is_the_integral_of_cells_administered(infusion_minutes):
    """Oracle: Σ_compartments ∫ x = ∫_0^t administered(s) ds: N t (bolus), N t²/2T then N (t − T/2) (infusion).

    Cells are conserved in every class, so the weighted mixture conserves them only if the
    class weights sum to 1 and are applied; an unweighted mixture is 48 times too high.
    """
    sc = size_scenario({"infusion_minutes": infusion_minutes})
    times = np.array([0.1, 0.25, 0.5, 1.0, 24.0, 168.0])
    res = biodist.simulate(sc, times_h=times)
    model = compile_model(sc)
    assert model.n_classes == 48
    assert model.weights.sum() == pytest.approx(1.0, rel=1e-14)
    t_inf = infusion_minutes / 60.0
    if t_inf == 0:
        given, integral = np.full_like(times, DOSE), DOSE * times
    else:
        given = DOSE * np.minimum(times / t_inf, 1.0)
        integral = np.where(times < t_inf, DOSE * times**2 / (2 * t_inf), DOSE * (times - t_inf / 2))
    np.testing.assert_allclose(res.counts.sum(axis=0), given, rtol=1e-10)
    np.testing.assert_allclose(res.exposure_cell_h.sum(axis=0), integral, rtol=1e-10)


def test_classes_and_weights_by_hand():
    """Oracle: the nodes and weights of the log-normal (mean 26.5, SD 7.8 µm of bm_msc.toml) computed here."""
    s = Setup.shipped()
    d, w = classes_by_hand(s.cell["diameter_um_mean"], s.cell["diameter_um_sd"])
    model = compile_model(size_scenario())
    np.testing.assert_allclose(model.diameters_um, d, rtol=1e-12)
    np.testing.assert_allclose(model.weights, w, rtol=1e-10)


@pytest.mark.parametrize(("route", "target"), [("iv", "knee"), ("intra_arterial", "brain"), ("intra_arterial", "knee")])
def test_every_class_generator_uses_each_beds_own_diameter(route, target):
    """Oracle: every class's generator built by hand from the sieve with the bed's own diameter.

    The brain (6.0 µm) and the heart (9.5 µm) have their own capillaries here; the other beds the
    species' 7.4 µm, the lung 5.5 µm. A model that used the lung's diameter (or the species'
    default) for every bed gives a different retention in the brain and fails the comparison.
    For an intra-arterial route the territory's first pass follows the same sieve (size-resolved).
    """
    over = OWN_DIAMETERS | {"route": route, "target": target}
    s = Setup.shipped(route=route, target=target, dose=DOSE).with_overrides(OWN_DIAMETERS)
    model = compile_model(size_scenario(over))
    d, w = classes_by_hand(s.cell["diameter_um_mean"], s.cell["diameter_um_sd"])
    lung, beds = lodging_by_hand(s, d, w)
    # the beds really differ: brain retains more than a 7.4 µm bed, the heart less
    k = 30
    assert beds["brain"][k] > beds["kidney"][k] > beds["heart"][k]
    for k, chain in enumerate(model.cell_chains):
        states, q, x0 = cell_chain(s, p_pass=float(lung[k]), retention={o: float(v[k]) for o, v in beds.items()})
        expected = reorder(q, states, model.compartments)
        np.testing.assert_allclose(chain.generator, expected, rtol=1e-9, atol=1e-12 * np.abs(expected).max())
        np.testing.assert_allclose(chain.initial, reorder(x0, states, model.compartments), rtol=1e-9, atol=1e-6)


def test_brain_first_pass_against_the_continuous_diameter_integral():
    """Oracle: ∫ pdf(ln d) · P_lung(d) · f_brain · (1 − P_brain(d)) d ln d by adaptive quadrature.

    ``φ`` from the closed form ``ln(φ D_lung) = μ + sqrt(σ_c² + σ_b²) Φ⁻¹(p_pass)`` (log-normal
    diameters and a probit sieve); the brain's own 6.0 µm diameter. The 48-class mixture must agree
    to 1e-6 (the quadrature error of the discretisation is ~1e-9 here).
    """
    s = Setup.shipped()
    mean, sd = s.cell["diameter_um_mean"], s.cell["diameter_um_sd"]
    s2 = math.log1p((sd / mean) ** 2)
    mu, s_c, s_b = math.log(mean) - s2 / 2, math.sqrt(s2), s.species["capillary_log_sd"]
    p = s.cell["lung_pass_fraction"]
    ln_phi_lung = mu + math.hypot(s_c, s_b) * stats.norm.ppf(p)
    ln_phi = ln_phi_lung - math.log(s.species["organs"]["lung"]["capillary_diameter_um"])
    f_brain, e = s.species["organs"]["brain"]["flow_fraction"], math.log(6.0)

    def density(x):
        lung_pass = stats.norm.cdf((ln_phi_lung - x) / s_b)
        return stats.norm.pdf(x, mu, s_c) * lung_pass * f_brain * (1 - stats.norm.cdf((ln_phi + e - x) / s_b))

    expected, _ = integrate.quad(density, mu - 12 * s_c, mu + 12 * s_c, epsabs=1e-15, epsrel=1e-12)
    model = compile_model(size_scenario(OWN_DIAMETERS))
    assert model.first_pass["brain"] == pytest.approx(expected, rel=1e-6)
    assert model.first_pass[LUNG] == pytest.approx(1 - p, rel=1e-9)


@pytest.mark.parametrize("infusion_minutes", [0.0, 30.0])
def test_mixture_exposure_per_compartment_is_the_integral_of_its_counts(infusion_minutes):
    """Oracle: second method. Each compartment's exposure of the 48-class mixture equals the trapezoid integral of
    its mixture counts over 6,000 log-spaced times (step ratio 1.003: quadrature error ~1e-6 relative), to 1e-4
    of the largest exposure. The Σ over compartments above cannot see an unweighted mixture; this can."""
    sc = size_scenario({"infusion_minutes": infusion_minutes})
    ends = np.array([1.0, 24.0])
    grid = np.unique(np.concatenate([[0.0], np.geomspace(1e-7, 24.0, 6000), ends]))
    counts = biodist.simulate(sc, times_h=grid, label=False, exposure=False).counts
    steps = np.diff(grid) * (counts[:, 1:] + counts[:, :-1]) / 2
    quadrature = np.concatenate([np.zeros((len(counts), 1)), np.cumsum(steps, axis=1)], axis=1)
    expected = quadrature[:, np.searchsorted(grid, ends)]
    exposure = biodist.simulate(sc, times_h=ends, label=False).exposure_cell_h
    np.testing.assert_allclose(exposure, expected, rtol=0, atol=1e-4 * np.abs(exposure).max())
