"""Monte Carlo results (replicate × compartment × time, histories) and :func:`monte_carlo`, which samples them."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..config import Scenario
from ..model import held_at
from ..solvers.montecarlo import ReadoutSamples, Samples, sample
from .base import QUANTILES, THRESHOLDS, Result, quantile_label
from .format import format_cells

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import xarray as xr

__all__ = ["MonteCarloResult", "monte_carlo"]


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


@dataclass(frozen=True, repr=False)
class MonteCarloResult(Result):
    """Sampled counts and what the samplers recorded.

    Attributes
    ----------
    scenario : Scenario
        The scenario as given (uncertain parameters at their configured values).
    method : str
        ``"per_cell"`` or ``"aggregated"``.
    seed : int
        Entropy of the root ``SeedSequence``: passing it back reproduces the run.
    n_cells : int
        Cells per replicate.
    compartments : tuple of str
        Labels of the second axis of ``counts``.
    times_h : ndarray, shape (T,)
        Report times (h).
    counts : ndarray of int64, shape (R, C, T)
        Cells in each compartment at each report time, per replicate.
    expected : ndarray, shape (R, C, T)
        The ODE's expected counts for each replicate's parameters (the
        mixture over diameter classes with size heterogeneity).
    parameters : dict of str to ndarray
        Drawn value of each uncertain parameter per replicate (empty without uncertainty).
    histories : dict of str to ndarray
        Per-cell method only: ``cumulative_arrivals`` (R, T) — cells that lodged
        in the target at least once by each time; ``first_arrival_h`` (R,);
        ``lung_passes_per_cell`` (R,); ``circulating_h_per_cell`` (R,);
        ``lung_transits`` (R,) — cells that made a first lung transit;
        ``class_cells`` and ``class_passed_lung`` (R, K) — cells per diameter
        class and those that passed the lung on their first transit.
    diameters_um, class_weights : ndarray, shape (K,)
        Diameter classes and their weights.
    elapsed_s : float
        Sampling time (s), excluding compilation of the model.
    readout : ReadoutSamples or None
        The readout asked for when it is not ``cells`` (``bli``, ``dna``, ``111In``...): its samples per
        replicate, their expectation, and whether their spread is exact or an upper bound
        (:mod:`biodist.solvers.montecarlo.readout`).
    notes : tuple of str
        With uncertainty: each parameter whose scenario value is not the median of its declared distribution
        (then the mean over virtual subjects differs from the deterministic value for that reason too).
    """

    scenario: Scenario
    method: str
    seed: int
    n_cells: int
    compartments: tuple[str, ...]
    times_h: np.ndarray
    counts: np.ndarray
    expected: np.ndarray
    parameters: dict[str, np.ndarray]
    histories: dict[str, np.ndarray]
    diameters_um: np.ndarray
    class_weights: np.ndarray
    elapsed_s: float
    extra: dict[str, Any] = field(default_factory=dict)
    readout: ReadoutSamples | None = None
    notes: tuple[str, ...] = ()

    kind: ClassVar[str] = "mc"
    table_columns: ClassVar[tuple[str, ...]] = ("cells",)

    @classmethod
    def from_samples(cls, samples: Samples) -> MonteCarloResult:
        """Label the samplers' raw arrays."""
        sampled, n_cells = samples.sampled, samples.n_cells
        histories: dict[str, np.ndarray] = {}
        if "arrivals" in sampled:
            histories = {
                "cumulative_arrivals": sampled["arrivals"],
                "first_arrival_h": sampled["first_arrival"],
                "lung_passes_per_cell": sampled["lung_passes"] / n_cells,
                "circulating_h_per_cell": sampled["circulating_h"] / n_cells,
                "lung_transits": sampled["transits"],
                "class_cells": sampled["class_cells"],
                "class_passed_lung": sampled["class_passed"],
            }
        model = samples.models[0]
        return cls(
            scenario=samples.scenario,
            method=samples.method,
            seed=samples.seed,
            n_cells=n_cells,
            compartments=model.compartments,
            times_h=samples.times_h,
            counts=sampled["counts"],
            expected=samples.expected,
            parameters=dict(samples.parameters),
            histories=histories,
            diameters_um=model.diameters_um,
            class_weights=model.weights,
            elapsed_s=float(samples.elapsed_s),
            readout=samples.readout,
            notes=samples.notes,
        )

    # ---- shape and labels ---------------------------------------------------------
    @property
    def replicates(self) -> int:
        """Number of replicates."""
        return self.counts.shape[0]

    @property
    def target(self) -> str:
        """The scenario's target organ."""
        return self.scenario.target

    def index(self, compartment: str) -> int:
        """Position of a compartment on the second axis."""
        return self.compartments.index(compartment)

    @property
    def cells_per_second(self) -> float:
        """Cells walked per second of sampling (per-cell method); NaN for the aggregated sampler.

        The aggregated sampler does not follow cells (its cost does not grow with their number), so a rate
        per cell would be meaningless; see :attr:`replicates_per_second`.
        """
        if self.method != "per_cell":
            return math.nan
        return self.n_cells * self.replicates / self.elapsed_s if self.elapsed_s > 0 else math.nan

    @property
    def replicates_per_second(self) -> float:
        """Replicates sampled per second (NaN when the run was too short to time)."""
        return self.replicates / self.elapsed_s if self.elapsed_s > 0 else math.nan

    # ---- summaries ---------------------------------------------------------------
    def mean(self) -> np.ndarray:
        """Mean count over replicates, shape (C, T)."""
        return self.counts.mean(axis=0)

    def quantiles(self, qs: Sequence[float] = QUANTILES) -> dict[float, np.ndarray]:
        """Quantiles over replicates: q → array (C, T)."""
        values = np.quantile(self.counts, qs, axis=0, method="inverted_cdf")  # sample values: whole cells
        return {float(q): values[i] for i, q in enumerate(qs)}

    def target_counts(self) -> np.ndarray:
        """Counts in the target, shape (R, T)."""
        return self.counts[:, self.index(self.target), :]

    def target_readout(self) -> tuple[np.ndarray, np.ndarray, str]:
        """What the target holds per replicate (R, T), its expectation (T) and what it counts.

        The readout asked for, or the cells: the target's row plus a direct injection's depot and engrafted rows
        (as ``compare`` counts the target; :meth:`target_counts` and ``p_at_least`` are the target's bed alone).
        """
        ro = self.readout
        names, samples, expected = (
            (self.compartments, self.counts, self.expected) if ro is None else (ro.rows, ro.samples, ro.expected)
        )
        rows = held_at(names, self.target, self.target)
        what = "cells" if ro is None else f"{ro.name} (cell eq.)"
        return samples[:, rows, :].sum(axis=1), expected[:, rows, :].sum(axis=1).mean(axis=0), what

    def p_at_least(self, k: float) -> np.ndarray:
        """Fraction of replicates whose target holds at least ``k`` cells, per report time."""
        return (self.target_counts() >= k).mean(axis=0)

    def spread(self, compartment: str | None = None) -> dict[str, np.ndarray]:
        """Standard deviation of a compartment's count per report time, and its two parts.

        Returns
        -------
        dict
            ``total`` (sample SD over replicates), ``parameters`` (SD of the
            ODE expectation across the replicates' parameter sets: 0 without
            uncertainty) and ``counting`` (root mean binomial variance
            ``N p (1 - p)``); ``total² ≈ parameters² + counting²`` by the law of
            total variance.
        """
        i = self.index(self.target if compartment is None else compartment)
        counts, mean = self.counts[:, i, :], self.expected[:, i, :]
        p = mean / self.n_cells
        return {
            "total": counts.std(axis=0, ddof=1) if self.replicates > 1 else np.zeros(len(self.times_h)),
            "parameters": mean.std(axis=0, ddof=1)
            if self.parameters and self.replicates > 1
            else np.zeros(len(self.times_h)),
            "counting": np.sqrt((self.n_cells * p * (1 - p)).mean(axis=0)),
        }

    def first_pass_lung_fraction(self) -> float:
        """Fraction of first lung transits that passed (per-cell method); NaN when no cell reached the lungs."""
        transits = self.histories["lung_transits"].sum()
        return float(self.histories["class_passed_lung"].sum() / transits) if transits else math.nan

    def passer_diameter_um(self) -> tuple[float, float]:
        """Mean diameter (µm) of all simulated cells and of those that passed the lung on first transit."""
        cells = self.histories["class_cells"].sum(axis=0)
        passed = self.histories["class_passed_lung"].sum(axis=0)
        d = self.diameters_um
        all_mean = float((cells * d).sum() / cells.sum())
        passed_mean = float((passed * d).sum() / passed.sum()) if passed.sum() else float("nan")
        return all_mean, passed_mean

    # ---- tables and records ----------------------------------------------------------
    def to_xarray(self) -> xr.Dataset:
        """Counts, expectations, histories and drawn parameters as an :class:`xarray.Dataset`.

        Its table (:meth:`to_dataframe`) is ``replicate``, ``compartment``, ``time_h``, ``cells``.
        """
        import xarray as xr

        dims = ("replicate", "compartment", "time_h")
        coords = {
            "replicate": np.arange(self.replicates),
            "compartment": list(self.compartments),
            "time_h": self.times_h,
        }
        data = {
            "cells": (dims, self.counts, {"units": "cells"}),
            "expected": (dims, self.expected, {"units": "cells", "description": "ODE expectation per replicate"}),
        }
        if self.histories:
            data["cumulative_arrivals"] = (("replicate", "time_h"), self.histories["cumulative_arrivals"])
            data["first_arrival_h"] = (("replicate",), self.histories["first_arrival_h"], {"units": "h"})
        for key, values in self.parameters.items():
            data[key] = (("replicate",), values)
        attrs = {"target": self.target, "method": self.method, "seed": self.seed, "n_cells": self.n_cells}
        return xr.Dataset(data, coords=coords, attrs=attrs)

    def to_dataframe(self) -> pd.DataFrame:
        """Tidy counts (``replicate``, ``compartment``, ``time_h``, ``cells``), with the drawn parameters.

        Virtual subjects: one column per uncertain ``--set`` key beside ``replicate``, that replicate's draw.
        """
        frame = super().to_dataframe()
        for i, (key, values) in enumerate(self.parameters.items()):
            frame.insert(1 + i, key, np.asarray(values)[frame["replicate"].to_numpy()])
        return frame

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the ``mc --json`` object)."""
        comps = self.compartments
        quant = self.quantiles()
        spread = self.spread()
        out: dict[str, Any] = {
            "scenario": self.scenario.name,
            "target": self.target,
            "method": self.method,
            "heterogeneity": self.scenario.heterogeneity,
            "uncertainty": bool(self.parameters),
            "n_cells": self.n_cells,
            "replicates": self.replicates,
            "seed": self.seed,
            "times_h": self.times_h.tolist(),
            "mean": {c: self.mean()[i].tolist() for i, c in enumerate(comps)},
            "quantiles": {c: {quantile_label(q): v[i].tolist() for q, v in quant.items()} for i, c in enumerate(comps)},
            "expected": {c: self.expected.mean(axis=0)[i].tolist() for i, c in enumerate(comps)},
            "p_at_least": {str(k): self.p_at_least(k).tolist() for k in THRESHOLDS},
            "target_spread": {k: v.tolist() for k, v in spread.items()},
            "cells_per_second": _finite_or_none(self.cells_per_second),
            "replicates_per_second": _finite_or_none(self.replicates_per_second),
            "elapsed_s": self.elapsed_s,
        }
        if self.readout is not None:
            ro = self.readout
            qs = np.quantile(ro.samples, QUANTILES, axis=0, method="inverted_cdf")
            out["readout"] = {
                "name": ro.name,
                "units": ro.units,
                "spread": ro.spread,
                "mean": {r: ro.samples.mean(axis=0)[i].tolist() for i, r in enumerate(ro.rows)},
                "quantiles": {
                    r: {quantile_label(q): qs[k][i].tolist() for k, q in enumerate(QUANTILES)}
                    for i, r in enumerate(ro.rows)
                },
                "expected": {r: ro.expected.mean(axis=0)[i].tolist() for i, r in enumerate(ro.rows)},
            }
        if self.notes:
            out["notes"] = list(self.notes)
        if self.parameters:
            out["parameters"] = {
                k: {"min": float(v.min()), "median": float(np.median(v)), "max": float(v.max())}
                for k, v in self.parameters.items()
            }
        if self.histories:
            arrivals = self.histories["cumulative_arrivals"]
            first = self.histories["first_arrival_h"]
            reached = np.isfinite(first)
            all_d, passed_d = self.passer_diameter_um()
            out["cumulative_arrivals"] = {
                "mean": arrivals.mean(axis=0).tolist(),
                "quantiles": {
                    quantile_label(q): np.quantile(arrivals, q, axis=0, method="inverted_cdf").tolist()
                    for q in QUANTILES
                },
            }
            out["first_arrival_h"] = {
                "fraction_of_replicates_reached": float(reached.mean()),
                "quantiles": {
                    quantile_label(q): _finite_or_none(np.quantile(first, q, method="inverted_cdf")) for q in QUANTILES
                },
            }
            out["lung_passes_per_cell"] = float(self.histories["lung_passes_per_cell"].mean())
            out["first_pass_lung_fraction"] = _finite_or_none(self.first_pass_lung_fraction())
            out["circulating_h_per_cell"] = float(self.histories["circulating_h_per_cell"].mean())
            out["diameter_um"] = {"all_cells": all_d, "passed_lung": _finite_or_none(passed_d)}
        return out

    def summary(self) -> str:
        """What was sampled, and the target's mean at the last time."""
        last = self.target_counts()[:, -1].mean()
        return (
            f"{self.scenario.name}: {self.n_cells:,} cells x {self.replicates} replicates ({self.method}), "
            f"target {self.target} mean {format_cells(last)} cells at {self.times_h[-1]:g} h, seed {self.seed}"
        )


