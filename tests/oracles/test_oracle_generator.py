"""The compiled generator and first pass against rate matrices built by hand from the TOML files.

Oracle: :mod:`tests.oracles.handbuilt` reads ``configs/species``, ``configs/cells`` and
``configs/routes`` with :mod:`tomllib` and writes every transition of ``DESIGN.md`` ("The
circulation model", "Routes") and of the label model (debris states) itself; the arterial
split comes from the absorption probabilities of a jump chain through the beds, not from a
formula shared with the package. Retention differs from bed to bed (overrides), so a
transition sent to the wrong organ, a flow share applied to the wrong bed, a half-life
used without ln 2, or a release sent to venous instead of arterial blood changes the matrix.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from tests.oracles.handbuilt import (
    CLEARED,
    LUNG,
    SCENARIO,
    VENOUS,
    Setup,
    bed_absorption,
    cell_chain,
    cell_moves,
    cell_states,
    entry,
    flows,
    label_chain,
    matrix,
    reorder,
    retentions,
    systemic,
    transit_rates,
)

import biodist
from biodist.model import compile_model

#: (route, target, injury, perfusion): every route, each territory and depot shipped, and both factors.
ROUTE_CASES = [
    ("iv", "knee", 1.0, 1.0),
    ("iv", "knee", 1.0, 4.0),  # the knee's flow ×4, taken from rest
    ("iv", "lung", 3.0, 1.0),  # an injured lung lodges more
    ("intra_arterial", "brain", 1.0, 1.0),
    ("intra_arterial", "brain", 1.05, 1.0),  # 0.92 × 1.05 = 0.966
    ("intra_arterial", "heart", 1.0, 1.0),
    ("intra_arterial", "knee", 1.0, 1.0),
    ("direct", "knee", 1.0, 1.0),
    ("direct", "heart", 2.0, 1.0),
]


def distinct_lodging(species: str) -> dict[str, object]:
    """Overrides giving every systemic bed its own retention and every fate its own rate."""
    organs = systemic(Setup.shipped(species).species)
    out: dict[str, object] = {f"cell.retention_per_pass.{o}": round(0.02 + 0.045 * i, 4) for i, o in enumerate(organs)}
    out |= {f"cell.release_per_h.{o}": round(0.004 * (i + 1), 4) for i, o in enumerate(organs)}
    out |= {
        "cell.lung_release_per_h": 0.05,
        "cell.circulating_half_life_h": 0.7,
        "cell.lung_half_life_h": 20.0,
        "cell.lodged_half_life_h": 30.0,
        "cell.viable_fraction": 0.9,
        "cell.lung_pass_fraction": 0.031,
    }
    return out


def setup_and_model(species: str, route: str, target: str, injury: float, perfusion: float):
    s = Setup.shipped(species, route=route, target=target, injury=injury, perfusion=perfusion, dose=2.5e6)
    s = s.with_overrides(distinct_lodging(species))
    return s, compile_model(biodist.load_scenario(SCENARIO, s.scenario_overrides()))


def assert_same_matrix(actual: np.ndarray, expected: np.ndarray) -> None:
    scale = np.abs(expected).max()
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-13 * scale)


@pytest.mark.parametrize("species", ["human", "rat", "mouse"])
@pytest.mark.parametrize(("route", "target", "injury", "perfusion"), ROUTE_CASES)
def test_cells_chain_matches_the_hand_built_generator(species, route, target, injury, perfusion):
    """Oracle: the cells' generator and initial state written from the TOML values (handbuilt.cell_chain)."""
    s, model = setup_and_model(species, route, target, injury, perfusion)
    states, q, x0 = cell_chain(s)
    assert sorted(model.compartments) == sorted(states)  # the same compartments (the order is the model's)
    assert_same_matrix(model.generator, reorder(q, states, model.compartments))
    np.testing.assert_allclose(model.initial, reorder(x0, states, model.compartments), rtol=1e-13, atol=1e-6)
    # the named rates: CO / V for each side of the circulation, ln 2 / t½ for each fate
    k_v, k_a = transit_rates(s.species)
    assert model.rates["venous_to_lung_per_h"] == pytest.approx(k_v, rel=1e-13)
    assert model.rates["arterial_to_beds_per_h"] == pytest.approx(k_a, rel=1e-13)
    assert model.rates["lung_clearance_per_h"] == pytest.approx(math.log(2) / 20.0, rel=1e-13)


