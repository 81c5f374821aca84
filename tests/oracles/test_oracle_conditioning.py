"""Ill-conditioned and defective generators: the exact solver's fallback, scalar and batched.

``biodist.solvers.decomposition.decompose`` judges an eigendecomposition by the 1-norm condition
number of its eigenvector matrix (``COND_MAX``); beyond it :func:`biodist.solvers.linear.solve`
falls back to the matrix exponential (``_expm_segment``). The generators here are built to need
that: chains with nearly equal rates (``κ₁(V) >= 1e8`` for numpy's unit-norm eigenvectors,
asserted) and exactly repeated rates (a Jordan block), both synthetic and in the model itself
(lodged cells dying at the rate their debris is taken up, 6 h, in the label chain).

Oracles: the Bateman equations evaluated in 60-digit decimal arithmetic (nearly equal rates:
the float closed form cancels catastrophically), the Poisson/Erlang closed form
``(kt)^m e^{-kt} / m!`` (equal rates), and ``scipy.linalg.expm`` of the matrix — for the model's
chain, of the matrix built by hand from the TOML values (:mod:`tests.oracles.handbuilt`).
A spy on ``_expm_segment`` shows which members of a stack took the fallback, and a run with the
fallback disabled shows the eigendecomposition alone would miss the 1e-9 tolerance.
"""

from __future__ import annotations

import decimal
import math

import numpy as np
import pytest
from scipy.linalg import expm
from tests.oracles.handbuilt import SCENARIO, Setup, label_chain, reorder, reorder_rows

import biodist
from biodist.config.keys import assign
from biodist.model import compile_model
from biodist.solvers import decomposition, linear
from biodist.solvers.expected import solve_model

TIMES = np.array([0.0, 0.3, 1.0, 4.0, 12.0, 40.0, 150.0])
RTOL = 1e-9


def chain(rates: list[float]) -> np.ndarray:
    """Generator of ``0 → 1 → … → n``; ``rates[i]`` leaves state ``i``; the last state absorbs."""
    n = len(rates) + 1
    q = np.zeros((n, n))
    for i, k in enumerate(rates):
        q[i + 1, i] += k
        q[i, i] -= k
    return q


def bateman_decimal(rates: list[float], times: np.ndarray, digits: int = 60) -> np.ndarray:
    """Every state of :func:`chain` (1 cell in state 0 at t = 0) by the Bateman equations in decimal arithmetic.

    ``x_m(t) = Π_{j<m} k_j Σ_{i<=m} e^{-k_i t} / Π_{j<=m, j!=i} (k_j − k_i)``, distinct rates, the
    absorbing state's rate 0. The floats are converted exactly, so only the formula differs from the solver.
    """
    with decimal.localcontext() as ctx:
        ctx.prec = digits
        k = [decimal.Decimal(r) for r in rates] + [decimal.Decimal(0)]
        out = np.zeros((len(k), len(times)))
        for c, t in enumerate(times):
            td = decimal.Decimal(float(t))
            for m in range(len(k)):
                lead = math.prod(k[:m], start=decimal.Decimal(1))
                total = decimal.Decimal(0)
                for i in range(m + 1):
                    denom = math.prod((k[j] - k[i] for j in range(m + 1) if j != i), start=decimal.Decimal(1))
                    total += (-k[i] * td).exp() / denom
                out[m, c] = float(lead * total)
    return out


def erlang(k: float, n_equal: int, times: np.ndarray) -> np.ndarray:
    """States of a chain of ``n_equal`` links of rate ``k``: Poisson terms ``(kt)^m e^{-kt}/m!``, the rest absorbed."""
    kt = k * times
    out = np.array([kt**m * np.exp(-kt) / math.factorial(m) for m in range(n_equal)])
    return np.vstack([out, 1.0 - out.sum(axis=0)])


def expm_states(q: np.ndarray, x0: np.ndarray, times: np.ndarray, b: np.ndarray | None = None, t_inf: float = 0.0):
    """``e^{Qt} x0`` by scipy; with an input ``b`` until ``t_inf``, the exponential of ``[[Q, b], [0, 0]]``."""
    n = len(x0)
    if b is None:
        return np.stack([expm(q * t) @ x0 for t in times], axis=1)
    aug = np.zeros((n + 1, n + 1))
    aug[:n, :n], aug[:n, n] = q, b
    start = np.append(x0, 1.0)
    out = []
    for t in times:
        during = expm(aug * min(t, t_inf)) @ start
        out.append(expm(q * max(t - t_inf, 0.0)) @ during[:n])
    return np.stack(out, axis=1)


