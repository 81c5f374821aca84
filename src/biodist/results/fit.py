"""Fitted parameters (:class:`FitResult`): estimates, 95 % intervals, correlations, what could not be identified."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .base import Result

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

__all__ = ["FitResult"]


@dataclass(frozen=True, repr=False)
class FitResult(Result):
    """Estimates, 95 % intervals, what could not be identified, and each measurement against the fit.

    ``data``: per measurement ``organ``, ``time_h``, ``measures``, ``observed_pct_dose`` and
    ``predicted_pct_dose`` (the model at the estimates).
    """

    kind: ClassVar[str] = "fit"
    table_columns: ClassVar[tuple[str, ...]] = ("estimate", "ci95_low", "ci95_high")

    params: list[str]
    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    correlation: np.ndarray
    residual_sd_log: float
    non_identifiable: list[str]
    n_data: int
    data: dict[str, list] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (an unbounded interval end is ``null``)."""
        return {
            "parameters": {
                p: {"estimate": float(e), "ci95": [float(lo), float(hi) if math.isfinite(hi) else None]}
                for p, e, lo, hi in zip(self.params, self.estimate, self.low, self.high, strict=True)
            },
            "residual_sd_log": self.residual_sd_log,
            "n_data": self.n_data,
            "non_identifiable": self.non_identifiable,
            "correlation": self.correlation.tolist(),
        } | ({"observed_vs_predicted": self.data} if self.data is not None else {})

    def to_xarray(self) -> xr.Dataset:
        """Estimates and intervals by parameter; the correlation matrix."""
        import xarray as xr

        return xr.Dataset(
            {
                "estimate": ("parameter", self.estimate),
                "ci95_low": ("parameter", self.low),
                "ci95_high": ("parameter", self.high),
                "correlation": (("parameter", "parameter_2"), self.correlation),
            },
            coords={"parameter": self.params, "parameter_2": self.params},
            attrs={"residual_sd_log": self.residual_sd_log, "n_data": self.n_data},
        )

    def to_dataframe(self) -> Any:
        """One row per parameter: ``parameter``, ``estimate``, ``ci95_low``, ``ci95_high``."""
        return self.to_xarray()[list(self.table_columns)].to_dataframe().reset_index()

    def summary(self) -> str:
        """The estimates."""
        return ", ".join(f"{p} = {e:.4g}" for p, e in zip(self.params, self.estimate, strict=True)) + (
            f" ({self.n_data} data)"
        )

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> FitResult:
        """Rebuild from :meth:`to_dict`."""
        params = list(saved["parameters"])
        est = np.array([saved["parameters"][p]["estimate"] for p in params])
        low = np.array([saved["parameters"][p]["ci95"][0] for p in params])
        high = np.array([saved["parameters"][p]["ci95"][1] or math.inf for p in params])
        return cls(
            params,
            est,
            low,
            high,
            np.asarray(saved["correlation"]),
            float(saved["residual_sd_log"]),
            list(saved["non_identifiable"]),
            int(saved["n_data"]),
            saved.get("observed_vs_predicted"),
        )
