"""The likelihood of the validation library given the model's predictions (pure arrays).

Every measurement is a term on the natural-log scale: the study's reading is the model's
prediction times ``exp(b + e)``, with ``e ~ N(0, sd²)`` the measurement's own error and, for
terms that measure an amount (``pct_dose``, ``pct_dose_per_g``, an upper bound of the % of
the dose), ``b ~ N(0, τ²)`` one offset shared by all the amounts of a study: the between-study
variability (animals, labelling, dissection, the product) that keeps a study with many
numbers from counting as many independent studies. Ratios and half-lives are within-study
comparisons, so the offset cancels from them.

Kinds of term (``Terms.kind``):

``NORMAL``
    a reported value ``y``: ``log N(y; μ + b, sd)``;
``INTERVAL``
    a range of group means ``[lo, hi]``: ``log(Φ((hi − μ − b)/sd) − Φ((lo − μ − b)/sd))``;
``BELOW``
    an upper bound ``hi`` (or a value below detection): ``log Φ((hi − μ − b)/sd)``;
``ABOVE``
    a lower bound ``lo`` ("at least"): ``log Φ((μ + b − lo)/sd)``.

The offsets are integrated out, study by study: the normal terms analytically (a Gaussian in
``b``), the censored ones on a grid centred on the integrand's mode (trapezoid, ±8 of its widths).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr, logsumexp

__all__ = [
    "ABOVE",
    "BELOW",
    "INTERVAL",
    "NORMAL",
    "Terms",
    "log_likelihood",
    "predictive_draws",
    "study_log_likelihood",
]

NORMAL, INTERVAL, BELOW, ABOVE = 0, 1, 2, 3
_GRID = np.linspace(-8.0, 8.0, 321)
_LOG_2PI = np.log(2 * np.pi)


@dataclass(frozen=True)
class Terms:
    """The data side of the likelihood: one entry per measurement (log scale).

    Attributes
    ----------
    kind : ndarray of int, (N,)
    lo, hi : ndarray, (N,)
        ``log`` of the value (``NORMAL``: both), of the range (``INTERVAL``) or of the bound; unused: NaN.
    sd : ndarray, (N,)
        The measurement's own error (log scale).
    study : ndarray of int, (N,)
        Index of the study each belongs to.
    shared : ndarray of bool, (N,)
        Whether the study's offset applies (an amount, not a ratio or a half-life).
    """

    kind: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    sd: np.ndarray
    study: np.ndarray
    shared: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    def subset(self, keep: np.ndarray) -> Terms:
        """The terms where ``keep`` is true."""
        return Terms(*(getattr(self, f)[keep] for f in ("kind", "lo", "hi", "sd", "study", "shared")))


def _censored(kind: np.ndarray, lo: np.ndarray, hi: np.ndarray, sd: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Log-probability of censored terms (kinds other than NORMAL; 1-D, the last axis of ``mu``) at means ``mu``."""
    above = kind == ABOVE
    x = np.where(above, mu - lo, hi - mu) / sd  # one log Φ per term: Φ((hi − μ)/sd), or Φ((μ − lo)/sd)
    out = log_ndtr(x)
    interval = np.flatnonzero(kind == INTERVAL)
    if len(interval):  # log(Φ(b) − Φ(a)) = log Φ(b) + log(1 − Φ(a)/Φ(b)), stable while b > a
        upper = out[..., interval]
        below_lo = log_ndtr((lo[interval] - mu[..., interval]) / sd[interval])
        with np.errstate(divide="ignore", invalid="ignore"):
            out[..., interval] = upper + np.log1p(-np.exp(np.minimum(below_lo - upper, 0.0)))
    return out


def log_likelihood(log_pred: np.ndarray, tau: np.ndarray, terms: Terms) -> np.ndarray:
    """Log-likelihood of the data for each parameter set: :func:`study_log_likelihood` summed over studies.

    Parameters
    ----------
    log_pred : ndarray, (P, N)
        ``log`` of the model's value of each measurement, for P parameter sets (NaN: undefined → ``-inf``).
    tau : ndarray, (P,)
        Between-study SD (log scale).
    terms : Terms

    Returns
    -------
    ndarray, (P,)
    """
    return study_log_likelihood(log_pred, tau, terms).sum(axis=1)


def study_log_likelihood(log_pred: np.ndarray, tau: np.ndarray, terms: Terms) -> np.ndarray:
    """Each study's contribution to the log-likelihood (its offset integrated out), shape (P, S).

    Column ``s`` is study index ``s`` (``terms.study``); a study without terms contributes 0.
    """
    log_pred = np.atleast_2d(log_pred)
    tau = np.broadcast_to(np.asarray(tau, dtype=float), log_pred.shape[:1])
    bad = ~np.isfinite(log_pred).all(axis=1)
    mu = np.where(np.isfinite(log_pred), log_pred, 0.0)
    n_studies = int(terms.study.max()) + 1 if len(terms) else 0
    out = np.zeros((len(mu), n_studies))
    normal = terms.kind == NORMAL
    for s in range(n_studies):
        here = terms.study == s
        k = here & ~terms.shared & normal  # a study's ratios and half-lives: independent terms
        if k.any():
            out[:, s] += _normal_logpdf(terms.lo[k], mu[:, k], terms.sd[k]).sum(axis=1)
        k = here & ~terms.shared & ~normal
        if k.any():
            out[:, s] += _censored(terms.kind[k], terms.lo[k], terms.hi[k], terms.sd[k], mu[:, k]).sum(axis=1)
        if (here & terms.shared).any():
            out[:, s] += _study(mu, tau, terms, here & terms.shared, normal)
    return np.where(bad[:, None], -np.inf, out)


