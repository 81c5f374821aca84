"""Each sink and each one-way transition against its closed form, through ``biodist.simulate``.

Oracle: with every other pathway switched off (pass fractions 0 or 1, retention 1, half-lives
``inf``), each compartment is a link of a linear chain whose solution is written here: a single
decay ``N 2^(-t/t½)``, the Bateman equations for two to four links in a row, and their
infusion and exposure integrals. The rates come from the TOML values in the test (``ln 2 / t½``,
``CO / V``), never from the model.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.oracles.handbuilt import SCENARIO, Setup, systemic, transit_rates

import biodist

TIMES = np.array([0.0, 0.1, 1.0, 6.0, 24.0, 72.0, 168.0])
LN2 = math.log(2.0)
HUMAN = Setup.shipped("human")
K_V, K_A = transit_rates(HUMAN.species)
DOSE = 1e6


def bateman(rates: list[float], t: np.ndarray) -> np.ndarray:
    """Amount in the last link of a chain that starts with 1 in the first; ``rates[i]`` leaves link ``i``.

    ``x_n(t) = Π_{j<n} k_j Σ_{i<=n} e^{-k_i t} / Π_{j<=n, j!=i} (k_j - k_i)`` (distinct rates; the
    last may be 0 for an absorbing link).
    """
    k = np.asarray(rates, dtype=float)
    out = np.zeros_like(t, dtype=float)
    for i in range(len(k)):
        others = np.delete(k, i)
        out += np.exp(-k[i] * t) / np.prod(others - k[i])
    return np.prod(k[:-1]) * out


def run(overrides: dict, times=TIMES, **kw):
    sc = biodist.load_scenario(SCENARIO, {"dose_cells": DOSE} | overrides)
    return sc, biodist.simulate(sc, times_h=times, **kw)


def close(actual, expected, scale=DOSE, rtol=1e-9):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-12 * scale)


#: Everything off: no clearance anywhere, no release, no lodging outside the lung.
QUIET = {
    "cell.circulating_half_life_h": math.inf,
    "cell.lung_half_life_h": math.inf,
    "cell.lodged_half_life_h": math.inf,
    "cell.lung_release_per_h": 0.0,
}
#: Intra-carotid, every cell lodged in the brain on its first pass, nothing else happening.
INTO_THE_BRAIN = QUIET | {
    "route": "intra_arterial",
    "target": "brain",
    "routes.territories.brain.first_pass_retention": 1.0,
}


@pytest.mark.parametrize("half_life", [3.0, 25.0, 400.0])
def test_lodged_cells_decay_with_their_half_life(half_life):
    """Oracle: intra-carotid, all cells lodged in the brain at once: brain(t) = N_viable · 2^(-t/t½)."""
    _, res = run(INTO_THE_BRAIN | {"cell.lodged_half_life_h": half_life})
    viable = DOSE * 0.95  # bm_msc.toml viable_fraction
    close(res.cells("brain"), viable * 2.0 ** (-TIMES / half_life))
    close(res.cells("cleared"), DOSE - viable * 2.0 ** (-TIMES / half_life))
    # exposure: ∫ N e^{-kt} = N (1 - e^{-kt}) / k
    k = LN2 / half_life
    close(res.exposure_cell_h[res.compartments.index("brain")], viable * -np.expm1(-k * TIMES) / k)


def test_lodged_cells_during_and_after_an_infusion():
    """Oracle: constant input N/T into a decaying compartment: N(1-e^{-kt})/(kT), then N(e^{-k(t-T)}-e^{-kt})/(kT)."""
    minutes, half_life = 90.0, 10.0
    t_inf, k = minutes / 60.0, LN2 / half_life
    times = np.array([0.0, 0.5, 1.5, 2.0, 24.0])
    _, res = run(INTO_THE_BRAIN | {"cell.lodged_half_life_h": half_life, "infusion_minutes": minutes}, times=times)
    n = DOSE * 0.95
    during = n * -np.expm1(-k * times) / (k * t_inf)
    after = n * (np.exp(-k * (times - t_inf)) - np.exp(-k * times)) / (k * t_inf)
    close(res.cells("brain"), np.where(times <= t_inf, during, after))


@pytest.mark.parametrize("half_life", [6.0, 24.0])
def test_lung_lodged_cells_bateman(half_life):
    """Oracle: p_pass = 0: venous →(CO/V_v) lung →(ln 2/t½) cleared, the two-link Bateman equations."""
    _, res = run(QUIET | {"cell.lung_pass_fraction": 0.0, "cell.lung_half_life_h": half_life})
    n, k_l = DOSE * 0.95, LN2 / half_life
    close(res.cells("venous_blood"), n * np.exp(-K_V * TIMES))
    close(res.cells("lung"), n * bateman([K_V, k_l], TIMES))
    assert res.cells("arterial_blood").max() <= 1e-12 * DOSE


def test_circulating_cells_decay_with_their_half_life():
    """Oracle: p_pass = 1, no retention: blood (venous + arterial) holds N 2^(-t/t½) and nothing lodges."""
    half_life = 2.0
    _, res = run(
        QUIET
        | {"cell.lung_pass_fraction": 1.0, "cell.retention_per_pass.default": 0.0, "cell.circulating_half_life_h": 2.0}
    )
    blood = res.cells("venous_blood") + res.cells("arterial_blood")
    close(blood, DOSE * 0.95 * 2.0 ** (-TIMES / half_life))
    assert res.cells("lung").max() <= 1e-12 * DOSE


def test_release_goes_to_arterial_blood_and_is_distributed_by_flow():
    """Oracle: venous → lung → (release) arterial → beds, a four-link Bateman chain; each bed its flow share.

    p_pass = 0 and retention 1 in every bed: a cell reaches a systemic bed only by release from the
    lung into arterial blood (released into venous blood it would be trapped again), and the beds
    share the arrivals in proportion to their fraction of cardiac output (gut and spleen keep
    theirs: with retention 1 nothing reaches the liver through the portal vein).
    """
    release = 0.05
    over = QUIET | {"cell.lung_pass_fraction": 0.0, "cell.lung_release_per_h": release}
    over |= {"cell.retention_per_pass.default": 1.0}
    _, res = run(over)
    n = DOSE * 0.95
    lung = n * bateman([K_V, release], TIMES)
    beds = n * bateman([K_V, release, K_A, 0.0], TIMES)
    close(res.cells("lung"), lung)
    organs = {o: t["flow_fraction"] for o, t in HUMAN.species["organs"].items() if o != "lung"}
    organs["rest"] = 1.0 - sum(organs.values())
    assert set(organs) == set(systemic(HUMAN.species))
    for organ, flow in organs.items():
        close(res.cells(organ), flow * beds, rtol=1e-8)


def test_depot_leak_death_and_engraftment():
    """Oracle: intra-articular depot: depot = N f_d e^{-(leak + ln2/t½) t}; engrafted = N f_e 2^(-t/t½_e).

    The leak is a rate (1/h) and the deaths half-lives; a leaked cell enters venous blood and
    (p_pass = 0, lung t½ inf) stays lodged in the lung: lung + blood = N f_d leak/(leak+k_d) (1 - e^{-(leak+k_d)t}).
    """
    leak, depot_t, engrafted_t = 0.01, 50.0, 700.0
    over = QUIET | {"route": "direct", "target": "knee", "cell.lung_pass_fraction": 0.0}
    over |= {
        "routes.depots.knee.leak_per_h": leak,
        "routes.depots.knee.depot_half_life_h": depot_t,
        "routes.depots.knee.engrafted_half_life_h": engrafted_t,
        "routes.depots.knee.engrafted_fraction": 0.1,
    }
    _, res = run(over)
    n = DOSE * 0.95
    k_out = leak + LN2 / depot_t
    close(res.cells("depot"), n * 0.9 * np.exp(-k_out * TIMES))
    close(res.cells("engrafted"), n * 0.1 * 2.0 ** (-TIMES / engrafted_t))
    leaked = res.cells("lung") + res.cells("venous_blood")
    close(leaked, n * 0.9 * leak / k_out * -np.expm1(-k_out * TIMES))


def test_debris_of_dead_cells_is_taken_up_by_the_liver_and_spleen():
    """Oracle: brain → (death) debris → (ln 2/t½_debris) liver/spleen, a three-link Bateman chain, in the label.

    The label readout of the brain is its viable cells plus its debris; non-viable cells start
    as lung debris and decay to the RES at the debris rate; the RES label splits by liver_share.
    """
    lodged_t = 25.0
    debris_t, share = HUMAN.species["label"]["debris_half_life_h"], HUMAN.species["label"]["liver_share"]
    over = QUIET | {"route": "intra_arterial", "target": "brain", "routes.territories.brain.first_pass_retention": 1.0}
    _, res = run(over | {"cell.lodged_half_life_h": lodged_t})
    k_l, k_d = LN2 / lodged_t, LN2 / debris_t
    alive, dead = DOSE * 0.95, DOSE * 0.05
    brain_cells = alive * np.exp(-k_l * TIMES)
    brain_debris = alive * bateman([k_l, k_d], TIMES)
    res_label = alive * bateman([k_l, k_d, 0.0], TIMES) + dead * -np.expm1(-k_d * TIMES)
    close(res.cells("brain"), brain_cells)
    close(res.label["brain"], brain_cells + brain_debris)
    close(res.label["lung"], dead * np.exp(-k_d * TIMES))
    close(res.label["liver"], share * res_label)
    close(res.label["spleen"], (1 - share) * res_label)
