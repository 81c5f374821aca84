"""Uncertain parameters: declared distributions and the draws of virtual subjects.

A scenario's ``[uncertainty]`` table maps ``--set`` keys to distributions::

    [uncertainty."cell.lung_pass_fraction"]
    distribution = "uniform"        # uniform | log-uniform | normal | log-normal
    low = 0.015
    high = 0.037
    source = "source articles' range (seed 002)"

``uniform`` and ``log-uniform`` need ``low < high`` (``low > 0`` for log-uniform);
``normal`` takes ``mean`` and ``sd``, ``log-normal`` takes ``median`` and ``gsd``
(geometric standard deviation, > 1); both may be truncated to ``[low, high]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

import numpy as np
from pydantic import model_validator

from .base import ConfigModel, checked_once

__all__ = ["Distribution", "sample_parameters"]


class Distribution(ConfigModel):
    """One uncertain parameter's distribution (see the module docstring)."""

    distribution: Literal["uniform", "log-uniform", "normal", "log-normal"]
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    gsd: float | None = None
    source: str = ""

    @model_validator(mode="after")
    @checked_once
    def _check(self) -> Distribution:
        kind = self.distribution
        needs = {
            "uniform": ("low", "high"),
            "log-uniform": ("low", "high"),
            "normal": ("mean", "sd"),
            "log-normal": ("median", "gsd"),
        }[kind]
        missing = [k for k in needs if getattr(self, k) is None]
        if missing:
            raise ValueError(f"distribution = {kind!r} needs {' and '.join(needs)}; missing {', '.join(missing)}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low = {self.low}, high = {self.high}: bounds must satisfy low < high")
        if kind == "log-uniform" and self.low <= 0:
            raise ValueError(f"low = {self.low}: a log-uniform distribution needs low > 0")
        if kind == "normal" and self.sd < 0:
            raise ValueError(f"sd = {self.sd}: the spread must be >= 0")
        if kind == "log-normal" and (self.median <= 0 or self.gsd < 1):
            raise ValueError(f"median = {self.median}, gsd = {self.gsd}: need median > 0 and gsd >= 1")
        centre = self.mean if kind == "normal" else self.median
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        if centre is not None and not low <= centre <= high:
            raise ValueError(f"{kind}: centre {centre} lies outside [low, high] = [{self.low}, {self.high}]")
        return self

    def _normal(self) -> tuple[float, float, float, float]:
        """Location, scale and bounds of the (log-)normal on its own scale."""
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        if self.distribution == "normal":
            return self.mean, self.sd, low, high
        low = -math.inf if low <= 0 else math.log(low)
        high = math.log(high) if math.isfinite(high) else math.inf
        return math.log(self.median), math.log(self.gsd), low, high

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` values."""
        if self.distribution == "uniform":
            return rng.uniform(self.low, self.high, n)
        if self.distribution == "log-uniform":
            return np.exp(rng.uniform(math.log(self.low), math.log(self.high), n))
        loc, scale, low, high = self._normal()
        if scale == 0:
            values = np.full(n, loc)
        else:
            a, b = (low - loc) / scale, (high - loc) / scale
            from scipy.stats import truncnorm  # scipy.stats costs ~0.7 s to import: only when drawing

            values = truncnorm.rvs(a, b, loc=loc, scale=scale, size=n, random_state=rng)
        return values if self.distribution == "normal" else np.exp(values)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log density at ``x`` (natural scale; ``-inf`` outside the support), normalised for truncation."""
        x = np.asarray(x, dtype=float)
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        inside = (x >= low) & (x <= high)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.distribution == "uniform":
                out = np.full_like(x, -math.log(high - low))
            elif self.distribution == "log-uniform":
                out = -np.log(x) - math.log(math.log(high / low))
            else:
                from scipy.stats import norm

                loc, scale, lo, hi = self._normal()
                y = x if self.distribution == "normal" else np.log(x)
                mass = norm.cdf(hi, loc, scale) - norm.cdf(lo, loc, scale)
                out = norm.logpdf(y, loc, scale) - math.log(mass)
                if self.distribution == "log-normal":
                    out = out - np.log(x)
                    inside &= x > 0
        return np.where(inside, out, -np.inf)

    def median_value(self) -> float:
        """The distribution's median (of the truncated distribution where it is truncated)."""
        if self.distribution == "uniform":
            return (self.low + self.high) / 2
        if self.distribution == "log-uniform":
            return math.sqrt(self.low * self.high)
        loc, scale, low, high = self._normal()
        if scale > 0:
            from scipy.stats import truncnorm

            loc = float(truncnorm.median((low - loc) / scale, (high - loc) / scale, loc=loc, scale=scale))
        return loc if self.distribution == "normal" else math.exp(loc)


def sample_parameters(spec: Mapping[str, Distribution], n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw ``n`` parameter sets: key → array of ``n`` values, keys in sorted order."""
    return {key: spec[key].sample(n, rng) for key in sorted(spec)}