def eigvec_condition(q: np.ndarray) -> float:
    """κ₁ of numpy's eigenvector matrix (unit-norm columns): the measure of ill-conditioning we assert on."""
    _, v = np.linalg.eig(q)
    with np.errstate(all="ignore"):
        return float(np.linalg.cond(v, 1))


def assert_close(actual: np.ndarray, expected: np.ndarray, scale: float = 1.0, rtol: float = RTOL) -> None:
    """Per-entry tolerance relative to the entry's own size, plus round-off of the total."""
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-14 * scale)


@pytest.fixture
def expm_calls(monkeypatch):
    """Count the generators that went through the matrix-exponential fallback (one per segment each)."""
    calls: list[np.ndarray] = []
    real = linear._expm_segment

    def spy(q, *args, **kwargs):
        calls.append(q.copy())
        return real(q, *args, **kwargs)

    monkeypatch.setattr(linear, "_expm_segment", spy)
    return calls


NEAR = [0.3, 0.3 * (1 + 1e-4), 0.3 * (1 + 2e-4), 2.0]  # three nearly equal rates
EQUAL = [0.7, 0.7, 0.7]  # a Jordan block of size 3
GOOD = [0.3, 1.1, 2.0, 0.05]


def test_nearly_equal_rates_are_ill_conditioned_and_fall_back(expm_calls):
    """Oracle: decimal Bateman; κ₁(V) >= 1e8 asserted; the scalar path takes the fallback."""
    q = chain(NEAR)
    assert eigvec_condition(q) >= 1e8
    assert not decomposition.decompose(q).ok
    x0 = np.eye(len(q))[0] * 3.0
    got, _ = linear.solve(q, x0, TIMES)
    assert len(expm_calls) == 1
    assert_close(got, 3.0 * bateman_decimal(NEAR, TIMES), 3.0)
    assert_close(got, expm_states(q, x0, TIMES), 3.0)


def test_without_the_fallback_the_eigendecomposition_misses_the_tolerance(monkeypatch):
    """The fallback matters: accepting every decomposition (COND_MAX = inf) breaks the 1e-9 agreement."""
    q = chain(NEAR)
    exact = bateman_decimal(NEAR, TIMES)
    monkeypatch.setattr(decomposition, "COND_MAX", np.inf)
    eig_only, _ = linear.solve(q, np.eye(len(q))[0], TIMES, method="eig")
    rel = np.abs(eig_only - exact) / np.maximum(np.abs(exact), 1e-300)
    assert np.max(rel[:, 1:]) > RTOL


def test_repeated_rates_are_defective_and_fall_back(expm_calls):
    """Oracle: Erlang closed form ``(kt)^m e^{-kt}/m!`` for three equal rates (a defective generator)."""
    q = chain(EQUAL)
    assert eigvec_condition(q) >= 1e8
    assert not decomposition.decompose(q).ok
    got, exposure = linear.solve(q, np.eye(4)[0], TIMES, exposure=True)
    assert len(expm_calls) == 1
    assert_close(got, erlang(0.7, 3, TIMES))
    # exposure of the first state: ∫ e^{-kt} = (1 - e^{-kt}) / k
    assert_close(exposure[0], -np.expm1(-0.7 * TIMES) / 0.7)
    with pytest.raises(biodist.SolverError):
        linear.solve(q, np.eye(4)[0], TIMES, method="eig")