def monte_carlo(
    scenario: Scenario,
    n_cells: int | None = None,
    replicates: int = 100,
    seed: int | None = None,
    method: str = "per_cell",
    uncertainty: bool | str = False,
    progress: Callable[[int], None] | None = None,
    allow_long: bool = False,
    readout: str = "cells",
) -> MonteCarloResult:
    """Sample cell counts, histories and their spread.

    Parameters
    ----------
    scenario : Scenario
        From :meth:`biodist.Scenario.load`; its ``heterogeneity`` chooses the
        homogeneous or the size-resolved chain.
    n_cells : int, optional
        Cells per replicate; default: the scenario's dose (rounded).
    replicates : int
        Independent runs (virtual subjects with ``uncertainty=True``).
    seed : int, optional
        Seed of ``numpy.random.SeedSequence``; ``None`` draws fresh entropy
        (recorded in the result so the run can be repeated).
    method : {"per_cell", "aggregated"}
        ``"per_cell"`` walks every cell and records histories (numba);
        ``"aggregated"`` samples the counts exactly at a cost independent of the number of cells.
    uncertainty : bool or "ranges"
        Each replicate is a virtual subject that draws its parameters: the cell product's calibrated keys from
        its shipped posterior (``configs/posteriors/``) where one applies, every other uncertain key from the
        declared ``[uncertainty]`` tables of the scenario, its species and its product. ``"ranges"``: the
        declared tables only (the calibration's priors).
    progress : callable, optional
        Called with the number of cells just finished (per-cell method).
    allow_long : bool
        Run even when the estimate (said before the run starts) exceeds two minutes; a run that would not
        fit in memory is refused regardless.
    readout : str
        What an assay would count besides the cells (``"bli"``, ``"label"``, ``"dna"``, ``"111In"``...):
        :attr:`MonteCarloResult.readout`. Tracers are sampled one unit per cell on their own chain:
        exact mean, and a spread that is exact when the tracer never divides, else an upper bound.

    Returns
    -------
    MonteCarloResult

    Raises
    ------
    ConfigError
        With the estimate, when the run would be too long (and not allowed) or too large.
    """
    samples = sample(scenario, n_cells, replicates, seed, method, uncertainty, progress, allow_long, readout)
    return MonteCarloResult.from_samples(samples)
