"""A calibration problem: the measurements it uses, their likelihood terms, the priors, the log posterior.

Coordinates: the sampler moves in ``z = log x`` for every parameter (all are positive) and for
the between-study SD ``τ``; the log prior includes the Jacobian ``log x``. Priors are the cell
product's ``[uncertainty]`` table (each with its source); ``τ`` is half-normal with the scale the
calibration file gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...config import CellProduct, Distribution, find_config
from ...config.calibration import CalibrationSettings, ErrorModel
from ...errors import ConfigError
from ..validate import load_datasets
from .likelihood import ABOVE, BELOW, INTERVAL, NORMAL, Terms, log_likelihood
from .predict import Entry, Predictor

__all__ = ["TAU", "Problem", "terms_for"]

#: Name of the between-study SD among the calibrated quantities.
TAU = "between_study_sd"
_AMOUNTS = ("pct_dose", "pct_dose_per_g", "upper_bound_pct_dose")


def _z(coverage: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + coverage / 2))


def terms_for(entries: Sequence[Entry], error: ErrorModel, studies: Sequence[str]) -> Terms:
    """The likelihood terms of measurements (see :mod:`.likelihood` and the README, "Calibration").

    * a reported spread ``low``–``high`` spans ``spread_sds`` SD either side of the value (log scale);
    * no spread reported: the dataset's ``tolerance_factor`` is read as a central ``unreported_coverage``
      interval;
    * a range of group means is an interval; an upper bound (or a value of 0 with a ``high``) a bound
      from above; ``ratio_at_least`` a bound from below;
    * no SD below ``min_sd``.
    """
    index = {s: i for i, s in enumerate(studies)}
    kind, lo, hi, sd, study, shared = [], [], [], [], [], []
    for e in entries:
        m, data = e.measurement, e.dataset
        unreported = math.log(data.tolerance_factor) / _z(error.unreported_coverage)
        k, a, b, s = NORMAL, math.nan, math.nan, unreported
        if m.quantity == "upper_bound_pct_dose":
            k, b = BELOW, math.log(m.value) if m.value > 0 else math.nan
        elif m.quantity == "ratio_at_least":
            k, a = ABOVE, math.log(m.value)
        elif m.low is not None and m.spread == "range_of_group_means":
            k, a, b, s = INTERVAL, math.log(max(m.low, 1e-300)), math.log(m.high), error.min_sd
        elif m.value == 0:
            if not (m.high or 0) > 0:
                raise ConfigError(
                    f"{e.path}: measurement {m.id!r}: value = 0 with no high; a calibration needs the detection "
                    "limit as high (a value below detection is a bound)"
                )
            k, b = BELOW, math.log(m.high)
        else:
            a = b = math.log(m.value)
            if m.low is not None and m.quantity != "half_life_h":
                if m.low > 0:
                    s = math.log(m.high / m.low) / (2 * error.spread_sds)
                else:
                    s = math.log(m.high / m.value) / error.spread_sds
        if k in (BELOW,) and not math.isfinite(b):
            raise ConfigError(f"{e.path}: measurement {m.id!r}: an upper bound of 0 cannot be calibrated against")
        kind.append(k)
        lo.append(a)
        hi.append(b)
        sd.append(max(s, error.min_sd))
        study.append(index[e.study])
        shared.append(m.quantity in _AMOUNTS)
    return Terms(
        np.array(kind, dtype=int),
        np.array(lo),
        np.array(hi),
        np.array(sd),
        np.array(study, dtype=int),
        np.array(shared, dtype=bool),
    )


@dataclass
class Problem:
    """What is calibrated against what (see :meth:`build`)."""

    settings: CalibrationSettings
    keys: tuple[str, ...]
    priors: tuple[Distribution, ...]
    entries: tuple[Entry, ...]
    studies: tuple[str, ...]
    terms: Terms
    predictor: Predictor
    excluded: list[tuple[str, str]] = field(default_factory=list)
    held_out: tuple[Entry, ...] = ()
    product_file: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """Every calibrated quantity: the keys and the between-study SD."""
        return (*self.keys, TAU)

    @property
    def ndim(self) -> int:
        """Number of sampled coordinates."""
        return len(self.names)

    @classmethod
    def build(
        cls,
        settings: CalibrationSettings,
        base: Path,
        leave_out: Sequence[str] = (),
        datasets: Sequence[tuple[Path, object]] | None = None,
    ) -> Problem:
        """The problem a calibration file describes (``base``: its folder), without the studies in ``leave_out``."""
        try:
            product_file = find_config("cell", settings.product, base)
        except ConfigError as exc:
            raise ConfigError(f"product = {settings.product!r}: {str(exc).partition(': ')[2] or exc}") from None
        cell = CellProduct.from_file(product_file)
        priors = []
        for key in settings.parameters:
            short = key.removeprefix("cell.")
            if short not in cell.uncertainty:
                raise ConfigError(
                    f"{product_file}: parameters: {key!r} has no prior; add [uncertainty.{short!r}] to the product "
                    f"with its source (the prior of a calibration); declared: {', '.join(sorted(cell.uncertainty))}"
                )
            priors.append(cell.uncertainty[short])
        if datasets is None:
            folder = (base / settings.datasets).resolve()
            if not folder.is_dir():
                raise ConfigError(f"datasets = {settings.datasets!r}: no folder {folder}; give the validation folder")
            datasets = load_datasets(folder)
        everything = [Entry(p, d, m) for p, d in datasets for m in d.measurements]
        names = sorted({e.study for e in everything})
        unknown = [s for s in leave_out if s not in names]
        if unknown:
            raise ConfigError(f"--leave-out {unknown[0]}: no such study; allowed: {', '.join(names)}")
        loader = Predictor(everything, ())
        used, held, excluded = [], [], {}
        for i, e in enumerate(everything):
            source = loader.scenario(i).sources.get("cell", "")
            if Path(source).resolve() != product_file.resolve():
                excluded.setdefault(e.study, f"runs another cell product ({Path(source).stem})")
            elif e.study in leave_out:
                held.append(e)
            else:
                used.append(e)
        if not used:
            raise ConfigError(f"no measurement of {settings.product!r} left to calibrate against")
        studies = tuple(dict.fromkeys(e.study for e in used))
        keys = tuple(settings.parameters)
        predictor = Predictor(used, keys)
        for corner in (0, 1):  # the prior's corners must be values the scenarios take (checked once)
            predictor.check({k: _corner(d, corner) for k, d in zip(keys, priors, strict=True)})
        return cls(
            settings,
            keys,
            tuple(priors),
            tuple(used),
            studies,
            terms_for(used, settings.error, studies),
            predictor,
            sorted(excluded.items()),
            tuple(held),
            str(product_file),
        )

    # ---- coordinates and densities ---------------------------------------------------------
    def natural(self, z: np.ndarray) -> np.ndarray:
        """Parameters and τ from sampler coordinates (``exp``)."""
        return np.exp(np.asarray(z, dtype=float))

    def log_prior(self, z: np.ndarray) -> np.ndarray:
        """Log prior density of sampler coordinates (P, D+1), Jacobian included."""
        z = np.atleast_2d(z)
        x = np.exp(z)
        out = z.sum(axis=1).copy()  # d x / d z = x for every coordinate
        for d, prior in enumerate(self.priors):
            out += prior.logpdf(x[:, d])
        scale = self.settings.error.between_study_sd_scale
        tau = x[:, -1]
        out += 0.5 * math.log(2 / math.pi) - math.log(scale) - 0.5 * (tau / scale) ** 2
        return np.where(np.isfinite(out), out, -np.inf)

    def log_pred(self, x: np.ndarray, predict: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
        """``log`` of every measurement's model value at natural parameters (P, D+1) → (P, N)."""
        predict = self.predictor if predict is None else predict
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(predict(np.atleast_2d(x)[:, :-1]))

    def log_prob(self, z: np.ndarray, predict: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
        """Log posterior (unnormalised) of sampler coordinates (P, D+1); what emcee samples.

        ``predict``: the model values of parameter sets (default: :attr:`predictor`, in this process).
        """
        z = np.atleast_2d(z)
        out = self.log_prior(z)
        ok = np.isfinite(out)
        if ok.any():
            x = np.exp(z[ok])
            out[ok] += log_likelihood(self.log_pred(x, predict), x[:, -1], self.terms)
        return np.where(np.isfinite(out), out, -np.inf)

    def draw_prior(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws of the prior, natural scale (n, D+1)."""
        cols = [p.sample(n, rng) for p in self.priors]
        cols.append(np.abs(rng.normal(0.0, self.settings.error.between_study_sd_scale, n)))
        return np.column_stack(cols)


def _corner(d: Distribution, which: int) -> float:
    """A prior's lower (0) or upper (1) end, or its 0.1 / 99.9 % point where it has none."""
    bound = d.low if which == 0 else d.high
    if bound is not None:
        return float(bound)
    loc, scale, _, _ = d._normal()
    value = loc + (-3.1 if which == 0 else 3.1) * scale
    return float(value if d.distribution == "normal" else math.exp(value))
