"""Expected counts of the linear model: exact solutions and an independent check.

The model is ``dx/dt = Q x + b`` while an infusion runs (``0 <= t <= T``) and
``dx/dt = Q x`` afterwards. On each piece the solution is exact:
``x(s) = e^{Qs} x_0 + (∫_0^s e^{Qu} du) b``.

* ``"eig"`` evaluates it through the eigendecomposition ``Q = V Λ V⁻¹``
  (fast, one decomposition for every report time), but only when ``V`` is
  well conditioned: a defective ``Q`` (equal rates along a chain) makes ``V``
  singular, and then
* ``"expm"`` is used: the matrix exponential of ``Q`` augmented by the input
  column (scipy's scaling-and-squaring Padé method), which needs no
  diagonalisation;
* ``"solve_ivp"`` integrates numerically with a stiff method (Radau), split at
  the end of the infusion: the independent check.

Functions here take arrays and return arrays; they know nothing of configs.

References
----------
Moler C, Van Loan C (2003). Nineteen dubious ways to compute the exponential
of a matrix, twenty-five years later. SIAM Review 45:3-49.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from .errors import ConfigError, SolverError

__all__ = ["COND_MAX", "METHODS", "cumulative_exposure", "solve_linear"]

#: Largest condition number of the eigenvector matrix accepted by ``"eig"``:
#: its round-off is about ``COND_MAX * 2.2e-16`` of the dose.
COND_MAX = 1e5
#: Methods of :func:`solve_linear`.
METHODS = ("exact", "eig", "expm", "solve_ivp")

_Segment = Callable[[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray], np.ndarray]


def _phi1(z: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``(e^{w s} - 1) / w`` elementwise, equal to ``s`` where ``w s`` → 0."""
    small = np.abs(z) < 1e-10
    safe_w = np.where(small, 1.0, w[:, None])
    return np.where(small, s[None, :] * (1.0 + z / 2.0), np.expm1(z) / safe_w)


def _eig_segment(q: np.ndarray, b: np.ndarray | None, x: np.ndarray, s: np.ndarray) -> np.ndarray | None:
    """Exact states at offsets ``s`` via eigendecomposition; ``None`` if ill-conditioned."""
    w, v = np.linalg.eig(q)
    with np.errstate(all="ignore"):
        cond = np.linalg.cond(v)
    if not np.isfinite(cond) or cond > COND_MAX:
        return None
    v_inv = np.linalg.inv(v)
    z = np.outer(w, s)
    coeff = np.exp(z) * (v_inv @ x)[:, None]
    if b is not None:
        coeff = coeff + _phi1(z, s, w) * (v_inv @ b)[:, None]
    return (v @ coeff).real


def _expm_segment(q: np.ndarray, b: np.ndarray | None, x: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Exact states at offsets ``s`` via the exponential of the augmented matrix."""
    n = q.shape[0]
    aug = np.zeros((n + 1, n + 1))
    aug[:n, :n] = q
    if b is not None:
        aug[:n, n] = b
    start = np.append(x, 1.0)
    return np.column_stack([(expm(aug * si) @ start)[:n] for si in s]) if len(s) else np.empty((n, 0))


def _exact_segment(q: np.ndarray, b: np.ndarray | None, x: np.ndarray, s: np.ndarray) -> np.ndarray:
    out = _eig_segment(q, b, x, s)
    return _expm_segment(q, b, x, s) if out is None else out


def _ivp_segment(rtol: float, atol: float) -> _Segment:
    def segment(q: np.ndarray, b: np.ndarray | None, x: np.ndarray, s: np.ndarray) -> np.ndarray:
        if len(s) == 0:
            return np.empty((q.shape[0], 0))
        rhs_b = np.zeros(q.shape[0]) if b is None else b
        s_end = float(s[-1])
        if s_end == 0.0:
            return np.repeat(x[:, None], len(s), axis=1)
        sol = solve_ivp(
            lambda _t, y: q @ y + rhs_b,
            (0.0, s_end),
            x,
            method="Radau",
            t_eval=s,
            jac=q,
            rtol=rtol,
            atol=atol,
        )
        if not sol.success:
            raise SolverError(f"solve_ivp (Radau) failed: {sol.message}")
        return sol.y

    return segment


def _piecewise(
    segment: _Segment,
    q: np.ndarray,
    x0: np.ndarray,
    times: np.ndarray,
    input_rate: np.ndarray | None,
    infusion_h: float,
) -> np.ndarray:
    """Run ``segment`` over the infusion piece and the piece after it."""
    order = np.argsort(times, kind="stable")
    t = np.asarray(times, dtype=float)[order]
    out = np.empty((q.shape[0], len(t)))
    if infusion_h > 0.0 and input_rate is not None:
        during = t <= infusion_h
        states = segment(q, input_rate, x0, np.append(t[during], infusion_h))
        out[:, during] = states[:, :-1]
        if (~during).any():
            out[:, ~during] = segment(q, None, states[:, -1], t[~during] - infusion_h)
    else:
        out[:] = segment(q, None, x0, t)
    result = np.empty_like(out)
    result[:, order] = out
    return result


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
    """Expected counts at the given times.

    Parameters
    ----------
    generator : ndarray, shape (n, n)
        Rate matrix ``Q`` (1/h), ``dx/dt = Q x``.
    initial : ndarray, shape (n,)
        State at time 0 (cells).
    times_h : array_like, shape (T,)
        Times (h), ≥ 0, any order.
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

    Returns
    -------
    ndarray, shape (n, T)
        Expected counts.
    """
    times = np.atleast_1d(np.asarray(times_h, dtype=float))
    if times.size and (not np.all(np.isfinite(times)) or times.min() < 0):
        raise ConfigError(f"times_h = {times.tolist()}: times must be finite and >= 0 h")
    if method == "solve_ivp":
        total = float(np.sum(initial)) + (float(np.sum(input_rate)) * infusion_h if input_rate is not None else 0.0)
        segment = _ivp_segment(rtol, 1e-12 * max(total, 1.0) if atol is None else atol)
    elif method == "eig":

        def segment(q, b, x, s):
            out = _eig_segment(q, b, x, s)
            if out is None:
                raise SolverError("eigenvectors are ill-conditioned (defective rate matrix); use method='exact'")
            return out

    elif method == "expm":
        segment = _expm_segment
    elif method == "exact":
        segment = _exact_segment
    else:
        raise ConfigError(f"method = {method!r}: allowed: {', '.join(METHODS)}")
    return _piecewise(segment, generator, np.asarray(initial, dtype=float), times, input_rate, infusion_h)


def cumulative_exposure(
    generator: np.ndarray,
    initial: np.ndarray,
    times_h: np.ndarray,
    input_rate: np.ndarray | None = None,
    infusion_h: float = 0.0,
) -> np.ndarray:
    """Exposure ``∫_0^t x(u) du`` (cell-hours) of every compartment, exactly.

    The state is augmented with its own integral, ``dy/dt = x``; the augmented
    generator is defective (its zero block), so the matrix exponential is used.

    Returns
    -------
    ndarray, shape (n, T)
        Cell-hours accumulated by each time.
    """
    n = generator.shape[0]
    aug = np.zeros((2 * n, 2 * n))
    aug[:n, :n] = generator
    aug[n:, :n] = np.eye(n)
    x0 = np.concatenate([initial, np.zeros(n)])
    b = None if input_rate is None else np.concatenate([input_rate, np.zeros(n)])
    times = np.atleast_1d(np.asarray(times_h, dtype=float))
    return _piecewise(_expm_segment, aug, x0, times, b, infusion_h)[n:]