@pytest.mark.parametrize("species", ["human", "mouse"])
@pytest.mark.parametrize(("route", "target", "injury", "perfusion"), ROUTE_CASES[::2])
def test_label_chain_matches_the_hand_built_generator(species, route, target, injury, perfusion):
    """Oracle: the refined chain (debris per dying site, RES uptake split by liver_share) built by hand."""
    s, model = setup_and_model(species, route, target, injury, perfusion)
    states, q, x0 = label_chain(s)
    chain = model.chains[0]
    assert_same_matrix(chain.generator, reorder(q, states, chain.states))
    np.testing.assert_allclose(chain.initial, reorder(x0, states, chain.states), rtol=1e-13, atol=1e-6)


def test_infusion_spreads_the_hand_built_entry_over_its_duration():
    """Oracle: input rate = entry (cells) / infusion duration (h); nothing at time 0."""
    s = Setup.shipped("rat", dose=4e5).with_overrides(distinct_lodging("rat"))
    model = compile_model(biodist.load_scenario(SCENARIO, s.scenario_overrides() | {"infusion_minutes": 36.0}))
    states, q, x0 = cell_chain(s)
    assert_same_matrix(model.generator, reorder(q, states, model.compartments))
    np.testing.assert_allclose(model.input_rate, reorder(x0, states, model.compartments) / 0.6, rtol=1e-13)
    assert not model.initial.any()


# ---- a small species of its own: portal drainage in a territory, a depot with every fraction --------
TINY_SPECIES = """
name = "tiny"
body_weight_kg = 2.0
cardiac_output_l_per_min = 0.4
blood_volume_fraction_bw = 0.07
arterial_blood_fraction = 0.3
capillary_diameter_um = 7.0
capillary_log_sd = 0.2
[label]
debris_half_life_h = 9.0
liver_share = 0.65
[organs.lung]
capillary_diameter_um = 5.0
volume_fraction_bw = 0.01
[organs.brain]
flow_fraction = 0.15
volume_fraction_bw = 0.02
capillary_diameter_um = 6.2
[organs.liver]
flow_fraction = 0.08
volume_fraction_bw = 0.03
[organs.spleen]
flow_fraction = 0.05
volume_fraction_bw = 0.003
drains_to = "liver"
[organs.gut]
flow_fraction = 0.22
volume_fraction_bw = 0.02
drains_to = "liver"
"""
TINY_CELL = """
name = "tiny cell"
viable_fraction = 0.8
diameter_um_mean = 18.0
diameter_um_sd = 4.0
lung_pass_fraction = 0.07
lung_pass_fraction_range = [0.05, 0.1]
lung_half_life_h = 12.0
lung_release_per_h = 0.02
lodged_half_life_h = 40.0
circulating_half_life_h = 2.0
[retention_per_pass]
default = 0.05
brain = 0.11
liver = 0.37
spleen = 0.23
gut = 0.17
"""
TINY_ROUTES = """
name = "tiny routes"
[territories.gut]
artery = "mesenteric"
beds = ["gut", "spleen"]
first_pass_retention = 0.6
[territories.liver]
artery = "mesenteric and splenic"
beds = ["gut", "spleen"]             # the target is downstream of its territory's beds
first_pass_retention = 0.6
[depots.brain]
name = "intracerebral"
immediate_loss_fraction = 0.1
immediate_venous_fraction = 0.2
engrafted_fraction = 0.05
leak_per_h = 0.004
depot_half_life_h = 50.0
engrafted_half_life_h = 900.0
"""


def tiny(tmp: Path, route: str, target: str, injury: float = 1.0) -> tuple[Setup, biodist.Scenario]:
    import tomllib

    for name, text in (("tiny_species", TINY_SPECIES), ("tiny_cell", TINY_CELL), ("tiny_routes", TINY_ROUTES)):
        (tmp / f"{name}.toml").write_text(text)
    (tmp / "tiny.toml").write_text(
        'species = "tiny_species.toml"\ncell = "tiny_cell.toml"\nroutes = "tiny_routes.toml"\n'
        f'route = "{route}"\ntarget = "{target}"\ndose_cells = 1e5\ntarget_injury = {injury}\n'
    )
    tables = tomllib.loads(TINY_SPECIES), tomllib.loads(TINY_CELL), tomllib.loads(TINY_ROUTES)
    return Setup(*tables, route, target, injury=injury, dose=1e5), biodist.load_scenario(tmp / "tiny.toml")


