"""Expected counts of the linear model: exact solutions and an independent check.

The model is ``dx/dt = Q x + b`` while an infusion runs (``0 <= t <= T``) and
``dx/dt = Q x`` afterwards. On each piece the solution and its integral (the
exposure, cell-hours) are exact:

    x(s) = e^{Qs} x_0 + φ₁(Qs) s b,    ∫_0^s x = φ₁(Qs) s x_0 + φ₂(Qs) s² b,

with ``φ₁(z) = (e^z − 1)/z`` and ``φ₂(z) = (e^z − 1 − z)/z²``.

* ``"eig"`` evaluates them through the eigendecomposition ``Q = V Λ V⁻¹``
  (fast: one decomposition for every report time), but only when ``V`` is
  well conditioned: a defective ``Q`` (equal rates along a chain) makes ``V``
  singular, and then
* ``"expm"`` is used: the matrix exponential of ``Q`` augmented by the input
  column and by the integral of the state (scipy's scaling-and-squaring Padé
  method), which needs no diagonalisation;
* ``"solve_ivp"`` integrates the same augmented system numerically with a
  stiff method (Radau), split at the end of the infusion: the independent check.

Functions here take arrays and return arrays; they know nothing of configs.

References
----------
Moler C, Van Loan C (2003). Nineteen dubious ways to compute the exponential
of a matrix, twenty-five years later. SIAM Review 45:3-49.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from .errors import ConfigError, SolverError

__all__ = ["COND_MAX", "METHODS", "cumulative_exposure", "solve_linear", "solve_with_exposure"]

#: Largest condition number of the eigenvector matrix accepted by ``"eig"``:
#: its round-off is about ``COND_MAX * 2.2e-16`` of the dose.
COND_MAX = 1e5
#: Methods of :func:`solve_linear`.
METHODS = ("exact", "eig", "expm", "solve_ivp")

#: A segment maps (Q, b or None, start state, offsets s, want integrals) to (states, integrals or None).
_Segment = Callable[[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, bool], tuple[np.ndarray, np.ndarray | None]]


def _phi1(z: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``s φ₁(ws)`` elementwise, by series where ``ws`` is small."""
    small = np.abs(z) < 1e-5
    safe_w = np.where(small, 1.0, w[:, None])
    with np.errstate(all="ignore"):
        return np.where(small, s[None, :] * (1 + z / 2 + z * z / 6), np.expm1(z) / safe_w)


