"""Exact solutions against closed forms, the independent solver and invariants.

Tolerances: the exact path is exact up to round-off, so invariants are checked
to 1e-9 of the dose; ``solve_ivp`` runs at rtol 1e-10 and is compared to
within 1e-6 of the dose, as the issue asks.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from tests.conftest import DEFAULT_SCENARIO, random_overrides

import biodist
from biodist.errors import SolverError
from biodist.model import compile_model
from biodist.solvers import decomposition
from biodist.solvers.decomposition import levels
from biodist.solvers.linear import solve

TIMES = np.array([0.0, 1e-3, 0.01, 0.25, 0.5, 1, 6, 24, 72, 168])


def solve_linear(*args, **kwargs):
    return solve(*args, **kwargs)[0]


def cumulative_exposure(*args, method="expm"):
    return solve(*args, method=method, exposure=True)[1]


def random_scenario(seed: int, infusion: bool) -> biodist.Scenario:
    rng = np.random.default_rng(seed)
    species = ("human", "rat", "mouse")[seed % 3]
    over = random_overrides(rng, species)
    if infusion:
        over["infusion_minutes"] = float(rng.uniform(1, 120))
    return biodist.load_scenario(DEFAULT_SCENARIO, over)


@pytest.mark.parametrize("infusion", [False, True])
@pytest.mark.parametrize("seed", range(40))
def test_mass_balance_and_non_negative(seed, infusion):
    sc = random_scenario(seed, infusion)
    model = compile_model(sc)
    res = biodist.simulate(sc, times_h=TIMES)
    total = res.counts.sum(axis=0)
    np.testing.assert_allclose(total, model.administered(TIMES), rtol=1e-9, atol=1e-9 * sc.dose_cells)
    assert (res.counts >= 0).all()
    # the raw solver output is non-negative up to round-off too
    raw = solve_linear(model.generator, model.initial, TIMES, model.input_rate, model.infusion_h)
    assert raw.min() >= -1e-12 * sc.dose_cells


@pytest.mark.parametrize("infusion", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_exact_agrees_with_solve_ivp(seed, infusion):
    sc = random_scenario(100 + seed, infusion)
    exact = biodist.simulate(sc, times_h=TIMES).counts
    ivp = biodist.simulate(sc, times_h=TIMES, method="solve_ivp").counts
    assert np.abs(exact - ivp).max() <= 1e-6 * sc.dose_cells


def test_default_scenario_exact_agrees_with_solve_ivp(default_scenario):
    grid = np.geomspace(1e-4, 168, 60)
    for sc in (default_scenario, default_scenario.replace(infusion_minutes=45)):
        exact = biodist.simulate(sc, times_h=grid).counts
        ivp = biodist.simulate(sc, times_h=grid, method="solve_ivp").counts
        assert np.abs(exact - ivp).max() <= 1e-6 * sc.dose_cells


def test_eig_and_expm_agree(default_scenario):
    model = compile_model(default_scenario)
    args = (model.generator, model.initial, TIMES)
    np.testing.assert_allclose(
        solve_linear(*args, method="eig"), solve_linear(*args, method="expm"), rtol=1e-9, atol=1e-9 * model.dose_cells
    )


def test_two_compartments_closed_form():
    """A -> B at rate a, B -> A at rate b: x_A(t) = (b + a e^{-(a+b)t}) / (a + b)."""
    a, b = 3.0, 0.5
    q = np.array([[-a, b], [a, -b]])
    t = np.linspace(0, 5, 11)
    x = solve_linear(q, np.array([1.0, 0.0]), t)
    np.testing.assert_allclose(x[0], (b + a * np.exp(-(a + b) * t)) / (a + b), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(x.sum(axis=0), 1.0, rtol=1e-13)


def test_two_compartment_infusion_closed_form():
    """Constant input r into A, A -> B at rate k: x_A = r (1 - e^{-kt}) / k, x_B = r t - x_A."""
    k, r, t_inf = 2.0, 10.0, 3.0
    q = np.array([[-k, 0.0], [k, 0.0]])
    t = np.array([0.0, 0.5, 1.0, 3.0, 4.0])
    x = solve_linear(q, np.zeros(2), t, input_rate=np.array([r, 0.0]), infusion_h=t_inf)
    during = np.minimum(t, t_inf)
    xa_end = r * (1 - np.exp(-k * t_inf)) / k
    xa = np.where(t <= t_inf, r * (1 - np.exp(-k * during)) / k, xa_end * np.exp(-k * (t - t_inf)))
    np.testing.assert_allclose(x[0], xa, rtol=1e-12)
    np.testing.assert_allclose(x.sum(axis=0), r * during, rtol=1e-12)


def defective_chain(k: float = 1.5) -> np.ndarray:
    """A -> B -> C with two equal rates: a Jordan block, eigenvectors singular."""
    return np.array([[-k, 0, 0], [k, -k, 0], [0, k, 0]])


def test_exact_survives_a_defective_matrix():
    k = 1.5
    t = np.linspace(0, 6, 13)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = solve_linear(defective_chain(k), np.array([1.0, 0, 0]), t)
    np.testing.assert_allclose(x[0], np.exp(-k * t), rtol=1e-12)
    np.testing.assert_allclose(x[1], k * t * np.exp(-k * t), rtol=1e-10, atol=1e-15)  # Erlang-2
    np.testing.assert_allclose(x.sum(axis=0), 1.0, rtol=1e-13)


def test_eig_alone_refuses_a_defective_matrix():
    with pytest.raises(SolverError, match="ill-conditioned"):
        solve_linear(defective_chain(), np.array([1.0, 0, 0]), [1.0], method="eig")


def test_defective_rates_in_the_model():
    """Equal lung and tissue clearance with zero release: the model still balances."""
    sc = biodist.load_scenario(
        DEFAULT_SCENARIO,
        {"cell.lung_half_life_h": 25.0, "cell.lodged_half_life_h": 25.0, "cell.circulating_half_life_h": 25.0},
    )
    res = biodist.simulate(sc, times_h=TIMES)
    np.testing.assert_allclose(res.counts.sum(axis=0), sc.dose_cells, rtol=1e-9)


def test_exposure_matches_quadrature(default_scenario):
    sc = default_scenario.replace(infusion_minutes=20)
    model = compile_model(sc)
    t = np.concatenate([[0.0], np.geomspace(1e-6, 48, 20001)])
    x = solve_linear(model.generator, model.initial, t, model.input_rate, model.infusion_h)
    trapz = np.trapezoid(x, t, axis=1)
    exposure = cumulative_exposure(model.generator, model.initial, [48.0], model.input_rate, model.infusion_h)[:, 0]
    np.testing.assert_allclose(exposure, trapz, rtol=1e-5, atol=1e-9 * sc.dose_cells)


def test_bad_method(default_scenario):
    with pytest.raises(biodist.ConfigError, match="allowed"):
        biodist.simulate(default_scenario, method="rk4")


@pytest.mark.parametrize("infusion_minutes", [0, 15, 45])
def test_expm_fallback_matches_eig_on_the_full_model(default_scenario, monkeypatch, infusion_minutes):
    """Force the fallback (COND_MAX = 0) on the real model, with and without infusion: states and exposure agree."""
    model = compile_model(default_scenario.replace(infusion_minutes=infusion_minutes))
    args = (model.generator, model.initial, TIMES, model.input_rate, model.infusion_h)
    fast = solve(*args, method="eig", exposure=True)
    monkeypatch.setattr(decomposition, "COND_MAX", 0.0)
    with pytest.raises(SolverError):
        solve(*args, method="eig", exposure=True)
    slow = solve(*args, method="exact", exposure=True)
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * model.dose_cells)


def test_report_time_at_infusion_end_and_repeated_times(default_scenario):
    """An infusion ending exactly at a report time, and repeated times, in every method."""
    sc = default_scenario.replace(infusion_minutes=15)
    model = compile_model(sc)
    t = np.array([0.25, 0.25, 0.1, 1.0, 0.0])
    results = [
        solve_linear(model.generator, model.initial, t, model.input_rate, model.infusion_h, method=m)
        for m in ("exact", "expm", "solve_ivp")
    ]
    for r in results[1:]:
        assert np.abs(r - results[0]).max() <= 1e-6 * sc.dose_cells
    np.testing.assert_allclose(results[0].sum(axis=0), model.administered(t), rtol=1e-12)
    np.testing.assert_array_equal(results[0][:, 0], results[0][:, 1])


def test_solve_ivp_exposure_is_its_own(default_scenario):
    sc = default_scenario.replace(infusion_minutes=20)
    exact = biodist.simulate(sc).exposure_cell_h
    ivp = biodist.simulate(sc, method="solve_ivp").exposure_cell_h
    assert np.abs(exact - ivp).max() <= 1e-6 * sc.dose_cells * 168


@pytest.mark.parametrize("bad", [[], [[1.0, 2.0]], [np.nan], [-1.0]])
def test_bad_times(default_scenario, bad):
    with pytest.raises(biodist.ConfigError, match="times_h"):
        biodist.simulate(default_scenario, times_h=np.array(bad, dtype=float))


def bateman(rates: list[float], t: np.ndarray) -> np.ndarray:
    """A -> B -> C -> ... with distinct rates from one cell in A: the closed form (Bateman 1910)."""
    n = len(rates)
    out = np.zeros((n + 1, len(t)))
    for i in range(n):
        lam = np.asarray(rates[: i + 1])
        coef = np.prod(lam[:-1]) if i else 1.0
        out[i] = coef * sum(
            np.exp(-lam[j] * t) / np.prod([lam[m] - lam[j] for m in range(i + 1) if m != j]) for j in range(i + 1)
        )
    out[n] = 1 - out[:n].sum(axis=0)
    return out


def test_levels_follow_where_cells_can_go(default_scenario):
    """Blood and lung feed each other (one component); the systemic beds are fed by it, 'cleared' by them (IV)."""
    model = compile_model(default_scenario)
    cells = levels(model.generator)
    names = model.compartments
    assert cells[0] == ((0, 1, 2),) and names[:3] == ("venous_blood", "arterial_blood", "lung")
    assert {names[c[0]] for c in cells[1]} == set(names[3:-1])  # every systemic bed, each on its own
    assert cells[2] == ((names.index("cleared"),),)
    full = levels(model.chains[0].generator)
    assert [len(level) for level in full] == [1, 13, 12, 2]  # beds and lung debris; beds' debris; liver and spleen
    assert levels(np.array([[-1.0, 2.0], [1.0, -2.0]])) == (((0, 1),),)  # a closed loop: one component


def test_block_decomposition_matches_the_bateman_chain():
    """A 5-state chain A -> B -> C -> D -> E (lower triangular: every state a block) against its closed form."""
    rates = [3.0, 0.7, 0.05, 11.0]
    q = np.zeros((5, 5))
    for i, r in enumerate(rates):
        q[i, i] -= r
        q[i + 1, i] += r
    t = np.array([0.0, 0.1, 1.0, 10.0, 100.0])
    assert levels(q) == tuple(((i,),) for i in range(5))
    np.testing.assert_allclose(solve_linear(q, np.eye(5)[0], t), bateman(rates, t), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["human_msc_iv", "rat_msc_iv", "mouse_msc_iv"])
def test_block_decomposition_is_at_least_as_accurate_as_expm(name):
    """On the shipped models (cells' chain and the chain with label states), the block-by-block solution and the
    matrix exponential agree to 1e-12 of the dose (against a 40-digit mpmath reference the block solution is within
    1e-14 of the dose, scipy's expm within 9e-13, one decomposition of the whole generator within 4e-12)."""
    from scipy.linalg import expm

    sc = biodist.Scenario.load(name)
    model = compile_model(sc)
    for chain in (model.cell_chains[0], model.chains[0]):
        q, x0 = chain.generator, chain.initial
        reference = np.column_stack([expm(q * t) @ x0 for t in TIMES])
        assert np.abs(solve_linear(q, x0, TIMES) - reference).max() <= 1e-12 * sc.dose_cells


def random_block_generator(rng: np.random.Generator) -> np.ndarray:
    """A random generator with structure: a cycle (complex eigenvalues when it has three states) feeding a random
    lower-triangular tail, rates drawn from a few values (so that tail states share eigenvalues, coupled or not),
    states shuffled."""
    rates = (0.5, 1.0, 2.0)
    n, h = int(rng.integers(3, 8)), int(rng.integers(1, 4))
    q = np.zeros((n, n))
    for a in range(h if h > 1 else 0):
        q[(a + 1) % h, a] = rng.choice(rates)
    for j in range(h, n):
        for i in range(j):
            if rng.random() < 0.4:
                q[j, i] = rng.choice(rates)
    for i in range(n):
        if rng.random() < 0.5:
            q[i, i] -= rng.choice(rates)  # loss out of the system
    q[np.diag_indices(n)] -= q.sum(axis=0) - np.diag(q)
    order = rng.permutation(n)
    return q[np.ix_(order, order)]


def test_structured_solver_matches_expm_on_random_structured_chains():
    """2,000 random block-structured chains (about a quarter with complex eigenvalues, many defective): every
    solution within 1e-9 of the total against expm, whether the decomposition is accepted or falls back."""
    from scipy.linalg import expm

    rng = np.random.default_rng(1)
    t = np.array([0.0, 0.1, 1.0, 5.0, 20.0, 100.0])
    kinds = {"complex": 0, "defective": 0}
    for _ in range(2000):
        q = random_block_generator(rng)
        x0 = rng.random(len(q))
        d = decomposition.decompose(q)
        kinds["complex"] += bool(np.iscomplexobj(d.w))
        kinds["defective"] += not bool(d.ok)
        reference = np.column_stack([expm(q * ti) @ x0 for ti in t])
        assert np.abs(solve_linear(q, x0, t) - reference).max() <= 1e-9 * x0.sum()
    assert kinds["complex"] > 300 and kinds["defective"] > 100  # the hard cases were met


def test_a_defective_member_of_a_stack_falls_back_alone(default_scenario):
    """A stack mixing a defective chain (lodged and debris half-lives equal) with a chain of complex modes (fast
    release) and the default: each member as if it were solved alone (review finding)."""
    sc = default_scenario.with_values({"species.label.debris_half_life_h": 25.0, "cell.lodged_half_life_h": 25.0})
    fast = default_scenario.with_values({"cell.lung_release_per_h": 40.0})
    chains = [compile_model(s).chains[0] for s in (sc, fast, default_scenario)]
    q = np.stack([c.generator for c in chains])
    x0 = np.stack([c.initial for c in chains])
    together = solve_linear(q, x0, TIMES)
    for i, c in enumerate(chains):
        alone = solve_linear(c.generator, c.initial, TIMES, method="expm")
        assert np.abs(together[i] - alone).max() <= 1e-9 * sc.dose_cells


def test_fast_release_with_a_defective_tail_agrees_with_solve_ivp():
    """Review finding: a fast lung release (complex blood-lung modes) with equal lodged and debris half-lives."""
    sc = biodist.Scenario.load(
        "human_msc_iv",
        {"cell.lung_release_per_h": 40.0, "species.label.debris_half_life_h": 25.0, "cell.lodged_half_life_h": 25.0},
    )
    exact = biodist.simulate(sc, times_h=TIMES)
    ivp = biodist.simulate(sc, times_h=TIMES, method="solve_ivp")
    for c in exact.compartments:
        assert np.abs(exact.label[c] - ivp.label[c]).max() <= 1e-6 * sc.dose_cells


def test_phi_functions_are_accurate_across_the_series_cut_offs():
    """s φ₁(ws) and s² φ₂(ws) against a 50-digit evaluation (decimal), for |ws| from 1e-9 to 30, both signs: the
    closed form (e^z - 1 - z)/z² cancels near 0, so φ₂ uses its series up to |z| = 1 (review finding)."""
    from decimal import Decimal, getcontext

    from biodist.solvers.linear import _phi1, _phi2

    getcontext().prec = 50
    s = np.array([2.0])
    for z0 in np.concatenate([-np.geomspace(1e-9, 30, 60), np.geomspace(1e-9, 30, 60)]):
        w = np.array([z0 / 2.0])
        z = w[:, None] * s
        zd = Decimal(float(z0))
        exact1 = float(Decimal(2) * (zd.exp() - 1) / zd)
        exact2 = float(Decimal(4) * (zd.exp() - 1 - zd) / (zd * zd))
        assert _phi1(z, s, w)[0, 0] == pytest.approx(exact1, rel=2e-15)
        assert _phi2(z, s, w)[0, 0] == pytest.approx(exact2, rel=2e-15)
