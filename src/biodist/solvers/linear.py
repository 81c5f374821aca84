"""The linear solver: exact expected counts of ``dx/dt = Q x + b``, batched first (one run is a stack of one).

The model is ``dx/dt = Q x + b`` while an infusion runs (``0 <= t <= T``) and
``dx/dt = Q x`` afterwards. On each piece the solution and its integral (the
exposure, cell-hours) are exact:

    x(s) = e^{Qs} x_0 + s φ₁(Qs) b,    ∫_0^s x = s φ₁(Qs) x_0 + s² φ₂(Qs) b,

with ``φ₁(z) = (e^z − 1)/z`` and ``φ₂(z) = (e^z − 1 − z)/z²``.

* ``"eig"`` evaluates them through the eigendecomposition ``Q = V Λ V⁻¹`` of every
  generator of the stack (built level by level of the chain's structure:
  :mod:`biodist.solvers.decomposition`), when ``V`` is well conditioned
  (``κ₁(V) = ‖V‖₁ ‖V⁻¹‖₁ <= COND_MAX``); a defective ``Q`` (equal rates along a chain)
  makes ``V`` singular, and then
* ``"expm"``: the matrix exponential of ``Q`` augmented by the input column and by
  the integral of the state (scipy's scaling-and-squaring Padé method), which needs
  no diagonalisation. ``"exact"`` (the default) uses ``"eig"`` where it is well
  conditioned and ``"expm"`` for the rest of the stack;
* ``"solve_ivp"`` integrates the same augmented system numerically with a stiff
  method (Radau), split at the end of the infusion: the independent check.

Functions here take arrays and return arrays; they know nothing of configs.
scipy is imported only by the paths that need it (``expm``, ``solve_ivp``).

References
----------
Moler C, Van Loan C (2003). Nineteen dubious ways to compute the exponential
of a matrix, twenty-five years later. SIAM Review 45:3-49.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError, SolverError
from .decomposition import COND_MAX, Decomposition, decompose

__all__ = ["COND_MAX", "METHODS", "propagators", "solve"]

#: Methods of :func:`solve`.
METHODS = ("exact", "eig", "expm", "solve_ivp")
#: Below this ``|z|`` φ₁ is evaluated by its series (error below 1e-16).
_SERIES = 1e-5
#: Coefficients 1/(k+2)! of φ₂'s series, k = 0..17 (the first term left out is below 1e-17 for |z| < 1).
_PHI2_SERIES = tuple(1.0 / math.factorial(k + 2) for k in range(18))


def _phi1(z: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``s φ₁(ws)`` elementwise (``z = ws``), by series where ``|z|`` is small."""
    with np.errstate(all="ignore"):
        out = np.expm1(z) / w[..., None]
    small = np.abs(z) < _SERIES
    if small.any():
        zs, ss = z[small], np.broadcast_to(s, z.shape)[small]
        out[small] = ss * (1 + zs / 2 + zs * zs / 6)
    return out