def _normal_logpdf(y: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    return -0.5 * ((y - mu) / sd) ** 2 - np.log(sd) - 0.5 * _LOG_2PI


def _study(mu: np.ndarray, tau: np.ndarray, terms: Terms, members: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """One study's amounts with its offset ``b ~ N(0, τ²)`` integrated out, for each parameter set."""
    out = np.zeros(len(mu))
    centre = np.zeros(len(mu))  # the offset's Gaussian given the normal terms: N(centre, spread²)
    spread = tau.astype(float).copy()
    k = members & normal
    if k.any():
        w = 1.0 / terms.sd[k] ** 2
        precision = w.sum()
        resid = terms.lo[k] - mu[:, k]
        m = (resid * w).sum(axis=1) / precision
        out += _normal_logpdf(terms.lo[k], mu[:, k] + m[:, None], terms.sd[k]).sum(axis=1)
        out += 0.5 * (_LOG_2PI - np.log(precision))  # ∫ exp(−A(b−m)²/2) db
        var = tau**2 + 1.0 / precision
        out += -0.5 * m**2 / var - 0.5 * np.log(var) - 0.5 * _LOG_2PI  # N(m; 0, τ² + 1/A)
        post_precision = precision + 1.0 / np.maximum(tau, 1e-300) ** 2
        centre = precision * m / post_precision
        spread = 1.0 / np.sqrt(post_precision)
    k = members & ~normal
    if k.any():
        out += _censored_integral(mu[:, k], centre, spread, terms.kind[k], terms.lo[k], terms.hi[k], terms.sd[k])
    return out


def _censored_integral(mu: np.ndarray, centre: np.ndarray, spread: np.ndarray, kind, lo, hi, sd) -> np.ndarray:
    """``log ∫ Π_i P_i(b) N(b; centre, spread²) db`` for censored terms ``P_i``, for each parameter set.

    The integrand is log-concave (every term is): its mode is found by damped Newton steps, and the
    trapezoid runs on the union of two grids, ±8 SD of the Gaussian (its broad part) and ±8 of the
    integrand's own width at the mode (a sharp cut-off by a bound lies there), wherever the mode lies.
    """
    spread = np.maximum(spread, 1e-12)

    def g(b: np.ndarray) -> np.ndarray:  # the log integrand, b: (P, G)
        logp = _censored(kind, lo, hi, sd, mu[:, None, :] + b[:, :, None]).sum(axis=2)
        return logp - 0.5 * ((b - centre[:, None]) / spread[:, None]) ** 2

    mode = centre.copy()
    for _ in range(30):
        h = 1e-3 * spread
        lower, here, upper = g(np.column_stack([mode - h, mode, mode + h])).T
        slope = (upper - lower) / (2 * h)
        curve = np.minimum((upper - 2 * here + lower) / h**2, -1.0 / spread**2 * 1e-6)
        step = np.clip(-slope / curve, -3 * spread, 3 * spread)
        mode = mode + step
        if np.all(np.abs(step) < 1e-6 * spread):
            break
    h = 1e-3 * spread
    lower, here, upper = g(np.column_stack([mode - h, mode, mode + h])).T
    width = 1.0 / np.sqrt(np.maximum(-(upper - 2 * here + lower) / h**2, 1e-12 / spread**2))
    width = np.minimum(width, spread)
    # the Gaussian's own range (broad features) and the mode's (a sharp cut-off there), as one sorted grid
    b = np.sort(
        np.concatenate([centre[:, None] + spread[:, None] * _GRID, mode[:, None] + width[:, None] * _GRID], axis=1),
        axis=1,
    )
    y = g(b)
    with np.errstate(divide="ignore"):
        pieces = np.logaddexp(y[:, 1:], y[:, :-1]) - np.log(2.0) + np.log(np.diff(b, axis=1))
    return logsumexp(pieces, axis=1) - np.log(spread) - 0.5 * _LOG_2PI


def predictive_draws(log_pred: np.ndarray, tau: np.ndarray, terms: Terms, rng: np.random.Generator) -> np.ndarray:
    """A new study's reading of each measurement for each parameter set: ``log_pred + b + e`` (log scale).

    ``b ~ N(0, τ²)`` (amounts only; one per study and draw), ``e ~ N(0, sd²)``. Shape (P, N).
    """
    log_pred = np.atleast_2d(log_pred)
    p, n = log_pred.shape
    studies = int(terms.study.max()) + 1 if n else 0
    b = rng.standard_normal((p, studies)) * np.asarray(tau, dtype=float).reshape(-1, 1)
    e = rng.standard_normal((p, n)) * terms.sd[None, :]
    return log_pred + np.where(terms.shared[None, :], b[:, terms.study], 0.0) + e
