"""The compiled generator and the first-pass graph."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import DEFAULT_SCENARIO, REQUIRED_ORGANS, random_overrides

import biodist
from biodist.model import ARTERIAL, CLEARED, VENOUS, Lodging, arterial_split, compile_model


def test_generator_is_a_rate_matrix(default_scenario):
    q = compile_model(default_scenario).generator
    off = q - np.diag(np.diag(q))
    assert (off >= 0).all()
    np.testing.assert_allclose(q.sum(axis=0), 0.0, atol=1e-9 * np.abs(q).max())
    assert (q[:, -1] == 0).all()  # cleared is absorbing


def test_compartment_labels(default_scenario):
    model = compile_model(default_scenario)
    assert model.compartments[:3] == (VENOUS, ARTERIAL, "lung")
    assert model.compartments[-2:] == ("rest", CLEARED)
    assert REQUIRED_ORGANS <= set(model.compartments)


@pytest.mark.parametrize("seed", range(5))
def test_arterial_split_is_a_distribution(seed):
    sc = biodist.load_scenario(DEFAULT_SCENARIO, random_overrides(np.random.default_rng(seed)))
    split = arterial_split(sc.species, Lodging.from_cell(sc).retention)
    assert min(split.values()) >= 0
    assert sum(split.values()) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("p", [0.0, 0.015, 0.026, 0.037, 0.5, 1.0])
def test_lung_first_pass_is_one_minus_pass_fraction(p):
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"cell.lung_pass_fraction": p})
    assert compile_model(sc).first_pass["lung"] == pytest.approx(1.0 - p, abs=1e-15)


def test_systemic_first_pass_is_proportional_to_pass_fraction():
    fp1 = compile_model(biodist.load_scenario(DEFAULT_SCENARIO, {"cell.lung_pass_fraction": 0.015})).first_pass
    fp2 = compile_model(biodist.load_scenario(DEFAULT_SCENARIO, {"cell.lung_pass_fraction": 0.030})).first_pass
    for organ in fp1:
        if organ != "lung":
            assert fp2[organ] == pytest.approx(2.0 * fp1[organ], rel=1e-12)


def test_first_pass_by_hand():
    """Brain and liver first pass from the flow bookkeeping, written out, with distinct retentions per bed."""
    sc = biodist.load_scenario(
        DEFAULT_SCENARIO,
        {
            "cell.retention_per_pass.gut": 0.3,
            "cell.retention_per_pass.spleen": 0.5,
            "cell.retention_per_pass.liver": 0.2,
            "cell.retention_per_pass.brain": 0.05,
        },
    )
    sp, cell = sc.species, sc.cell
    p, e = cell.lung_pass_fraction, cell.retention("brain")
    fp = compile_model(sc).first_pass
    assert fp["brain"] == pytest.approx(p * sp.flow_fraction("brain") * e, rel=1e-12)
    e_l, e_g, e_s = cell.retention("liver"), cell.retention("gut"), cell.retention("spleen")
    portal = sp.flow_fraction("gut") * (1 - e_g) + sp.flow_fraction("spleen") * (1 - e_s)
    assert fp["liver"] == pytest.approx(p * (sp.flow_fraction("liver") + portal) * e_l, rel=1e-12)
    assert fp["gut"] == pytest.approx(p * sp.flow_fraction("gut") * 0.3, rel=1e-12)
    assert fp["spleen"] == pytest.approx(p * sp.flow_fraction("spleen") * 0.5, rel=1e-12)
    # what leaves arterial blood and is not caught anywhere returns to venous blood
    split = arterial_split(sp, Lodging.from_cell(sc).retention)
    caught = sum(v for k, v in split.items() if k != VENOUS)
    assert split[VENOUS] == pytest.approx(1 - caught, rel=1e-12)


def test_transit_rates_follow_cardiac_output(default_scenario):
    sp = default_scenario.species
    model = compile_model(default_scenario)
    assert model.rates["venous_to_lung_per_h"] == pytest.approx(sp.cardiac_output_l_per_min * 60 / sp.venous_volume_l)
    assert model.rates["arterial_to_beds_per_h"] == pytest.approx(
        sp.cardiac_output_l_per_min * 60 / sp.arterial_volume_l
    )


def test_infusion_puts_the_dose_into_the_input(default_scenario):
    sc = default_scenario.replace(infusion_minutes=30)
    model = compile_model(sc)
    assert model.initial.sum() == 0
    assert model.input_rate.sum() * model.infusion_h == pytest.approx(sc.dose_cells)
    assert model.input_rate[model.index(CLEARED)] * model.infusion_h == pytest.approx(
        sc.dose_cells * (1 - sc.cell.viable_fraction)
    )
