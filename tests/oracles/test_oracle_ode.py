"""The exact solution against ``scipy.integrate.solve_ivp`` on the hand-built matrix, compartment by compartment.

Oracle: our own stiff integration (Radau, rtol 1e-10, absolute tolerance 1e-14 cells) of
``dx/dt = Q x + b`` and of the exposure ``dE/dt = x``, with ``Q``, ``x0`` and ``b`` written from
the TOML values by :mod:`tests.oracles.handbuilt` — not biodist's generator, nor biodist's own
``solve_ivp`` path — split at the end of an infusion. Each compartment is checked at its own scale,
``|exact − ivp| <= 1e-8 |ivp| + 1e-9 cells``: with 1e6 cells given, the knee's fraction of a cell
is held to ~1e-8 cells, not to a tolerance set by the lung's million.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from tests.oracles.handbuilt import SCENARIO, Setup, cell_chain, label_chain, reorder, reorder_rows

import biodist
from biodist.model import compile_model
from biodist.solvers.linear import solve

TIMES = np.array([0.0, 1e-3, 0.05, 0.25, 1.0, 6.0, 24.0, 72.0, 168.0])
RTOL, ATOL_CELLS = 1e-8, 1e-9


def integrate(q: np.ndarray, x0: np.ndarray, times: np.ndarray, b: np.ndarray | None = None, t_inf: float = 0.0):
    """States and exposures at ``times`` by Radau on ``[x, ∫x]``, restarted at the end of the infusion."""
    n = len(x0)
    jac = np.zeros((2 * n, 2 * n))
    jac[:n, :n], jac[n:, :n] = q, np.eye(n)

    def run(y0, t0, t1, inflow, t_eval):
        if t1 <= t0:
            return np.repeat(y0[:, None], len(t_eval), axis=1)
        sol = solve_ivp(
            lambda _t, y: np.concatenate([q @ y[:n] + inflow, y[:n]]),
            (t0, t1),
            y0,
            method="Radau",
            t_eval=t_eval,
            jac=jac,
            rtol=1e-10,
            atol=1e-14,
        )
        assert sol.success, sol.message
        return sol.y

    y0 = np.concatenate([x0, np.zeros(n)])
    zero = np.zeros(n)
    if t_inf == 0.0 or b is None:
        y = run(y0, 0.0, times[-1], zero, times)
    else:
        during = times[times <= t_inf]
        y_d = run(y0, 0.0, t_inf, b, np.append(during, t_inf))
        after = times[times > t_inf]
        y_a = run(y_d[:, -1], t_inf, times[-1], zero, after) if len(after) else np.empty((2 * n, 0))
        y = np.concatenate([y_d[:, :-1], y_a], axis=1)
    return y[:n], y[n:]


def assert_each_compartment(actual: np.ndarray, expected: np.ndarray, rows) -> None:
    bad = np.abs(actual - expected) > RTOL * np.abs(expected) + ATOL_CELLS
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise AssertionError(
            f"{rows[r]} at t = {TIMES[c]} h: exact {actual[r, c]!r} vs solve_ivp {expected[r, c]!r} "
            f"({bad.sum()} entries off)"
        )


CASES = [
    ("human", "iv", "knee", 0.0),
    ("human", "iv", "knee", 45.0),
    ("rat", "direct", "knee", 0.0),
    ("mouse", "intra_arterial", "brain", 0.0),
    ("human", "direct", "heart", 20.0),
]
#: Release and a distinct liver retention, so that every kind of transition carries cells.
OVERRIDES = {"cell.lung_release_per_h": 0.01, "cell.retention_per_pass.liver": 0.2}


def setup(species: str, route: str, target: str) -> Setup:
    return Setup.shipped(species, route=route, target=target, dose=1e6).with_overrides(OVERRIDES)


@functools.cache
def oracle(species: str, route: str, target: str, minutes: float) -> tuple[list[str], np.ndarray, np.ndarray]:
    """States, counts and exposures of the hand-built cells' chain by Radau (cached: the solves cost ~0.8 s)."""
    states, q, x0 = cell_chain(setup(species, route, target))
    t_inf = minutes / 60.0
    if t_inf:
        x, e = integrate(q, np.zeros_like(x0), TIMES, x0 / t_inf, t_inf)
    else:
        x, e = integrate(q, x0, TIMES)
    return states, x, e


@pytest.mark.parametrize(("species", "route", "target", "minutes"), CASES)
def test_cells_and_exposure_against_solve_ivp_on_the_hand_built_chain(species, route, target, minutes):
    """Oracle: Radau on the hand-built cells' chain; each compartment's counts and cell-hours at its own scale."""
    s = setup(species, route, target)
    sc = biodist.load_scenario(SCENARIO, s.scenario_overrides() | {"infusion_minutes": minutes})
    res = biodist.simulate(sc, times_h=TIMES, label=False)
    states, x, e = oracle(species, route, target, minutes)
    rows = res.compartments
    assert_each_compartment(res.counts, reorder_rows(x, states, rows), rows)
    assert_each_compartment(res.exposure_cell_h, reorder_rows(e, states, rows), rows)
    # the check works at the small compartments' scale: some hold less than one cell
    held = x[:, -1]
    assert held[held > 0].min() < 1.0


def test_label_chain_against_solve_ivp():
    """Oracle: Radau on the hand-built refined chain (debris, RES); compared state by state."""
    s = Setup.shipped("human", dose=1e6)
    model = compile_model(biodist.load_scenario(SCENARIO))
    states, q, x0 = label_chain(s)
    chain = model.chains[0]
    np.testing.assert_allclose(chain.generator, reorder(q, states, chain.states), rtol=1e-12, atol=1e-12)
    x, _ = integrate(q, x0, TIMES)
    exact, _ = solve(chain.generator, chain.initial, TIMES)
    assert_each_compartment(exact, reorder_rows(x, states, chain.states), chain.states)


def test_the_tolerance_sees_a_compartment_of_a_fraction_of_a_cell():
    """The per-compartment check is tight enough to catch an error of 1 % in a compartment holding ~0.1 cell.

    The knee after IV holds about 0.07 cells at 168 h; a uniform 1e-6-of-the-dose tolerance would
    pass any value there, this one does not.
    """
    states, x, _ = oracle(*CASES[0])
    knee = x[states.index("knee")]
    assert 1e-3 < knee[-1] < 1.0
    wrong = x.copy()
    wrong[states.index("knee")] *= 1.01
    with pytest.raises(AssertionError, match="knee"):
        assert_each_compartment(wrong, x, states)
