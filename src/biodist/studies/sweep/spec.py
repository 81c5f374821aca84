"""Sweep specifications (``configs/sweeps/*.toml``) and their sampling designs.

A sweep names a base scenario, the parameters to vary (any numeric ``--set``
key) with a list of values or a range, a design (``grid``, ``lhs``, ``sobol``),
and the outputs to record. Points are generated once, from the seed, and cut
into chunks of fixed size: the chunk boundaries depend on the spec alone, never
on the executor or the number of workers.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from ...config.base import ConfigModel, FloatList
from ...config.files import read_toml
from ...config.limits import MAX_TIME_H
from ...config.messages import validate
from ...results import QUANTILES
from ...results.base import quantile_label

__all__ = ["MAX_POINTS", "STATISTICS", "Outputs", "Parameter", "SweepSpec", "design_points", "load_spec_file"]

#: Most points a sweep may have (its points alone are 8 bytes x parameters each).
MAX_POINTS = 10**7

#: Statistics a sweep can record: the exact mean, and quantiles of the aggregated Monte Carlo.
STATISTICS = ("mean", *(f"q{quantile_label(q)}" for q in QUANTILES))
Statistic = Literal[STATISTICS]


class Parameter(ConfigModel):
    """One varied parameter: explicit ``values`` or a ``low``–``high`` range (linear or log)."""

    values: FloatList | None = None
    low: float | None = None
    high: float | None = None
    scale: Literal["linear", "log"] = "linear"
    points: int | None = Field(default=None, ge=1, le=10_000)
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> Parameter:
        if self.values is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either values or low/high, not both")
            if not self.values:
                raise ValueError("values = []: give at least one value")
            if len(set(self.values)) != len(self.values):
                raise ValueError(f"values = {list(self.values)}: a value is repeated (each would give the same rows)")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give values = [...] or both low and high")
        if not self.low < self.high:
            raise ValueError(f"low = {self.low}, high = {self.high}: must satisfy low < high")
        if self.scale == "log" and self.low <= 0:
            raise ValueError(f"low = {self.low}: a log range needs low > 0")
        return self

    def grid(self) -> np.ndarray:
        """Grid values: the list, or ``points`` values spread over the range."""
        if self.values is not None:
            return np.asarray(self.values, dtype=float)
        n = self.points or 5
        if self.scale == "log":
            return np.geomspace(self.low, self.high, n)
        return np.linspace(self.low, self.high, n)

    def transform(self, u: np.ndarray) -> np.ndarray:
        """Map unit-interval samples onto the range (log-uniform on a log scale)."""
        if self.values is not None:
            raise ValueError("lhs and sobol designs need a low-high range, not a list of values")
        if self.scale == "log":
            return np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)


class Outputs(ConfigModel):
    """What each point records."""

    compartments: list[str] = Field(min_length=1)
    times_h: FloatList = Field(min_length=1)

    statistics: list[Statistic] = Field(default_factory=lambda: ["mean"], min_length=1)
    replicates: int = Field(default=100, ge=1, le=100_000)

    @model_validator(mode="after")
    def _check(self) -> Outputs:
        bad = [t for t in self.times_h if not (math.isfinite(t) and 0 <= t <= MAX_TIME_H)]
        if bad:
            raise ValueError(f"times_h contains {bad[0]}: report times must lie within [0, {MAX_TIME_H:g}] h")
        for key in ("compartments", "times_h", "statistics"):
            values = list(getattr(self, key))
            if len(set(values)) != len(values):
                raise ValueError(f"{key} = {values}: an entry is repeated (its rows would be written twice)")
        return self


class SweepSpec(ConfigModel):
    """A sweep: base scenario, parameters, design, outputs."""

    name: str = ""
    description: str = ""
    scenario: str
    design: Literal["grid", "lhs", "sobol"] = "grid"
    samples: int = Field(default=256, ge=1, le=10_000_000)
    seed: int = Field(default=0, ge=0)
    chunk_points: int = Field(default=1000, ge=1, le=1_000_000)
    parameters: dict[str, Parameter] = Field(min_length=1)
    outputs: Outputs
    sensitivity_output: str | None = None

    @model_validator(mode="after")
    def _check(self) -> SweepSpec:
        if self.design != "grid":
            lists = [k for k, p in self.parameters.items() if p.values is not None]
            if lists:
                raise ValueError(f"parameters.{lists[0]!r}: design {self.design!r} needs a low-high range")
        if self.design == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"samples = {self.samples}: the Sobol design needs a power of 2")
        if self.n_points > MAX_POINTS:
            raise ValueError(
                f"the {self.design} design has {self.n_points:.3g} points; at most {MAX_POINTS:.0e} (fewer values or "
                "points per parameter, fewer samples, or several sweeps)"
            )
        return self

    @property
    def n_points(self) -> int:
        """How many points the design has (without making them)."""
        if self.design == "grid":
            return math.prod(
                len(p.values) if p.values is not None else (p.points or 5) for p in self.parameters.values()
            )
        if self.design == "sobol":
            return self.samples * (len(self.parameters) + 2)  # Saltelli without second-order terms
        return self.samples

    @property
    def names(self) -> list[str]:
        """Parameter keys in a fixed order."""
        return list(self.parameters)

    def fingerprint(self) -> str:
        """Hash of everything that determines the points and the rows (to refuse resuming another sweep)."""
        data = json.loads(self.model_dump_json())
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def problem(self) -> dict:
        """SALib problem definition (unit bounds; values are mapped by each parameter's scale)."""
        return {"num_vars": len(self.names), "names": self.names, "bounds": [[0.0, 1.0]] * len(self.names)}


def design_points(spec: SweepSpec) -> np.ndarray:
    """All points of the sweep, shape (N, D), in the order they are evaluated."""
    params = [spec.parameters[k] for k in spec.names]
    if spec.design == "grid":
        axes = [np.asarray(p.grid(), dtype=float) for p in params]
        index = np.indices([len(a) for a in axes]).reshape(len(axes), -1)  # last parameter fastest, as product()
        return np.column_stack([a[i] for a, i in zip(axes, index, strict=True)])
    if spec.design == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(params), seed=np.random.default_rng(spec.seed)).random(spec.samples)
    else:
        from SALib.sample import sobol as sobol_sample

        unit = sobol_sample.sample(spec.problem(), spec.samples, calc_second_order=False, seed=spec.seed)
    return np.column_stack([p.transform(unit[:, i]) for i, p in enumerate(params)])


def load_spec_file(path: Path) -> SweepSpec:
    """Read and validate a sweep spec (errors name the file and key)."""
    return validate(SweepSpec, read_toml(path), path)