@pytest.mark.parametrize(("route", "target"), [("iv", "brain"), ("intra_arterial", "gut"), ("direct", "brain")])
def test_tiny_species_generator_by_hand(tmp_path, route, target):
    """Oracle: a 4-organ species written here; the territory's gut and spleen drain through the liver's bed.

    Exercises every kind of transition: lung trapping, arterial distribution by flow, per-bed
    retention, portal drainage, release into arterial blood, death and clearance sinks, the
    depot's loss / wash-out / engraftment / leak, and the label's debris and RES uptake.
    """
    s, sc = tiny(tmp_path, route, target)
    model = compile_model(sc)
    states, q, x0 = cell_chain(s)
    assert_same_matrix(model.generator, reorder(q, states, model.compartments))
    np.testing.assert_allclose(model.initial, reorder(x0, states, model.compartments), rtol=1e-13, atol=1e-8)
    states, q, x0 = label_chain(s)
    chain = model.chains[0]
    assert_same_matrix(chain.generator, reorder(q, states, chain.states))
    np.testing.assert_allclose(chain.initial, reorder(x0, states, chain.states), rtol=1e-13, atol=1e-8)


def test_injury_boosts_a_target_downstream_of_its_territory_once(tmp_path):
    """Oracle: entry written out: gut and spleen beds lodge 0.6, the rest crosses the liver, which lodges 0.37 × 2.

    The injury factor multiplies the target's per-pass lodging probability once (capped at 1);
    applied twice the liver would lodge min(1, 0.37 × 4) = 1 of what reaches it.
    """
    s, sc = tiny(tmp_path, "intra_arterial", "liver", injury=2.0)
    model = compile_model(sc)
    viable = 1e5 * 0.8
    idx = model.compartments.index
    assert model.initial[idx("gut")] == pytest.approx(viable * 0.6 * 0.22 / 0.27, rel=1e-13)
    assert model.initial[idx("liver")] == pytest.approx(viable * 0.4 * 0.74, rel=1e-13)
    assert model.initial[idx(VENOUS)] == pytest.approx(viable * 0.4 * 0.26, rel=1e-13)
    states, q, x0 = cell_chain(s)
    assert_same_matrix(model.generator, reorder(q, states, model.compartments))
    np.testing.assert_allclose(model.initial, reorder(x0, states, model.compartments), rtol=1e-13, atol=1e-8)


def test_tiny_species_transitions_written_out():
    """Oracle: a few entries of the tiny species' generator written as arithmetic on the file's numbers."""
    import tomllib

    s = Setup(tomllib.loads(TINY_SPECIES), tomllib.loads(TINY_CELL), tomllib.loads(TINY_ROUTES), "iv", "brain")
    states = cell_states(s)
    q, idx = matrix(states, cell_moves(s)), states.index
    co, blood = 0.4 * 60, 0.07 * 2.0
    k_v, k_a = co / (0.7 * blood), co / (0.3 * blood)
    assert q[idx("lung"), idx(VENOUS)] == pytest.approx(k_v * 0.93, rel=1e-14)
    assert q[idx("arterial_blood"), idx(VENOUS)] == pytest.approx(k_v * 0.07, rel=1e-14)
    assert q[idx("brain"), idx("arterial_blood")] == pytest.approx(k_a * 0.15 * 0.11, rel=1e-14)
    portal = 0.05 * (1 - 0.23) + 0.22 * (1 - 0.17)  # spleen and gut outflow, crossing the liver's bed
    assert q[idx("liver"), idx("arterial_blood")] == pytest.approx(k_a * (0.08 + portal) * 0.37, rel=1e-14)
    rest = 1 - 0.15 - 0.08 - 0.05 - 0.22
    back = 0.15 * 0.89 + (0.08 + portal) * 0.63 + rest * 0.95
    assert q[idx(VENOUS), idx("arterial_blood")] == pytest.approx(k_a * back, rel=1e-14)
    assert q[idx("arterial_blood"), idx("lung")] == pytest.approx(0.02, rel=1e-14)
    assert q[idx(CLEARED), idx("lung")] == pytest.approx(math.log(2) / 12, rel=1e-14)
    assert q[idx(CLEARED), idx("gut")] == pytest.approx(math.log(2) / 40, rel=1e-14)
    assert q[idx(CLEARED), idx(VENOUS)] == pytest.approx(math.log(2) / 2, rel=1e-14)


