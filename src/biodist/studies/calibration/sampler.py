"""The ensemble sampler (emcee) and its diagnostics (ArviZ).

emcee's affine-invariant ensemble moves the walkers together, which suits a posterior whose
parameters are strongly correlated (a pass fraction and a retention that mostly enter as a
product); the differential-evolution moves (80 % DE, 20 % DE-snooker; ter Braak & Vrugt 2008)
mix faster than the default stretch move on such ridges. The log posterior is evaluated for
all walkers at once (``vectorize``): one compile and one stacked solve per scenario and step.
ArviZ computes the rank-normalised split R-hat and the bulk and tail effective sample sizes
(Vehtari et al. 2021) with the walkers as chains.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .problem import Problem

__all__ = ["Chains", "diagnostics", "parallel_log_prob", "run_sampler", "usable_cores"]


@dataclass(frozen=True)
class Chains:
    """The kept part of a run: natural-scale samples (walkers, draws, D+1), their log posterior, acceptance."""

    samples: np.ndarray
    log_prob: np.ndarray
    acceptance: np.ndarray
    autocorr_steps: np.ndarray
    seconds: float
    evaluations: int


_PROBLEM: Problem | None = None


def _share(args: tuple[np.ndarray, int, int]) -> np.ndarray:
    theta, k, n = args
    return _PROBLEM.predictor(theta, (k, n))


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextmanager
def parallel_log_prob(problem: Problem, workers: int) -> Iterator[Callable[[np.ndarray], np.ndarray]]:
    """The log posterior of a batch of walkers; ``workers`` forked processes share its scenarios (1: this one).

    The scenarios, not the walkers, are shared out: a batch's cost is mostly per scenario (compiling it), so
    halving the walkers would not halve it.
    """
    global _PROBLEM
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield problem.log_prob
        return
    _PROBLEM = problem  # inherited by the forked workers: the problem is built once, never pickled
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:

        def predict(theta: np.ndarray) -> np.ndarray:
            parts = pool.map(_share, [(theta, k, workers) for k in range(workers)])
            out = parts[0]
            for k, part in enumerate(parts[1:], start=1):
                columns = problem.predictor.columns((k, workers))
                out[:, columns] = part[:, columns]
            return out

        def log_prob(z: np.ndarray) -> np.ndarray:
            return problem.log_prob(z, predict)

        yield log_prob
    finally:
        pool.terminate()
        pool.join()
        _PROBLEM = None


def _arviz():
    with warnings.catch_warnings():  # ArviZ 0.x announces its 1.0 refactor on import
        warnings.simplefilter("ignore", FutureWarning)
        import arviz

    return arviz


def run_sampler(
    problem: Problem,
    walkers: int,
    steps: int,
    burn: int,
    seed: int,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
) -> Chains:
    """Sample the posterior; keep the draws after ``burn``. ``progress`` gets a line about every 10 %.

    ``workers`` processes share each step's walkers (the draws do not depend on it: same seed, same chains).
    """
    with parallel_log_prob(problem, workers) as log_prob:
        return _run(problem, log_prob, walkers, steps, burn, seed, progress)


def _run(problem, log_prob, walkers, steps, burn, seed, progress) -> Chains:
    import emcee

    rng = np.random.default_rng(seed)
    start = problem.draw_prior(walkers * 4, rng)  # from the prior; keep walkers where the posterior is finite
    z0 = np.log(np.maximum(start, 1e-300))
    lp0 = log_prob(z0)
    finite = np.flatnonzero(np.isfinite(lp0))
    if len(finite) < walkers:
        raise RuntimeError(f"only {len(finite)} of {len(lp0)} prior draws give a finite posterior; need {walkers}")
    z0 = z0[finite[:walkers]]
    moves = [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]
    sampler = emcee.EnsembleSampler(walkers, problem.ndim, log_prob, vectorize=True, moves=moves)
    sampler.random_state = np.random.RandomState(seed).get_state()  # emcee draws from its own legacy generator
    began = time.perf_counter()
    every = max(steps // 10, 1)
    for i, _ in enumerate(sampler.sample(z0, iterations=steps), start=1):
        if progress is not None and (i % every == 0 or i == steps):
            spent = time.perf_counter() - began
            progress(f"step {i:,} of {steps:,} ({spent:.0f} s, about {spent / i * (steps - i):.0f} s left)")
    seconds = time.perf_counter() - began
    chain = sampler.get_chain()[burn:]  # (draws, walkers, D+1)
    quiet = logging.getLogger("emcee")  # a short run's autocorrelation estimate warns; R-hat and ESS judge it
    level, quiet.level = quiet.level, logging.ERROR
    try:
        tau = sampler.get_autocorr_time(discard=burn, quiet=True)
    finally:
        quiet.setLevel(level)
    return Chains(
        np.exp(np.swapaxes(chain, 0, 1)),
        np.swapaxes(sampler.get_log_prob()[burn:], 0, 1),
        sampler.acceptance_fraction.copy(),
        np.asarray(tau, dtype=float),
        seconds,
        walkers * (steps + 4),
    )


def inference_data(names, samples: np.ndarray, prior: np.ndarray | None = None, lp: np.ndarray | None = None):
    """ArviZ ``InferenceData``: posterior (walkers as chains; samples (walkers, draws, K)), prior, sample stats."""
    az = _arviz()
    groups = {"posterior": {name: samples[:, :, d] for d, name in enumerate(names)}}
    if prior is not None:
        groups["prior"] = {name: prior[None, :, d] for d, name in enumerate(names)}
    if lp is not None:
        groups["sample_stats"] = {"lp": lp}
    return az.from_dict(**groups)


def diagnostics(problem: Problem, chains: Chains) -> dict[str, dict[str, float]]:
    """R-hat, bulk and tail effective sample size of each quantity; the mean acceptance."""
    az = _arviz()
    idata = inference_data(problem.names, chains.samples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rhat = az.rhat(idata.posterior)
        bulk = az.ess(idata.posterior, method="bulk")
        tail = az.ess(idata.posterior, method="tail")
    out = {}
    for d, name in enumerate(problem.names):
        out[name] = {
            "r_hat": float(rhat[name]),
            "ess_bulk": float(bulk[name]),
            "ess_tail": float(tail[name]),
            "autocorr_steps": float(chains.autocorr_steps[d]),
        }
    return out


def stderr_progress(line: str) -> None:
    """Progress to stderr."""
    print(f"calibrate: {line}", file=sys.stderr, flush=True)
