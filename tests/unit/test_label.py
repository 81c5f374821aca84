"""The label model: conserved, equal to the cells while they live, and moved to liver and spleen after death."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import DEFAULT_SCENARIO

import biodist
from biodist.model import compile_model

T = np.array([0.0, 0.25, 24.0, 240.0, 2400.0])


def label_counts(sc, times):
    return biodist.simulate(sc, times_h=times).label


@pytest.mark.parametrize("over", [{}, {"route": "direct"}, {"infusion_minutes": 30}, {"heterogeneity": "size"}])
def test_label_is_conserved(over):
    sc = biodist.load_scenario(DEFAULT_SCENARIO, over)
    label = label_counts(sc, T)
    total = sum(label.values())
    np.testing.assert_allclose(total, compile_model(sc).administered(T), rtol=1e-8)


def test_label_equals_cells_when_nothing_dies():
    sc = biodist.load_scenario(
        DEFAULT_SCENARIO,
        {
            "cell.viable_fraction": 1.0,
            "cell.lung_half_life_h": float("inf"),
            "cell.lodged_half_life_h": float("inf"),
            "cell.circulating_half_life_h": float("inf"),
        },
    )
    res = biodist.simulate(sc, times_h=T)
    for i, c in enumerate(res.compartments):
        if c != "cleared":
            np.testing.assert_allclose(res.label[c], res.counts[i], rtol=1e-9, atol=1e-6)


def test_dead_cells_label_ends_in_liver_and_spleen_by_the_configured_share():
    sc = biodist.load_scenario(DEFAULT_SCENARIO)
    label = label_counts(sc, [24.0 * 365])
    res_total = label["liver"][0] + label["spleen"][0]
    assert res_total == pytest.approx(sc.dose_cells, rel=1e-3)  # after a year, all label is phagocytosed
    assert label["liver"][0] / res_total == pytest.approx(sc.species.label.liver_share, rel=1e-3)


def test_simulate_json_has_a_label_object(default_scenario):
    data = biodist.simulate(default_scenario).to_dict()
    assert set(data["label"]) == set(data["counts"])
    assert data["label"]["liver"][-1] > 100 * data["counts"]["liver"][-1]


@pytest.mark.parametrize("over", [{}, {"route": "direct"}, {"infusion_minutes": 30}, {"route": "intra_arterial"}])
def test_cells_chain_is_the_exact_lumping_of_the_label_chain(over):
    """Merging the dead states of the chain with label into 'cleared' gives the cells' chain: the generators agree
    entry by entry, and so do the cells solved on either chain."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"target": "heart", **over})
    model = compile_model(sc)
    full, cells = model.chains[0], model.cell_chains[0]
    lump = model.readouts["cells"].matrix  # compartments x full states, 0/1
    assert (lump.sum(axis=0) == 1).all()  # a partition
    reps = [int(np.flatnonzero(lump[i])[0]) for i in range(len(cells.states))]
    np.testing.assert_allclose(lump @ full.generator[:, reps], cells.generator, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(lump @ full.dosed, cells.dosed, rtol=1e-13)
    from biodist.solvers import solve_model as expected

    both = expected(model, T, ("cells", "label")).views["cells"]  # solved on the chain with label states
    alone = expected(model, T, ("cells",)).views["cells"]  # solved on the cells' chain
    np.testing.assert_allclose(both, alone, rtol=1e-10, atol=1e-12 * sc.dose_cells)
