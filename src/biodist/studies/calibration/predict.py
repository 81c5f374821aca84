"""The model's value of every measurement of the validation library, for many parameter sets.

A :class:`Predictor` loads the library once and groups its measurements by the scenario they
run (a dataset's scenario with the dataset's and the measurement's ``set``). For a parameter set
it sets the values on each group's scenario without validating them again (they were checked at
the prior's corners when the predictor was built), compiles it once, solves it once at the union
of the group's times, and reads every measurement's quantity off that one solution — the same
numbers :func:`biodist.validate` reports (tested).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...config import Scenario
from ...config.keys import assign
from ...errors import ConfigError
from ...model import compile_model
from ..validate import Dataset, Measurement, _check_organ, model_value, needs, observe

__all__ = ["Entry", "Predictor"]


@dataclass(frozen=True)
class Entry:
    """One measurement of the library and where it came from."""

    path: Path
    dataset: Dataset
    measurement: Measurement

    @property
    def study(self) -> str:
        """The dataset's name (one study)."""
        return self.dataset.name

    @property
    def label(self) -> str:
        """``study:id``."""
        return f"{self.dataset.name}:{self.measurement.id}"


@dataclass(frozen=True)
class _Group:
    scenario: Scenario
    members: tuple[int, ...]
    pairs: tuple[tuple[str, str], ...]
    times: np.ndarray


class Predictor:
    """Model values of a list of measurements as functions of ``--set`` keys.

    Parameters
    ----------
    entries : sequence of Entry
    keys : sequence of str
        The ``--set`` keys a parameter vector gives, in order (``cell.lung_pass_fraction``...).
    """

    def __init__(self, entries: Sequence[Entry], keys: Sequence[str]):
        self.entries = tuple(entries)
        self.keys = tuple(keys)
        groups: dict[str, tuple[Scenario, list[int]]] = {}
        for i, e in enumerate(self.entries):
            overrides = {**e.dataset.set, **e.measurement.set}
            key = json.dumps([str(e.path.parent / e.dataset.scenario), overrides], sort_keys=True, default=str)
            if key not in groups:
                try:
                    sc = Scenario.load(e.path.parent / e.dataset.scenario, overrides)
                except ConfigError as exc:
                    raise ConfigError(f"{e.path}: measurement {e.measurement.id!r}: {exc}") from None
                groups[key] = (sc, [])
            _check_organ(e.path, e.measurement, groups[key][0])
            groups[key][1].append(i)
        self._groups = []
        for sc, members in groups.values():
            asked = [needs(self.entries[i].measurement, sc) for i in members]
            pairs = tuple(dict.fromkeys(p for ps, _ in asked for p in ps))
            times = np.unique(np.concatenate([t for _, t in asked]))
            self._groups.append(_Group(sc, tuple(members), pairs, times))

    def columns(self, part: tuple[int, int]) -> list[int]:
        """The measurements the ``part`` of :meth:`__call__` computes."""
        return [i for g in self._groups[part[0] :: part[1]] for i in g.members]

    def scenario(self, i: int) -> Scenario:
        """The scenario entry ``i`` runs (its dataset's and its own ``set`` applied)."""
        return next(g.scenario for g in self._groups if i in g.members)

    @property
    def n_scenarios(self) -> int:
        """Distinct scenarios the measurements run (one compile and solve each per parameter set)."""
        return len(self._groups)

    def check(self, values: Mapping[str, float]) -> None:
        """Validate ``values`` on every scenario (the one-line error of ``--set`` if one refuses them)."""
        for g in self._groups:
            g.scenario.with_values(dict(values))

    def __call__(self, theta: Sequence[float] | np.ndarray, part: tuple[int, int] = (0, 1)) -> np.ndarray:
        """Model values of every measurement (its quantity's units) at parameters ``theta`` (natural scale).

        ``theta`` is one parameter vector (D,) or a batch (P, D): every scenario is then compiled once for the
        whole batch (the compiler broadcasts) and its chains solved as one stack. Returns (N,) or (P, N); a ratio
        whose denominator holds nothing is NaN. ``part = (k, n)``: only the k-th of n shares of the scenarios
        (the other columns NaN), for n processes to share the work.
        """
        theta = np.asarray(theta, dtype=float)
        batch = theta.ndim == 2
        points = theta if batch else theta[None]
        values = {k: points[:, d] for d, k in enumerate(self.keys)}
        out = np.full((len(points), len(self.entries)), np.nan)
        for g in self._groups[part[0] :: part[1]]:
            sc = assign(g.scenario, values) if values else g.scenario
            with np.errstate(under="ignore"):
                model = compile_model(sc)
                seen = observe(sc, g.pairs, g.times, model)
                for i in g.members:
                    out[:, i] = model_value(self.entries[i].measurement, sc, seen, g.times, model, undefined="nan")
        return out if batch else out[0]