# ---- first pass ----------------------------------------------------------------------------------
def first_pass_by_hand(s: Setup) -> dict[str, float]:
    """Lodging before a viable cell's second visit to venous blood (fractions of the viable cells).

    From the entry: cells placed in venous blood lodge in the lung with ``1 - p``; the fraction
    ``p`` is split over the beds by flow share × retention (portal outflow crossing the liver).
    Cells entering a territory lodge there on entry; a depot's and engrafted cells count at the target.
    """
    start = entry(s)
    venous = start.get(VENOUS, 0.0)
    p = s.cell["lung_pass_fraction"]
    split = bed_absorption(s.species, flows(s), retentions(s))
    out = {LUNG: venous * (1 - p)} | {o: start.get(o, 0.0) + venous * p * split[o] for o in systemic(s.species)}
    if s.route == "direct":
        out[s.target] += start["depot"] + start["engrafted"]
    return out


@pytest.mark.parametrize("species", ["human", "rat"])
@pytest.mark.parametrize(
    ("route", "target"), [("iv", "knee"), ("intra_arterial", "knee"), ("intra_arterial", "heart"), ("direct", "knee")]
)
def test_first_pass_by_hand(species, route, target):
    """Oracle: first pass from the shipped TOML values (bm_msc: retention 0.01 in every bed)."""
    s = Setup.shipped(species, route=route, target=target)
    res = biodist.simulate(biodist.load_scenario(SCENARIO, s.scenario_overrides()), times_h=[1.0], label=False)
    expected = first_pass_by_hand(s)
    assert set(res.first_pass) == set(expected)
    for organ, value in expected.items():
        assert res.first_pass[organ] == pytest.approx(value, rel=1e-12, abs=1e-15), organ


def test_first_pass_written_out_for_the_human_iv_default():
    """Oracle: the human IV numbers as arithmetic: p × f × E, the liver also catching gut and spleen outflow."""
    res = biodist.simulate(biodist.load_scenario(SCENARIO), times_h=[1.0], label=False)
    p, e = 0.026, 0.01
    assert res.first_pass["lung"] == pytest.approx(1 - p, rel=1e-14)
    assert res.first_pass["brain"] == pytest.approx(p * 0.12 * e, rel=1e-12)
    assert res.first_pass["knee"] == pytest.approx(p * 5e-4 * e, rel=1e-12)
    liver = 0.065 * e + (0.16 + 0.03) * (1 - e) * e
    assert res.first_pass["liver"] == pytest.approx(p * liver, rel=1e-12)
    rest = 1 - (0.12 + 0.04 + 0.065 + 0.03 + 0.16 + 0.19 + 0.17 + 0.05 + 0.05 + 0.03 + 5e-4)
    assert res.first_pass["rest"] == pytest.approx(p * rest * e, rel=1e-10)


@pytest.mark.parametrize(("injury", "retention"), [(50.0, 0.5), (1e3, 1.0)])
def test_an_injured_target_retains_at_most_all_it_receives(injury, retention):
    """Oracle: target_injury multiplies the knee's retention (0.01), capped at 1: p × f × min(1, 0.01 × factor)."""
    sc = biodist.load_scenario(SCENARIO, {"target_injury": injury})
    res = biodist.simulate(sc, times_h=[1.0], label=False)
    assert res.first_pass["knee"] == pytest.approx(0.026 * 5e-4 * retention, rel=1e-12)
    assert res.first_pass["brain"] == pytest.approx(0.026 * 0.12 * 0.01, rel=1e-12)  # other beds unchanged


def test_first_pass_written_out_for_the_femoral_and_intra_articular_routes():
    """Oracle: femoral: 0.92 split by the leg's flow shares; intra-articular: the depot and engrafted 1.5 %."""
    base = biodist.load_scenario(SCENARIO)
    femoral = biodist.simulate(base.replace(route="intra_arterial"), times_h=[1.0], label=False).first_pass
    leg = {"muscle": 0.17, "bone_marrow": 0.03, "skin": 0.05, "knee": 5e-4}
    p, e = 0.026, 0.01
    for bed, f in leg.items():
        expected = 0.92 * f / sum(leg.values()) + 0.08 * p * f * e
        assert femoral[bed] == pytest.approx(expected, rel=1e-12), bed
    assert femoral["lung"] == pytest.approx(0.08 * (1 - p), rel=1e-12)
    direct = biodist.simulate(base.replace(route="direct"), times_h=[1.0], label=False).first_pass
    assert direct["knee"] == pytest.approx(1.0, rel=1e-14)  # no loss, no wash-out: all in the depot or engrafted
    assert direct["lung"] == 0.0


