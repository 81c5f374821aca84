"""The linear solver: exact expected counts of ``dx/dt = Q x + b``, batched first (one run is a stack of one).

The model is ``dx/dt = Q x + b`` while an infusion runs (``0 <= t <= T``) and
``dx/dt = Q x`` afterwards. On each piece the solution and its integral (the
exposure, cell-hours) are exact:

    x(s) = e^{Qs} x_0 + s φ₁(Qs) b,    ∫_0^s x = s φ₁(Qs) x_0 + s² φ₂(Qs) b,

with ``φ₁(z) = (e^z − 1)/z`` and ``φ₂(z) = (e^z − 1 − z)/z²``.

* ``"eig"`` evaluates them through the eigendecomposition ``Q = V Λ V⁻¹`` of every
  generator of the stack in one call (block by block where ``Q`` is block lower
  triangular: see :func:`decompose`), when ``V`` is well conditioned
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

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, SolverError

__all__ = ["COND_MAX", "METHODS", "Decomposition", "decompose", "lower_split", "propagators", "solve"]

#: Largest condition number (1-norm) of the eigenvector matrix accepted by ``"eig"``:
#: its round-off is about ``COND_MAX * 2.2e-16`` of the dose.
COND_MAX = 1e5
#: Methods of :func:`solve`.
METHODS = ("exact", "eig", "expm", "solve_ivp")
#: Below this ``|z|`` the φ functions are evaluated by their series (error below 1e-16).
_SERIES = 1e-5


@dataclass(frozen=True)
class Decomposition:
    """Eigendecompositions ``Q = V diag(w) V⁻¹`` of a stack of generators.

    Attributes
    ----------
    w : ndarray, shape (..., n)
    v, v_inv : ndarray, shape (..., n, n)
    ok : ndarray of bool, shape (...)
        Where ``V`` is well conditioned (``κ₁(V) <= COND_MAX``); elsewhere use ``expm``.
    """

    w: np.ndarray
    v: np.ndarray
    v_inv: np.ndarray
    ok: np.ndarray


def _inverse(v: np.ndarray) -> np.ndarray:
    """Inverses of a stack of matrices; an exactly singular one becomes NaN (and is judged ill-conditioned)."""
    try:
        return np.linalg.inv(v)
    except np.linalg.LinAlgError:  # some matrix exactly singular: invert one by one
        out = np.empty_like(v)
        for i in np.ndindex(v.shape[:-2]):
            try:
                out[i] = np.linalg.inv(v[i])
            except np.linalg.LinAlgError:
                out[i] = np.nan
        return out


def lower_split(generator: np.ndarray) -> int:
    """The smallest ``k`` such that no state ``>= k`` ever moves to a state ``< k`` (0: no such split).

    States ``>= k`` then form a block the others feed but never hear back from (in the
    circulation: cells lodged in systemic beds, the dead, the label), and ``Q`` is block
    lower triangular, ``[[A, 0], [B, D]]``.
    """
    q = np.asarray(generator)
    n = q.shape[-1]
    nz = np.any(q != 0, axis=tuple(range(q.ndim - 2))) if q.ndim > 2 else q != 0
    upper = np.triu(nz, 1)  # upper[r, j]: a move from j into an earlier state r
    first = np.where(upper.any(axis=0), upper.argmax(axis=0), np.arange(n))  # earliest state each column feeds
    suffix = np.minimum.accumulate(first[::-1])[::-1]  # suffix[k] = min(first[k:])
    ks = np.flatnonzero(suffix[1:] >= np.arange(1, n)) + 1
    return int(ks[0]) if len(ks) else 0


def decompose(generator: np.ndarray) -> Decomposition:
    """Eigendecompose every generator of a stack, and judge each decomposition's conditioning.

    Where ``Q = [[A, 0], [B, D]]`` (:func:`lower_split`), the blocks are decomposed
    separately and the eigenvectors assembled: ``A v = λ v`` gives ``[v; (λ - D)⁻¹ B v]``,
    and ``D``'s eigenvectors stay in their block. The slow modes of the lodged and dead
    cells are then not computed against the fast rates of the blood (``‖Q‖ ~ 10³ /h``), which
    makes the solution about a hundred times more accurate than one decomposition of
    ``Q``, and cheaper.
    """
    q = np.asarray(generator, dtype=float)
    k = lower_split(q)
    with np.errstate(all="ignore"):
        if k == 0:
            w, v = np.linalg.eig(q)
            v_inv = _inverse(v)
        else:
            w_a, v_a = np.linalg.eig(q[..., :k, :k])
            w_d, v_d = np.linalg.eig(q[..., k:, k:])
            v_a_inv, v_d_inv = _inverse(v_a), _inverse(v_d)
            gap = w_a[..., None, :] - w_d[..., :, None]  # (λ_j - μ_i): zero where the blocks share an eigenvalue
            h = (v_d_inv @ q[..., k:, :k] @ v_a) / np.where(gap == 0, np.nan, gap)
            w = np.concatenate([w_a, w_d], axis=-1)
            v = np.zeros((*q.shape[:-2], q.shape[-1], q.shape[-1]), dtype=complex)
            v_inv = np.zeros_like(v)
            v[..., :k, :k], v[..., k:, :k], v[..., k:, k:] = v_a, v_d @ h, v_d
            v_inv[..., :k, :k], v_inv[..., k:, :k], v_inv[..., k:, k:] = v_a_inv, -h @ v_a_inv, v_d_inv
        cond = np.abs(v).sum(axis=-2).max(axis=-1) * np.abs(v_inv).sum(axis=-2).max(axis=-1)
    return Decomposition(w, v, v_inv, np.isfinite(cond) & (cond <= COND_MAX))


def _phi1(z: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``s φ₁(ws)`` elementwise (``z = ws``), by series where ``|z|`` is small."""
    small = np.abs(z) < _SERIES
    safe_w = np.where(small, 1.0, w[..., None])
    with np.errstate(all="ignore"):
        return np.where(small, s * (1 + z / 2 + z * z / 6), np.expm1(z) / safe_w)


