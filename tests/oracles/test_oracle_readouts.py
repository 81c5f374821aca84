"""Readouts per assay: conservation, the limits that give back today's label and cells, and closed forms.

Oracles: the dose (every unit of tracer is somewhere: in the body or left it); the label model
(a tracer that never leaves its cell nor the body *is* the label); the cells' chain (DNA lost at
death is the viable cells); ``e^{-kt}`` (tracer leaking uniformly from living cells) and
``2^{-t/T½}`` (activity without decay correction).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import CONFIGS, DEFAULT_SCENARIO, random_overrides

import biodist
from biodist.cli import main
from biodist.config.tracer import Tracer
from biodist.model import assemble, compile_model
from biodist.model.readouts import observation_matrix
from biodist.model.tracers import LEFT_BODY, tracer_rows, tracer_states, tracer_terms, with_tracer
from biodist.solvers import solve_model
from biodist.solvers.linear import solve

TIMES = np.array([0.0, 0.1, 1.0, 6.0, 24.0, 72.0, 168.0])
TRACERS = ["111In", "99mTc", "18F-FDG", "51Cr", "dna"]
ROUTES = [("iv", "knee"), ("intra_arterial", "brain"), ("direct", "knee")]


def tracer(**values) -> Tracer:
    inf = math.inf
    base = {"name": "test", "efflux_per_h": 0.0, "physical_half_life_h": inf, "free_half_life_h": inf}
    base["dead_half_life_h"] = inf
    return Tracer.model_validate(base | values)


def solve_tracer(scenario: biodist.Scenario, t: Tracer, times=TIMES) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The readout (row → values) and the raw states of a tracer's chain, homogeneous model."""
    model = compile_model(scenario)
    (circ,) = model.circulations
    states, moves, entry = with_tracer(circ, scenario, t)
    chain = assemble(states, moves, entry, scenario.infusion_h)
    x, _ = solve(chain.generator[None], chain.initial[None], times, chain.input_rate[None], chain.infusion_h)
    rows = tracer_rows(model.compartments)
    uptake = tuple(t.free_uptake)
    matrix = observation_matrix(
        rows, tracer_states(model.compartments, uptake), tracer_terms(model.compartments, uptake)
    )
    return dict(zip(rows, matrix @ x[0], strict=True)), x[0]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("name", TRACERS)
def test_every_readout_plus_what_left_the_body_is_the_dose(seed, name):
    """Conservation over random parameter sets, routes and infusions, shipped tracers and random ones."""
    rng = np.random.default_rng(seed)
    route, target = ROUTES[seed % 3]
    over = random_overrides(rng, ("human", "rat", "mouse")[seed % 3]) | {"route": route, "target": target}
    if seed % 2:
        over["infusion_minutes"] = float(rng.uniform(1, 120))
    sc = biodist.load_scenario(DEFAULT_SCENARIO, over)
    res = biodist.simulate(sc, times_h=TIMES, readouts=[name])
    total = np.sum(list(res.readouts[name].values()), axis=0)
    given = compile_model(sc).administered(TIMES)
    np.testing.assert_allclose(total, given, rtol=0, atol=1e-9 * sc.dose_cells)
    assert min(v.min() for v in res.readouts[name].values()) >= -1e-9 * sc.dose_cells
    # a random tracer: leaking, excreted in part, lost when dead, decaying
    t = tracer(
        efflux_per_h=float(10 ** rng.uniform(-3, 0)),
        free_half_life_h=float(10 ** rng.uniform(-1, 2)),
        free_uptake={"liver": 0.2, "bone_marrow": 0.1},
        dead_half_life_h=float(10 ** rng.uniform(0, 2)),
        physical_half_life_h=float(10 ** rng.uniform(0, 3)),
        decay_corrected=False,
    )
    rows, _ = solve_tracer(sc, t)
    np.testing.assert_allclose(np.sum(list(rows.values()), axis=0), given, rtol=0, atol=1e-9 * sc.dose_cells)


@pytest.mark.parametrize(("route", "target"), ROUTES)
def test_a_tracer_that_never_leaves_is_the_label(route, target):
    """Limit: no efflux, no loss, decay-corrected: every organ's tracer equals today's label, nothing left the body."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"route": route, "target": target, "infusion_minutes": 30.0})
    rows, _ = solve_tracer(sc, tracer(free_uptake={"liver": 0.5}))
    label = biodist.simulate(sc, times_h=TIMES).label
    for organ, values in label.items():
        if organ != "cleared":
            np.testing.assert_allclose(rows[organ], values, rtol=0, atol=1e-12 * sc.dose_cells, err_msg=organ)
    for sink in (*LEFT_BODY, "free_tracer"):
        assert np.abs(rows[sink]).max() <= 1e-12 * sc.dose_cells


@pytest.mark.parametrize(("route", "target"), ROUTES)
def test_dna_lost_at_death_is_the_viable_cells(route, target):
    """Limit: DNA degraded the moment its cell dies reads the viable cells, compartment by compartment."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"route": route, "target": target})
    res = biodist.simulate(sc, times_h=TIMES)
    rows, _ = solve_tracer(sc, tracer(dead_half_life_h=0.0))
    for i, comp in enumerate(res.compartments):
        if comp != "cleared":
            np.testing.assert_allclose(rows[comp], res.counts[i], rtol=0, atol=1e-12 * sc.dose_cells, err_msg=comp)
    np.testing.assert_allclose(rows["degraded"], res.cells("cleared"), rtol=0, atol=1e-12 * sc.dose_cells)


