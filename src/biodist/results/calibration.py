"""A Bayesian calibration (:class:`CalibrationResult`): posterior draws, diagnostics, posterior-predictive checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .base import Result

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

__all__ = ["ESS_MIN", "R_HAT_MAX", "CalibrationResult"]

#: Convergence asked of every quantity: split R-hat below this ...
R_HAT_MAX = 1.01
#: ... and a bulk and tail effective sample size at least this.
ESS_MIN = 400
#: Central interval reported (5–95 %).
LEVEL = 0.9


@dataclass(frozen=True, repr=False)
class CalibrationResult(Result):
    """Posterior draws of the calibrated quantities, their diagnostics and each measurement's predictive check.

    Attributes
    ----------
    names : list of str
        The calibrated ``--set`` keys, then ``between_study_sd``.
    samples : ndarray, (walkers, draws, K)
        Posterior draws (natural scale) after the burn-in.
    prior : ndarray, (n, K)
        Draws of the prior.
    diagnostics : dict
        Per quantity: ``r_hat``, ``ess_bulk``, ``ess_tail``, ``autocorr_steps``.
    predictive : list of dict
        One row per measurement (fitted and held out): the observation, a new study's 5–95 % reading, ``inside``.
    info : dict
        Product, studies used and left out, settings, acceptance, seconds, evaluations, notes.
    """

    kind: ClassVar[str] = "calibrate"
    table_columns: ClassVar[tuple[str, ...]] = ("median", "q05", "q95", "prior_median", "prior_q05", "prior_q95")

    names: list[str]
    samples: np.ndarray
    prior: np.ndarray
    diagnostics: dict[str, dict[str, float]]
    predictive: list[dict[str, Any]]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def draws(self) -> np.ndarray:
        """All posterior draws, walkers pooled: (walkers × draws, K)."""
        return self.samples.reshape(-1, self.samples.shape[-1])

    def quantiles(self, q: float | list[float]) -> np.ndarray:
        """Posterior quantiles of each quantity."""
        return np.quantile(self.draws, q, axis=0)

    def table(self) -> list[dict[str, Any]]:
        """One row per quantity: posterior median and 5–95 %, the prior's, R-hat, ESS.

        ``width_vs_prior``: the posterior's 5–95 % width over the prior's (log scale): 1, the data say nothing.
        """
        post = self.quantiles([0.05, 0.5, 0.95])
        prior = np.quantile(self.prior, [0.05, 0.5, 0.95], axis=0)
        rows = []
        for k, name in enumerate(self.names):
            rows.append(
                {
                    "parameter": name,
                    "median": float(post[1, k]),
                    "q05": float(post[0, k]),
                    "q95": float(post[2, k]),
                    "prior_median": float(prior[1, k]),
                    "prior_q05": float(prior[0, k]),
                    "prior_q95": float(prior[2, k]),
                    "width_vs_prior": _width(post[:, k]) / _width(prior[:, k]),
                    **self.diagnostics.get(name, {}),
                }
            )
        return rows

    def correlations(self, top: int = 5) -> list[tuple[str, str, float]]:
        """The strongest posterior correlations (of the logarithms), strongest first."""
        c = np.corrcoef(np.log(self.draws), rowvar=False)
        pairs = [
            (self.names[i], self.names[j], float(c[i, j]))
            for i in range(len(self.names))
            for j in range(i + 1, len(self.names))
        ]
        return sorted(pairs, key=lambda p: -abs(p[2]))[:top]

    @property
    def converged(self) -> bool:
        """Every quantity has R-hat < 1.01 and bulk and tail ESS >= 400."""
        return all(
            d["r_hat"] < R_HAT_MAX and d["ess_bulk"] >= ESS_MIN and d["ess_tail"] >= ESS_MIN
            for d in self.diagnostics.values()
        )

    def coverage(self, held_out: bool | None = None) -> tuple[int, int]:
        """Measurements inside their 90 % posterior-predictive interval, of those checked (fitted, held out, all)."""
        rows = [r for r in self.predictive if held_out is None or r["held_out"] == held_out]
        return sum(bool(r["inside"]) for r in rows), len(rows)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object: table, correlations, diagnostics, predictive checks, info."""
        inside, n = self.coverage(False)
        return {
            "parameters": {r["parameter"]: {k: v for k, v in r.items() if k != "parameter"} for r in self.table()},
            "correlations": [{"a": a, "b": b, "r": r} for a, b, r in self.correlations()],
            "converged": self.converged,
            "coverage_90": {"inside": inside, "of": n},
            "predictive": self.predictive,
            **self.info,
        }

    def to_xarray(self) -> xr.Dataset:
        """Posterior medians, 5–95 % and the prior's, by parameter."""
        import xarray as xr

        rows = self.table()
        return xr.Dataset(
            {c: ("parameter", [r[c] for r in rows]) for c in self.table_columns},
            coords={"parameter": self.names},
        )

    def to_dataframe(self) -> Any:
        """One row per parameter: medians and 5–95 % of posterior and prior."""
        return self.to_xarray().to_dataframe().reset_index()

    def summary(self) -> str:
        """Posterior medians and 90 % intervals."""
        return "; ".join(f"{r['parameter']} {r['median']:.3g} [{r['q05']:.3g}, {r['q95']:.3g}]" for r in self.table())


def _width(q: np.ndarray) -> float:
    """Width of a 5–95 % interval on the log scale."""
    return float(np.log(q[2] / q[0]))