@pytest.mark.parametrize("infusion_h", [0.0, 2.5])
def test_a_stack_mixing_good_ill_conditioned_and_defective_members(expm_calls, infusion_h):
    """Oracle: each member against its own closed form (bolus) or scipy expm of its augmented matrix (infusion).

    The batched path decomposes the whole stack at once and sends only the members it judges
    ill-conditioned to the fallback: the spy sees exactly those two, once per segment.
    """
    members = [GOOD, NEAR, [*EQUAL, 0.0], [0.3 * (1 + 1e-4), 0.3, 0.3 * (1 + 2e-4), 2.0]]
    q = np.stack([chain(r) for r in members])
    assert [eigvec_condition(m) >= 1e8 for m in q] == [False, True, True, True]
    assert decomposition.decompose(q).ok.tolist() == [True, False, False, False]
    x0 = np.zeros((4, 5))
    x0[:, 0] = [1.0, 2.0, 0.5, 1.0]
    b = np.zeros((4, 5))
    b[:, 0] = [0.4, 0.0, 1.0, 2.0]
    b = b if infusion_h else None
    got, _ = linear.solve(q, x0, TIMES, b, infusion_h)
    segments = 2 if infusion_h else 1
    assert len(expm_calls) == 3 * segments
    for i, rates in enumerate(members):
        if b is None and len(set(rates)) == len(rates):
            assert_close(got[i], x0[i, 0] * bateman_decimal(rates, TIMES), 2.0)
        elif b is None:  # three equal rates, then a zero rate: the fifth state stays empty
            assert_close(got[i], x0[i, 0] * np.vstack([erlang(0.7, 3, TIMES), np.zeros(len(TIMES))]), 2.0)
        assert_close(got[i], expm_states(q[i], x0[i], TIMES, None if b is None else b[i], infusion_h), 2.0)
    # the scalar path gives the same numbers for each member
    for i in range(4):
        alone, _ = linear.solve(q[i], x0[i], TIMES, None if b is None else b[i], infusion_h)
        assert_close(alone, got[i], 2.0, rtol=1e-12)


# ---- the model's own defective chain: lodged cells die at the rate their debris is phagocytosed ------
def test_label_chain_with_equal_death_and_debris_rates(expm_calls):
    """Oracle: scipy expm of the label chain built by hand, for lodged t½ = debris t½ = 6 h (defective).

    Scalar path (one scenario, ``simulate``) and batched path (the sweep's ``assign`` of an array of
    half-lives, compiled once and solved as one stack by ``solve_model``): exactly equal, nearly
    equal (1e-9 apart, κ₁ >= 1e8) and well-separated half-lives.
    """
    base = biodist.load_scenario(SCENARIO)
    debris = base.species.label.debris_half_life_h
    assert debris == Setup.shipped().species["label"]["debris_half_life_h"] == 6.0
    half_lives = np.array([debris, debris * (1 + 1e-9), 25.0])
    dose = base.dose_cells
    expected = []
    for hl in half_lives:
        s = Setup.shipped(dose=dose).with_overrides({"cell.lodged_half_life_h": float(hl)})
        states, q, x0 = label_chain(s)
        expected.append((states, q, x0, expm_states(q, x0, TIMES)))
    # the defective and nearly defective members are ill-conditioned by numpy's measure too
    assert [eigvec_condition(e[1]) >= 1e8 for e in expected] == [True, True, False]

    # scalar path
    for hl, (states, _, _, ref) in zip(half_lives, expected, strict=True):
        expm_calls.clear()
        sc = base.with_values({"cell.lodged_half_life_h": float(hl)})
        model = compile_model(sc)
        got = solve_model(model, TIMES, ("label",)).views["label"]
        observe = model.readouts["label"].matrix
        assert_close(got, observe @ reorder_rows(ref, states, model.states), dose)
        assert len(expm_calls) == (0 if hl == 25.0 else 1)

    # batched path: one compile with an array of half-lives, one stacked solve
    expm_calls.clear()
    batch = compile_model(assign(base, {"cell.lodged_half_life_h": half_lives}))
    chain_ = batch.chains[0]
    assert chain_.generator.shape[0] == 3
    raw, _ = linear.solve(chain_.generator, chain_.initial, TIMES)
    assert len(expm_calls) == 2
    for i, (states, q, _, ref) in enumerate(expected):
        np.testing.assert_allclose(chain_.generator[i], reorder(q, states, batch.states), rtol=1e-12, atol=1e-12)
        assert_close(raw[i], reorder_rows(ref, states, batch.states), dose)
    views = solve_model(batch, TIMES, ("label", "cells")).views
    for i, (states, _, _, ref) in enumerate(expected):
        assert_close(views["label"][i], batch.readouts["label"].matrix @ reorder_rows(ref, states, batch.states), dose)