@pytest.mark.parametrize("heterogeneity", ["none", "size"])
def test_shipped_dna_lies_between_the_cells_and_the_label(heterogeneity):
    """DNA of dead cells degraded over hours: in each organ at least the viable cells, at most the label."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"heterogeneity": heterogeneity})
    res = biodist.simulate(sc, times_h=TIMES, readouts=["dna"])
    dna = res.readouts["dna"]
    for i, comp in enumerate(res.compartments):
        if comp != "cleared":
            assert (dna[comp] >= res.counts[i] - 1e-9 * sc.dose_cells).all(), comp
            assert (dna[comp] <= res.label[comp] + 1e-9 * sc.dose_cells).all(), comp
    assert dna["degraded"][-1] > 0.5 * sc.dose_cells  # a week on, most donor DNA is gone


def test_uniform_efflux_is_exponential():
    """Closed form: tracer still in living cells = viable cells × e^{-kt} (every living state leaks alike)."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO)
    k = 0.07
    _, states = solve_tracer(sc, tracer(efflux_per_h=k, free_half_life_h=2.0))
    cells = biodist.simulate(sc, times_h=TIMES)
    living = [i for i, c in enumerate(cells.compartments) if c != "cleared"]
    bound = states[: len(living)].sum(axis=0)  # the tracer chain lists the living states first
    np.testing.assert_allclose(bound, cells.counts[living].sum(axis=0) * np.exp(-k * TIMES), rtol=1e-11)


def test_activity_without_decay_correction_halves_with_the_nuclide():
    """Closed form: a tracer that stays in the body, not decay-corrected: in the body = dose × 2^{-t/T½}."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO)
    half = 6.0072
    rows, _ = solve_tracer(sc, tracer(physical_half_life_h=half, decay_corrected=False))
    body = sum(v for r, v in rows.items() if r not in LEFT_BODY)
    np.testing.assert_allclose(body, sc.dose_cells * 2.0 ** (-TIMES / half), rtol=1e-11)
    np.testing.assert_allclose(rows["decayed"], sc.dose_cells * (1 - 2.0 ** (-TIMES / half)), rtol=1e-9, atol=1e-6)


def test_free_tracer_goes_where_its_shares_say():
    """Closed form: all tracer leaks at once (efflux 1000/h), free tracer cleared fast: organs get their shares of
    the dose (every cell viable), to 2e-3: a cell dies before it leaks with probability death / (death + efflux),
    at most 0.69 / 1000 (circulating cells, half-life 1 h)."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"cell.viable_fraction": 1.0})
    t = tracer(efflux_per_h=1e3, free_half_life_h=1e-3, free_uptake={"heart": 0.3, "brain": 0.1})
    rows, _ = solve_tracer(sc, t, times=np.array([1.0]))
    dose = sc.dose_cells
    assert rows["heart"][0] == pytest.approx(0.3 * dose, rel=2e-3)
    assert rows["brain"][0] == pytest.approx(0.1 * dose, rel=2e-3)
    assert rows["excreted"][0] == pytest.approx(0.6 * dose, rel=2e-3)


def test_what_has_left_the_body_does_not_decay_in_it():
    """Closed form: tracer excreted within seconds of the dose (efflux 1000/h, free half-life 3.6 s) leaves before it
    can decay (T½ 6 h): excreted ≈ dose, decayed ≈ 0 at every time, to 2e-3 of the dose (see above)."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"cell.viable_fraction": 1.0})
    t = tracer(efflux_per_h=1e3, free_half_life_h=1e-3, physical_half_life_h=6.0, decay_corrected=False)
    rows, _ = solve_tracer(sc, t, times=np.array([1.0, 24.0, 168.0]))
    np.testing.assert_allclose(rows["excreted"], sc.dose_cells, rtol=2e-3)
    assert (rows["decayed"] <= 2e-3 * sc.dose_cells).all()


@pytest.mark.parametrize("also", ["cells", "label"])
def test_the_target_readout_counts_the_depot_and_the_engrafted_cells(also):
    """Definition: after a direct injection the cells at the target are its bed's, the depot's and the engrafted
    ones, read off the cells' chain (with cells) or off the chain with label states (with label)."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"route": "direct", "target": "knee"})
    model = compile_model(sc)
    got = solve_model(model, TIMES, ("target", also)).views["target"][0]
    counts = biodist.simulate(sc, times_h=TIMES)
    expected = counts.cells("knee") + counts.cells("depot") + counts.cells("engrafted")
    assert counts.cells("depot")[1] > 0.1 * sc.dose_cells
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12 * sc.dose_cells)