def _phi2(z: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``s² φ₂(ws)`` elementwise, by series where ``|z|`` is small."""
    small = np.abs(z) < _SERIES
    safe_w = np.where(small, 1.0, w[..., None])
    with np.errstate(all="ignore"):
        return np.where(small, s * s * (0.5 + z / 6 + z * z / 24), (np.expm1(z) - z) / (safe_w * safe_w))


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
    x0 = np.broadcast_to(np.asarray(initial, dtype=float), (*batch, n)).reshape(-1, n)
    b = np.zeros_like(x0) if input_rate is None else np.broadcast_to(input_rate, (*batch, n)).reshape(-1, n)
    durations = np.broadcast_to(np.asarray(infusion_h, dtype=float), batch).reshape(-1)
    flat_q = q.reshape(-1, n, n)
    total = x0.sum(axis=1) + b.sum(axis=1) * durations
    tol = 1e-12 * np.maximum(total, 1.0) if atol is None else np.full(len(total), atol)
    t, inverse = np.unique(times, return_inverse=True)
    states = np.empty((len(flat_q), n, len(t)))
    integrals = np.empty_like(states) if exposure else None
    for duration in np.unique(durations):  # one stacked solve per infusion duration
        rows = np.flatnonzero(durations == duration)
        whole = len(rows) == len(flat_q)
        stack = _Stack(flat_q if whole else flat_q[rows], method, rtol, tol if whole else tol[rows])
        xs, integral = _piecewise(stack, x0[rows], b[rows], float(duration), t, exposure)
        states[rows] = xs
        if integrals is not None:
            integrals[rows] = integral
    shape = (*batch, n, len(times))
    out = states[..., inverse].reshape(shape)
    return out, (None if integrals is None else integrals[..., inverse].reshape(shape))


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
