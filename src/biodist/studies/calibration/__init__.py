"""Bayesian calibration of a cell product's kinetic parameters against the validation library.

:func:`calibrate` samples the posterior of the parameters a calibration file names
(``configs/calibration/<product>.toml``) given every measurement of the library that runs the
product, each compared through its own readout (:mod:`.likelihood`), with emcee; it checks
convergence (R-hat, ESS: ArviZ) and where a new study's reading of each measurement would fall
(:mod:`.check`). ``leave_out`` keeps studies out of the fit and checks them; ``cross_validate``
leaves out every study in turn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ...config import bundled_config_dir
from ...config.calibration import CalibrationSettings
from ...errors import ConfigError
from ...results import CalibrationResult
from ...solvers.budget import Cost, check_cost
from .check import PARETO_K_MAX, predictive_rows, psis_rows
from .problem import TAU, Problem
from .sampler import diagnostics, run_sampler, usable_cores

__all__ = ["DEFAULT_CONFIG", "TAU", "Problem", "calibrate", "default_config"]

#: The calibration of the default product.
DEFAULT_CONFIG = "bm_msc"
#: Posterior draws used for predictive checks (thinned evenly).
CHECK_DRAWS = 2000
#: The share of a bounded prior's range counted as its edge.
EDGE = 0.05


def default_config(name: str = DEFAULT_CONFIG) -> Path:
    """``configs/calibration/<name>.toml`` among the shipped configs."""
    return bundled_config_dir() / "calibration" / f"{name}.toml"


def _thin(chains: np.ndarray, n: int) -> np.ndarray:
    flat = chains.reshape(-1, chains.shape[-1])
    step = max(len(flat) // n, 1)
    return flat[::step][:n]


def _edge_notes(problem: Problem, draws: np.ndarray) -> list[str]:
    """Say where the posterior piles against the end of a bounded prior (the data push beyond the range)."""
    notes = []
    for d, (key, prior) in enumerate(zip(problem.keys, problem.priors, strict=True)):
        if prior.distribution not in ("uniform", "log-uniform"):
            continue  # a flat prior's edge; a (log-)normal says where it expects the value itself
        x = draws[:, d]
        scale = np.log if prior.distribution == "log-uniform" else (lambda v: v)
        lo, hi = scale(prior.low), scale(prior.high)
        u = (scale(x) - lo) / (hi - lo)
        for side, share in (("lower", float(np.mean(u < EDGE))), ("upper", float(np.mean(u > 1 - EDGE)))):
            if share > 2 * EDGE:  # a flat posterior would put EDGE there
                end = prior.low if side == "lower" else prior.high
                notes.append(
                    f"{key}: {share:.0%} of the posterior lies in the {side} {EDGE:.0%} of its prior range "
                    f"(ends at {end:g}); the data push against the prior's {side} end ({prior.source})"
                )
    return notes


def calibrate(
    config: str | Path | None = None,
    *,
    leave_out: Sequence[str] = (),
    cross_validate: bool = False,
    walkers: int | None = None,
    steps: int | None = None,
    burn: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> CalibrationResult:
    """Calibrate a cell product against the validation library (see the module docstring).

    Parameters
    ----------
    config : path, optional
        A calibration file; default ``configs/calibration/bm_msc.toml``.
    leave_out : sequence of str
        Studies (dataset names) kept out of the fit and checked against its posterior predictive.
    cross_validate : bool
        Leave out each study in turn (PSIS, refitting where its Pareto k > 0.7) and check it.
    walkers, steps, burn, seed : int, optional
        Override the file's ``[sampler]``.
    workers : int, optional
        Processes sharing each step (default: the cores available, at most 2 — the scenarios split in two).
    progress : callable, optional
        Gets a line about every 10 % of a run.

    Returns
    -------
    CalibrationResult
    """
    path = Path(config) if config is not None else default_config()
    if not path.is_file():
        raise ConfigError(
            f"{path}: {'not a regular file' if path.exists() else 'file not found'}; give a calibration file"
        )
    settings = CalibrationSettings.load(path)
    overrides = {k: v for k, v in dict(walkers=walkers, steps=steps, burn=burn, seed=seed).items() if v is not None}
    if overrides:  # checked as the file's [sampler] is; the message names the options
        from ...config.calibration import SamplerSettings
        from ...config.messages import validate

        given = " ".join(f"--{k} {v}" for k, v in overrides.items())
        sampler = validate(SamplerSettings, settings.sampler.model_dump() | overrides, Path(f"{path} with {given}"))
        settings = settings.model_copy(update={"sampler": sampler})
    if cross_validate and leave_out:
        raise ConfigError("--cross-validate leaves out every study in turn; give it or --leave-out, not both")
    try:
        problem = Problem.build(settings, path.parent, leave_out)
    except ConfigError as exc:
        text = str(exc)
        raise ConfigError(text if text.startswith((str(path), "--")) else f"{path}: {text}") from None
    s = settings.sampler
    if s.walkers < 2 * problem.ndim:
        raise ConfigError(
            f"walkers = {s.walkers}; allowed: at least {2 * problem.ndim} (twice the {problem.ndim} quantities)"
        )
    workers = min(usable_cores(), 2) if workers is None else workers
    _say_cost(problem, s.walkers, s.steps, workers)
    chains = run_sampler(problem, s.walkers, s.steps, s.burn, s.seed, progress, workers)
    rng = np.random.default_rng(s.seed + 1)
    prior = problem.draw_prior(CHECK_DRAWS * 2, rng)
    draws = _thin(chains.samples, CHECK_DRAWS)
    rows = predictive_rows(problem, draws, rng) + predictive_rows(problem, draws, rng, held_out=True)
    info = {
        "product": settings.product,
        "product_file": problem.product_file,
        "config": str(path),
        "settings": settings.model_dump(),
        "studies": list(problem.studies),
        "left_out": list(leave_out),
        "excluded": [{"study": a, "why": b} for a, b in problem.excluded],
        "measurements": len(problem.entries),
        "acceptance": float(chains.acceptance.mean()),
        "seconds": chains.seconds,
        "evaluations": chains.evaluations,
        "workers": workers,
        "notes": _edge_notes(problem, chains.samples.reshape(-1, problem.ndim)),
    }
    result = CalibrationResult(list(problem.names), chains.samples, prior, diagnostics(problem, chains), rows, info)
    if cross_validate:
        result = _cross_validate(result, problem, draws, rng, settings, path, progress, workers)
    return result


def _say_cost(problem: Problem, walkers: int, steps: int, workers: int) -> None:
    """Time two batches and say what the run will cost (it is not refused: a calibration is meant to take minutes)."""
    import time

    rng = np.random.default_rng(0)
    z = np.log(problem.draw_prior(walkers, rng))
    problem.log_prob(z)  # first call: imports and caches
    began = time.perf_counter()
    problem.log_prob(z)
    per_step = (time.perf_counter() - began) / (1.5 if workers > 1 else 1.0)
    what = f"calibration: {walkers} walkers x {steps:,} steps over {problem.predictor.n_scenarios} scenarios"
    check_cost(Cost(per_step * steps, 8.0 * walkers * steps * problem.ndim * 2, what), True, "give fewer --steps")


def _cross_validate(result, problem, draws, rng, settings, path, progress, workers) -> CalibrationResult:
    """Leave each study out (PSIS; an exact refit where k > 0.7) and add its check rows."""
    rows, ks = psis_rows(problem, draws, rng)
    refit = [name for name, k in ks.items() if not k <= PARETO_K_MAX]
    kept = [r for r in rows if r["study"] not in refit]
    s = settings.sampler
    for name in refit:
        if progress is not None:
            progress(f"refitting without {name} (Pareto k = {ks[name]:.2f} > {PARETO_K_MAX})")
        alone = Problem.build(settings, path.parent, [name])
        chains = run_sampler(alone, s.walkers, s.steps, s.burn, s.seed, progress, workers)
        for r in predictive_rows(alone, _thin(chains.samples, CHECK_DRAWS), rng, held_out=True):
            kept.append(r | {"pareto_k": ks[name], "method": "refit"})
    order = {name: i for i, name in enumerate(problem.studies)}
    kept.sort(key=lambda r: order[r["study"]])
    inside = sum(r["inside"] for r in kept)
    info = result.info | {
        "cross_validation": {
            "inside": inside,
            "of": len(kept),
            "coverage": inside / len(kept) if kept else math.nan,
            "pareto_k": ks,
            "refitted": refit,
        }
    }
    return CalibrationResult(
        result.names, result.samples, result.prior, result.diagnostics, result.predictive + kept, info
    )