def test_bad_tracers_are_refused():
    with pytest.raises(ValueError, match=r"add up to 1\.2"):
        tracer(free_uptake={"liver": 0.7, "heart": 0.5})
    with pytest.raises(ValueError, match="dead_half_life_h"):
        tracer(dead_half_life_h=1e-9)


def test_readouts_on_the_command_line(capsys):
    """--readout 18F-FDG --json carries every readout; a bad name is one line with exit 2 listing the allowed."""
    assert main(["simulate", str(DEFAULT_SCENARIO), "--readout", "18F-FDG", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"cells", "bli", "label", "dna", "111In", "99mTc", "18F-FDG", "51Cr"} <= set(out["readouts"])
    assert out["readouts"]["cells"]["lung"] == out["counts"]["lung"]
    assert main(["simulate", str(DEFAULT_SCENARIO), "--readout", "dna"]) == 0
    assert "What dna sees" in capsys.readouterr().out
    assert main(["simulate", str(DEFAULT_SCENARIO), "--readout", "pet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--readout 'pet'" in err and "18F-FDG" in err and "dna" in err


def _species_without_marrow(tmp_path) -> Path:
    """A scenario beside a copy of the mouse without bone marrow (where free 111In would go)."""
    text = (CONFIGS / "species" / "mouse.toml").read_text()
    start = text.index("[organs.bone_marrow]")
    end = text.index("[organs.", start + 1)
    (tmp_path / "species").mkdir()
    (tmp_path / "species" / "nomarrow.toml").write_text(text[:start] + text[end:])
    scenario = tmp_path / "s.toml"
    text = (CONFIGS / "mouse_msc_iv.toml").read_text()
    scenario.write_text(text.replace('species = "mouse"', 'species = "nomarrow"'))
    return scenario


def test_a_species_without_a_tracers_organ_still_simulates(tmp_path, capsys):
    """The tracer that needs the missing organ is left out of 'all' (--json); asked for by name it is refused."""
    scenario = _species_without_marrow(tmp_path)
    assert main(["simulate", str(scenario), "--json"]) == 0
    readouts = json.loads(capsys.readouterr().out)["readouts"]
    assert "111In" not in readouts and {"dna", "18F-FDG", "cells"} <= set(readouts)
    assert main(["simulate", str(scenario), "--readout", "111In"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "free_uptake.bone_marrow: not an organ of this species" in err


def test_readout_rows_carry_no_round_off_negatives():
    """Every readout row is >= 0, like the counts (the solver's round-off of ~1e-16 of the dose is cleared)."""
    res = biodist.simulate(biodist.load_scenario(DEFAULT_SCENARIO), readouts="all")
    for name, rows in res.readouts.items():
        for row, values in rows.items():
            assert (values >= 0).all(), (name, row)
    np.testing.assert_array_equal(res.readouts["bli"]["lung"], res.cells("lung"))


def test_bli_attenuation_scales_each_organs_viable_cells(capsys):
    """Hand oracle: with attenuation f in the lung, bli's lung row is f times its viable cells; other rows are
    the cells; the Monte Carlo's bli is f times the sampled counts; a bad organ or factor is one line, exit 2."""
    sc = biodist.Scenario.load(DEFAULT_SCENARIO).with_values(
        {"species.bli_attenuation.lung": 0.1, "species.bli_attenuation.liver": 0.5}
    )
    sim = biodist.simulate(sc, readouts=["bli"])
    bli = sim.readouts["bli"]
    assert np.allclose(bli["lung"], 0.1 * sim.cells("lung")) and np.allclose(bli["liver"], 0.5 * sim.cells("liver"))
    assert np.allclose(bli["brain"], sim.cells("brain"))
    plain = biodist.simulate(biodist.Scenario.load(DEFAULT_SCENARIO), readouts=["bli"]).readouts["bli"]
    assert np.allclose(plain["lung"], sim.cells("lung"))  # the cached readouts of the same structure are untouched
    knee = biodist.Scenario.load("human_knee").with_values({"route": "direct", "species.bli_attenuation.knee": 0.1})
    seen = biodist.simulate(knee, readouts=["bli"])
    for row in ("knee", "depot", "engrafted"):  # a direct injection's cells sit in the target: its attenuation
        assert np.allclose(seen.readouts["bli"][row], 0.1 * seen.cells(row))
    mc = biodist.monte_carlo(sc, 2000, 5, seed=1, method="aggregated", readout="bli")
    lung = mc.readout.rows.index("lung")
    assert np.allclose(mc.readout.samples[:, lung], 0.1 * mc.counts[:, mc.index("lung")])
    for value, fragment in (
        ("species.bli_attenuation.lungs=0.5", "not an organ"),
        ("species.bli_attenuation.lung=0", "0 < value <= 1"),
    ):
        assert main(["simulate", str(DEFAULT_SCENARIO), "--set", value]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and fragment in err