@pytest.mark.parametrize(("route", "target"), [("iv", "knee"), ("intra_arterial", "brain"), ("direct", "heart")])
def test_first_pass_agrees_with_absorption_in_the_hand_built_chain(route, target):
    """Oracle: where the jump chain of the hand-built ``Q`` first lodges, before a second visit to venous blood.

    With blood clearance off, the embedded jump chain of ``Q`` (``P[j, i] = Q[j, i] / -Q[i, i]``) is
    made absorbing in every lodged state and in a copy of venous blood receiving every return;
    its absorption probabilities ``(I − T)⁻¹ R`` from the entry are the first pass: an independent
    computation from the whole generator, not from the entry and split formulas.
    """
    over = {"cell.circulating_half_life_h": math.inf, "cell.lung_release_per_h": 0.0}
    s = Setup.shipped("human", route=route, target=target).with_overrides(distinct_lodging("human") | over)
    model = compile_model(biodist.load_scenario(SCENARIO, s.scenario_overrides()))
    states, q, _ = cell_chain(s)
    transient = [VENOUS, "arterial_blood"]
    lodged = [x for x in states if x not in (*transient, CLEARED, "depot", "engrafted")]
    absorbing = [*lodged, "venous_again"]
    t = np.zeros((2, 2))
    r = np.zeros((2, len(absorbing)))
    for i, src in enumerate(transient):
        col = q[:, states.index(src)]
        for j, dst in enumerate(states):
            if dst == src or col[j] == 0.0:
                continue
            prob = col[j] / -col[states.index(src)]
            if dst == VENOUS:
                r[i, -1] += prob  # a return to venous blood ends the first pass
            elif dst in transient:
                t[i, transient.index(dst)] += prob
            else:
                r[i, absorbing.index(dst)] += prob
    absorb = np.linalg.solve(np.eye(2) - t, r)
    start = entry(s)
    from_entry = start.get(VENOUS, 0.0) * absorb[0] + start.get("arterial_blood", 0.0) * absorb[1]
    expected = {o: start.get(o, 0.0) + from_entry[absorbing.index(o)] for o in lodged}
    if route == "direct":
        expected[target] += start["depot"] + start["engrafted"]
    for organ, value in expected.items():
        assert model.first_pass[organ] == pytest.approx(value, rel=1e-12, abs=1e-16), organ


@pytest.mark.parametrize("heterogeneity", ["none", "size"])
@pytest.mark.parametrize("route", ["iv", "intra_arterial", "direct"])
def test_no_release_is_the_chain_without_release_exactly(tmp_path, route, heterogeneity):
    """Limit: a cell file without ``[release_per_h]`` (as before release existed) and the shipped zero rates give
    bit-identical generators, for every class, with and without the label states (zero rates add exact zeros)."""
    shipped = Path(biodist.config.bundled_config_dir()) / "cells" / "bm_msc.toml"
    text = shipped.read_text()
    (tmp_path / "old.toml").write_text(text[: text.index("[release_per_h]")])
    over = {"route": route, "target": "knee", "heterogeneity": heterogeneity}
    old = compile_model(biodist.load_scenario(SCENARIO, over | {"cell": str(tmp_path / "old.toml")}))
    new = compile_model(biodist.load_scenario(SCENARIO, over))
    assert len(old.chains) == len(new.chains) == (48 if heterogeneity == "size" else 1)
    for a, b in zip(old.chains + old.cell_chains, new.chains + new.cell_chains, strict=True):
        assert a.states == b.states
        assert np.array_equal(a.generator, b.generator)
    # and a release does change it: the knee's lodged cells return to venous blood at that rate
    released = compile_model(biodist.load_scenario(SCENARIO, over | {"cell.release_per_h.knee": 0.03}))
    chain = released.cell_chains[0]
    assert chain.generator[chain.index("venous_blood"), chain.index("knee")] == pytest.approx(0.03, rel=1e-15)