def _phi2(z: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``s² φ₂(ws)`` elementwise; by its series ``Σ z^k / (k+2)!`` where ``|z| < 1``, whose closed form cancels."""
    with np.errstate(all="ignore"):
        ww = w[..., None]
        out = (np.expm1(z) - z) / (ww * ww)
    small = np.abs(z) < 1.0
    if small.any():
        zs, ss = z[small], np.broadcast_to(s, z.shape)[small]
        series = np.full_like(zs, _PHI2_SERIES[-1])
        for c in _PHI2_SERIES[-2::-1]:  # Horner
            series = series * zs + c
        out[small] = ss * ss * series
    return out


def _eig_segment(
    d: Decomposition, b: np.ndarray | None, x: np.ndarray, s: np.ndarray, integral: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """States (and integrals) at offsets ``s`` for a stack, from its decompositions: shapes (..., n, S)."""
    z = d.w[..., :, None] * s
    cx = d.v_inv @ x[..., None]
    cb = None if b is None else d.v_inv @ b[..., None]
    phi1 = _phi1(z, s, d.w) if (integral or cb is not None) else None
    coeff = np.exp(z) * cx + (0.0 if cb is None else phi1 * cb)
    states = (d.v @ coeff).real
    if not integral:
        return states, None
    icoeff = phi1 * cx + (0.0 if cb is None else _phi2(z, s, d.w) * cb)
    return states, (d.v @ icoeff).real


def _expm_segment(
    q: np.ndarray, b: np.ndarray | None, x: np.ndarray, s: np.ndarray, integral: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """One generator: exponential of [[Q, 0, b], [I, 0, 0], [0, 0, 0]] at each offset."""
    from scipy.linalg import expm

    n = q.shape[0]
    m = 2 * n if integral else n  # the integral block only when asked for
    aug = np.zeros((m + 1, m + 1))
    aug[:n, :n] = q
    if integral:
        aug[n : 2 * n, :n] = np.eye(n)
    if b is not None:
        aug[:n, m] = b
    start = np.concatenate([x, np.zeros(m - n), [1.0]])
    out = np.column_stack([expm(aug * si) @ start for si in s]) if len(s) else np.empty((m + 1, 0))
    return out[:n], (out[n : 2 * n] if integral else None)


def _ivp_segment(
    q: np.ndarray, b: np.ndarray | None, x: np.ndarray, s: np.ndarray, rtol: float, atol: float
) -> tuple[np.ndarray, np.ndarray]:
    """One generator by stiff integration (Radau) of the state and its integral."""
    from scipy.integrate import solve_ivp

    n = q.shape[0]
    if len(s) == 0 or s[-1] == 0.0:
        return np.repeat(x[:, None], len(s), axis=1), np.zeros((n, len(s)))
    rhs_b = np.zeros(n) if b is None else b
    jac = np.zeros((2 * n, 2 * n))
    jac[:n, :n] = q
    jac[n:, :n] = np.eye(n)
    sol = solve_ivp(
        lambda _t, y: np.concatenate([q @ y[:n] + rhs_b, y[:n]]),
        (0.0, float(s[-1])),
        np.concatenate([x, np.zeros(n)]),
        method="Radau",
        t_eval=s,
        jac=jac,
        rtol=rtol,
        atol=atol,
    )
    if not sol.success:
        raise SolverError(f"solve_ivp (Radau) failed: {sol.message}")
    return sol.y[:n], sol.y[n:]


class _Stack:
    """A flat stack of generators and how to evaluate one segment of their solutions."""

    def __init__(self, q: np.ndarray, method: str, rtol: float, atol: np.ndarray) -> None:
        self.q, self.method, self.rtol, self.atol = q, method, rtol, atol
        self.decomposition = decompose(q) if method in ("exact", "eig") else None
        if method == "eig" and not self.decomposition.ok.all():
            raise SolverError("eigenvectors are ill-conditioned (defective rate matrix); use method='exact'")

    def segment(
        self, b: np.ndarray | None, x: np.ndarray, s: np.ndarray, integral: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        p, n = self.q.shape[0], self.q.shape[1]
        states = np.empty((p, n, len(s)))
        integrals = np.empty_like(states) if integral else None
        rest = np.arange(p)
        d = self.decomposition
        if d is not None:
            good = np.flatnonzero(d.ok)
            if len(good) == p:
                return _eig_segment(d, b, x, s, integral)
            if len(good):
                sub = Decomposition(d.w[good], d.v[good], d.v_inv[good], d.ok[good])
                states[good], i_good = _eig_segment(sub, None if b is None else b[good], x[good], s, integral)
                if integrals is not None:
                    integrals[good] = i_good
            rest = np.flatnonzero(~d.ok)
        for i in rest:
            bi = None if b is None else b[i]
            if self.method == "solve_ivp":
                states[i], integral_i = _ivp_segment(self.q[i], bi, x[i], s, self.rtol, self.atol[i])
            else:
                states[i], integral_i = _expm_segment(self.q[i], bi, x[i], s, integral)
            if integrals is not None:
                integrals[i] = integral_i
        return states, integrals


def _piecewise(
    stack: _Stack, x0: np.ndarray, b: np.ndarray, infusion_h: float, t: np.ndarray, integral: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """States (and integrals) at sorted unique times ``t``, split at the end of the infusion."""
    if not infusion_h > 0.0:
        return stack.segment(None, x0, t, integral)
    during = t < infusion_h
    x_s, i_s = stack.segment(b, x0, np.append(t[during], infusion_h), integral)
    states = np.empty((*x0.shape, len(t)))
    states[..., during] = x_s[..., :-1]
    integrals = np.empty_like(states) if integral else None
    if integrals is not None:
        integrals[..., during] = i_s[..., :-1]
    if (~during).any():
        x_a, i_a = stack.segment(None, x_s[..., -1], t[~during] - infusion_h, integral)
        states[..., ~during] = x_a
        if integrals is not None:
            integrals[..., ~during] = i_a + i_s[..., -1:]
    return states, integrals


def solve(
    generator: np.ndarray,
    initial: np.ndarray,
    times_h: np.ndarray,
    input_rate: np.ndarray | None = None,
    infusion_h: float | np.ndarray = 0.0,
    *,
    method: str = "exact",
    exposure: bool = False,
    rtol: float = 1e-10,
    atol: float | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Expected counts (and exposure, cell-hours since time 0) of a stack of linear chains.

    Parameters
    ----------
    generator : ndarray, shape (..., n, n)
        Rate matrices ``Q`` (1/h), ``dx/dt = Q x``; a single ``(n, n)`` matrix is a stack of one.
    initial : ndarray, shape (..., n)
        States at time 0 (cells).
    times_h : array_like, shape (T,)
        Times (h), ≥ 0, any order, repeats allowed.
    input_rate : ndarray, shape (..., n), optional
        Constant input (cells/h) for ``0 <= t <= infusion_h``.
    infusion_h : float or ndarray, shape (...)
        Duration of the input (h), one per chain or one for all.
    method : {"exact", "eig", "expm", "solve_ivp"}
        See the module docstring.
    exposure : bool
        Also integrate the states (``None`` is returned in its place without it).
    rtol, atol : float
        Tolerances of ``"solve_ivp"``; ``atol`` defaults to ``1e-12`` times each chain's cells.

    Returns
    -------
    counts, exposure_cell_h : ndarray, shape (..., n, T) (``exposure_cell_h`` None without ``exposure``)
    """
    if method not in METHODS:
        raise ConfigError(f"method = {method!r}: allowed: {', '.join(METHODS)}")
    times = np.asarray(times_h, dtype=float)
    if times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)) or times.min() < 0:
        raise ConfigError(f"times_h = {times.tolist()}: give a non-empty 1-D list of finite times >= 0 h")
    q = np.asarray(generator, dtype=float)
    n, batch = q.shape[-1], q.shape[:-2]
    flat_q = q.reshape(-1, n, n)
    x0 = np.asarray(initial, dtype=float)
    x0 = (x0 if x0.shape == (*batch, n) else np.broadcast_to(x0, (*batch, n))).reshape(-1, n)
    if input_rate is None:
        b = np.zeros_like(x0)
    else:
        b = np.asarray(input_rate, dtype=float)
        b = (b if b.shape == (*batch, n) else np.broadcast_to(b, (*batch, n))).reshape(-1, n)
    durations = np.asarray(infusion_h, dtype=float)
    single = durations.ndim == 0 or bool(np.all(durations == durations.flat[0]))
    durations = np.broadcast_to(durations, batch).reshape(-1)
    if method == "solve_ivp":
        total = x0.sum(axis=1) + b.sum(axis=1) * durations
        tol = 1e-12 * np.maximum(total, 1.0) if atol is None else np.full(len(total), atol)
    else:
        tol = np.zeros(len(flat_q))
    if times.size == 1 or bool(np.all(times[1:] > times[:-1])):  # sorted, no repeats: the usual case
        t, inverse = times, None
    else:
        t, inverse = np.unique(times, return_inverse=True)
    if single:  # one stacked solve for all
        duration = float(durations[0]) if len(durations) else 0.0
        states, integrals = _piecewise(_Stack(flat_q, method, rtol, tol), x0, b, duration, t, exposure)
    else:
        states = np.empty((len(flat_q), n, len(t)))
        integrals = np.empty_like(states) if exposure else None
        for duration in np.unique(durations):  # one stacked solve per infusion duration
            rows = np.flatnonzero(durations == duration)
            xs, integral = _piecewise(
                _Stack(flat_q[rows], method, rtol, tol[rows]), x0[rows], b[rows], float(duration), t, exposure
            )
            states[rows] = xs
            if integrals is not None:
                integrals[rows] = integral
    if inverse is not None:
        states = states[..., inverse]
        integrals = None if integrals is None else integrals[..., inverse]
    shape = (*batch, n, len(times))
    return states.reshape(shape), (None if integrals is None else integrals.reshape(shape))


def propagators(generator: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``e^{Q s}`` for each step ``s`` (columns: from-states), by the same decomposition and fallback as :func:`solve`.

    Returns
    -------
    ndarray, shape (len(steps), n, n)
    """
    q = np.asarray(generator, dtype=float)
    n = q.shape[0]
    steps = np.asarray(steps, dtype=float)
    d = decompose(q)
    if d.ok:
        e = np.exp(d.w[None, :] * steps[:, None])  # (S, n)
        return ((d.v[None] * e[:, None, :]) @ d.v_inv[None]).real
    from scipy.linalg import expm

    return np.stack([expm(q * s) for s in steps]) if len(steps) else np.empty((0, n, n))