def _phi2(z: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``s² φ₂(ws)`` elementwise, by series where ``ws`` is small."""
    small = np.abs(z) < 1e-5
    safe_w = np.where(small, 1.0, w[:, None])
    ss = s[None, :]
    with np.errstate(all="ignore"):
        return np.where(small, ss * ss * (0.5 + z / 6 + z * z / 24), (np.expm1(z) - z) / (safe_w * safe_w))


@lru_cache(maxsize=512)
def _decompose(q_bytes: bytes, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Eigendecomposition ``(w, V, V⁻¹, cond(V))`` of a rate matrix, cached by value.

    A model solved again (a fine time grid, a plot after a table) is not decomposed again.
    """
    q = np.frombuffer(q_bytes, dtype=np.float64).reshape(n, n)
    w, v = np.linalg.eig(q)
    with np.errstate(all="ignore"):
        cond = float(np.linalg.cond(v))
        v_inv = np.linalg.inv(v) if np.isfinite(cond) and cond < 1e300 else v
    return w, v, v_inv, cond


def _eig_segment(
    q: np.ndarray, b: np.ndarray | None, x: np.ndarray, s: np.ndarray, integral: bool
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Exact states (and integrals) at offsets ``s`` by eigendecomposition; ``None`` if ill-conditioned."""
    q = np.ascontiguousarray(q, dtype=np.float64)
    w, v, v_inv, cond = _decompose(q.tobytes(), q.shape[0])
    if not np.isfinite(cond) or cond > COND_MAX:
        return None
    z = np.outer(w, s)
    cx = (v_inv @ x)[:, None]
    cb = None if b is None else (v_inv @ b)[:, None]
    phi1 = _phi1(z, s, w) if (integral or cb is not None) else None
    states = np.exp(z) * cx + (0.0 if cb is None else phi1 * cb)
    if not integral:
        return (v @ states).real, None
    integrals = phi1 * cx + (0.0 if cb is None else _phi2(z, s, w) * cb)
    return (v @ states).real, (v @ integrals).real


def _expm_segment(
    q: np.ndarray, b: np.ndarray | None, x: np.ndarray, s: np.ndarray, integral: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Exact states (and integrals) at offsets ``s``: exponential of [[Q, 0, b], [I, 0, 0], [0, 0, 0]]."""
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


def _exact_segment(
    q: np.ndarray, b: np.ndarray | None, x: np.ndarray, s: np.ndarray, integral: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    out = _eig_segment(q, b, x, s, integral)
    return _expm_segment(q, b, x, s, integral) if out is None else out


def _eig_only_segment(
    q: np.ndarray, b: np.ndarray | None, x: np.ndarray, s: np.ndarray, integral: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    out = _eig_segment(q, b, x, s, integral)
    if out is None:
        raise SolverError("eigenvectors are ill-conditioned (defective rate matrix); use method='exact'")
    return out


def _ivp_segment(rtol: float, atol: float) -> _Segment:
    def segment(
        q: np.ndarray, b: np.ndarray | None, x: np.ndarray, s: np.ndarray, integral: bool
    ) -> tuple[np.ndarray, np.ndarray]:
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

    return segment


def _piecewise(
    segment: _Segment,
    q: np.ndarray,
    x0: np.ndarray,
    times: np.ndarray,
    input_rate: np.ndarray | None,
    infusion_h: float,
    integral: bool,
) -> tuple[np.ndarray, np.ndarray | None]:
    """States (and integrals) at ``times`` (any order, repeats allowed), split at the end of the infusion."""
    t, inverse = np.unique(times, return_inverse=True)
    states = np.empty((q.shape[0], len(t)))
    integrals = np.empty_like(states) if integral else None
    if infusion_h > 0.0 and input_rate is not None:
        during = t < infusion_h
        x_s, i_s = segment(q, input_rate, x0, np.append(t[during], infusion_h), integral)
        states[:, during] = x_s[:, :-1]
        if (~during).any():
            x_a, i_a = segment(q, None, x_s[:, -1], t[~during] - infusion_h, integral)
            states[:, ~during] = x_a
        if integrals is not None:
            integrals[:, during] = i_s[:, :-1]
            if (~during).any():
                integrals[:, ~during] = i_a + i_s[:, -1:]
    else:
        states[:], integrals_all = segment(q, None, x0, t, integral)
        if integrals is not None:
            integrals[:] = integrals_all
    return states[:, inverse], (None if integrals is None else integrals[:, inverse])


def _segment_for(method: str, total_cells: float, rtol: float, atol: float | None) -> _Segment:
    if method == "solve_ivp":
        return _ivp_segment(rtol, 1e-12 * max(total_cells, 1.0) if atol is None else atol)
    segments = {"exact": _exact_segment, "eig": _eig_only_segment, "expm": _expm_segment}
    if method not in segments:
        raise ConfigError(f"method = {method!r}: allowed: {', '.join(METHODS)}")
    return segments[method]


def solve_with_exposure(
    generator: np.ndarray,
    initial: np.ndarray,
    times_h: np.ndarray,
    input_rate: np.ndarray | None = None,
    infusion_h: float = 0.0,
    method: str = "exact",
    rtol: float = 1e-10,
    atol: float | None = None,
    exposure: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Expected counts and exposure (cell-hours since time 0) at the given times.

    Parameters
    ----------
    generator : ndarray, shape (n, n)
        Rate matrix ``Q`` (1/h), ``dx/dt = Q x``.
    initial : ndarray, shape (n,)
        State at time 0 (cells).
    times_h : array_like, shape (T,)
        Times (h), ≥ 0, any order, repeats allowed.
    input_rate : ndarray, shape (n,), optional
        Constant input (cells/h) for ``0 <= t <= infusion_h``.
    infusion_h : float
        Duration of the input (h).
    method : {"exact", "eig", "expm", "solve_ivp"}
        ``"exact"`` tries ``"eig"`` and falls back to ``"expm"`` when the
        eigenvectors are ill-conditioned.
    rtol, atol : float
        Tolerances of ``"solve_ivp"``; ``atol`` defaults to ``1e-12`` times
        the total number of cells.
    exposure : bool
        Also integrate the states (skipped, and ``None`` returned, when false).

    Returns
    -------
    counts, exposure_cell_h : ndarray, shape (n, T) (``exposure_cell_h`` None without ``exposure``)
    """
    times = np.asarray(times_h, dtype=float)
    if times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)) or times.min() < 0:
        raise ConfigError(f"times_h = {times.tolist()}: give a non-empty 1-D list of finite times >= 0 h")
    total = float(np.sum(initial)) + (float(np.sum(input_rate)) * infusion_h if input_rate is not None else 0.0)
    segment = _segment_for(method, total, rtol, atol)
    return _piecewise(segment, generator, np.asarray(initial, dtype=float), times, input_rate, infusion_h, exposure)


def solve_linear(
    generator: np.ndarray,
    initial: np.ndarray,
    times_h: np.ndarray,
    input_rate: np.ndarray | None = None,
    infusion_h: float = 0.0,
    method: str = "exact",
    rtol: float = 1e-10,
    atol: float | None = None,
) -> np.ndarray:
    """Expected counts at the given times (see :func:`solve_with_exposure`), shape (n, T)."""
    return solve_with_exposure(generator, initial, times_h, input_rate, infusion_h, method, rtol, atol, False)[0]


def cumulative_exposure(
    generator: np.ndarray,
    initial: np.ndarray,
    times_h: np.ndarray,
    input_rate: np.ndarray | None = None,
    infusion_h: float = 0.0,
    method: str = "expm",
) -> np.ndarray:
    """Exposure ``∫_0^t x(u) du`` (cell-hours) of every compartment, shape (n, T).

    ``method="expm"`` by default: the augmented matrix exponential, which does
    not share the eigendecomposition with :func:`solve_linear`'s fast path and
    so checks it.
    """
    return solve_with_exposure(generator, initial, times_h, input_rate, infusion_h, method)[1]
