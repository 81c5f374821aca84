"""Posterior-predictive checks: where a new study's reading of each measurement would fall.

For each posterior draw a new study's reading is the model's value times ``exp(b + e)``
(:func:`.likelihood.predictive_draws`); its 5–95 % interval is compared with what was
reported. A measurement is *inside* when

* a value: it lies in the interval;
* a range of group means: the range overlaps the interval;
* an upper bound (or a value below detection): the interval's lower end is below the bound (the model
  does not put 95 % of its readings above it);
* a lower bound ("at least"): the interval's upper end reaches it.

Leaving a study out (:func:`leave_one_out`) is exact for ``--leave-out`` (the study is not in the fit);
for every study at once (``--cross-validate``) it reweights the full posterior by each study's
likelihood with Pareto-smoothed importance sampling (PSIS; Vehtari, Gelman & Gabry 2017 Stat Comput
27:1413), and refits without the study where the Pareto ``k`` exceeds 0.7 (the weights are then unreliable).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .likelihood import ABOVE, BELOW, INTERVAL, Terms, predictive_draws, study_log_likelihood
from .predict import Entry, Predictor
from .problem import Problem, terms_for

__all__ = ["PARETO_K_MAX", "predictive_rows", "psis_rows"]

#: Above this Pareto k the importance weights are not trusted and the study is refitted (Vehtari et al. 2017).
PARETO_K_MAX = 0.7
_KINDS = {0: "value", INTERVAL: "range of group means", BELOW: "upper bound", ABOVE: "lower bound"}
_BATCH = 256


def _log_pred(predictor: Predictor, draws: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.vstack([np.log(predictor(draws[i : i + _BATCH, :-1])) for i in range(0, len(draws), _BATCH)])


def _weighted_quantiles(values: np.ndarray, log_w: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles of each column of ``values`` (M, N) under normalised log weights (M,)."""
    order = np.argsort(values, axis=0)
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    cum = np.cumsum(w[order], axis=0)
    out = np.empty((len(qs), values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = values[order[:, j], j][np.minimum(np.searchsorted(cum[:, j], qs), len(w) - 1)]
    return out


def _rows(
    entries: Sequence[Entry], terms: Terms, reading: np.ndarray, log_pred: np.ndarray, log_w: np.ndarray | None
) -> list[dict]:
    qs = (0.05, 0.5, 0.95)
    if log_w is None:
        band = np.quantile(reading, qs, axis=0)
        model = np.median(log_pred, axis=0)
    else:
        band = _weighted_quantiles(reading, log_w, qs)
        model = _weighted_quantiles(log_pred, log_w, (0.5,))[0]
    rows = []
    for i, e in enumerate(entries):
        m = e.measurement
        k, lo, hi = int(terms.kind[i]), terms.lo[i], terms.hi[i]
        q05, q50, q95 = band[:, i]
        if k == INTERVAL:
            inside = lo <= q95 and hi >= q05
        elif k == BELOW:
            inside = q05 <= hi
        elif k == ABOVE:
            inside = q95 >= lo
        else:
            inside = q05 <= lo <= q95
        rows.append(
            {
                "study": e.study,
                "id": m.id,
                "organ": m.organ,
                "quantity": m.quantity,
                "measures": m.measures,
                "time_h": m.time_h,
                "observed": m.value,
                "low": m.low,
                "high": m.high,
                "kind": _KINDS[k],
                "model_median": float(np.exp(model[i])),
                "q05": float(np.exp(q05)),
                "median": float(np.exp(q50)),
                "q95": float(np.exp(q95)),
                "inside": bool(inside),
                "held_out": False,
            }
        )
    return rows


def predictive_rows(
    problem: Problem, draws: np.ndarray, rng: np.random.Generator, held_out: bool = False
) -> list[dict]:
    """A check row per measurement the problem fits (or, ``held_out``, per measurement it left out)."""
    if held_out:
        entries = problem.held_out
        if not entries:
            return []
        studies = tuple(dict.fromkeys(e.study for e in entries))
        predictor = Predictor(entries, problem.keys)
        terms = terms_for(entries, problem.settings.error, studies)
    else:
        entries, predictor, terms = problem.entries, problem.predictor, problem.terms
    log_pred = _log_pred(predictor, draws)
    reading = predictive_draws(log_pred, draws[:, -1], terms, rng)
    rows = _rows(entries, terms, reading, log_pred, None)
    for r in rows:
        r["held_out"] = held_out
    return rows


def psis_rows(problem: Problem, draws: np.ndarray, rng: np.random.Generator) -> tuple[list[dict], dict[str, float]]:
    """Leave each study out by PSIS: its check rows (``held_out``) and each study's Pareto k."""
    from .sampler import _arviz

    az = _arviz()
    log_pred = _log_pred(problem.predictor, draws)
    per_study = study_log_likelihood(log_pred, draws[:, -1], problem.terms)
    reading = predictive_draws(log_pred, draws[:, -1], problem.terms, rng)
    rows, ks = [], {}
    for s, name in enumerate(problem.studies):
        if np.ptp(per_study[:, s]) < 1e-9:  # the study's likelihood is flat over the posterior: equal weights
            log_w, k = np.full(len(draws), -np.log(len(draws))), 0.0
        else:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                log_w, k = az.psislw(-per_study[:, s])
        log_w = np.asarray(log_w, dtype=float)
        if not np.isfinite(log_w).all():
            k = np.inf  # the weights broke down: refit
        ks[name] = float(k)
        mine = np.flatnonzero(problem.terms.study == s)
        part = _rows(
            [problem.entries[i] for i in mine],
            problem.terms.subset(problem.terms.study == s),
            reading[:, mine],
            log_pred[:, mine],
            log_w,
        )
        for r in part:
            r["held_out"] = True
            r["pareto_k"] = float(k)
            r["method"] = "psis"
        rows.extend(part)
    return rows, ks
