"""Measured against simulated (:class:`ValidationResult`): one row per published measurement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .base import Result

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import xarray as xr

__all__ = ["ValidationResult"]


@dataclass(frozen=True, repr=False)
class ValidationResult(Result):
    """One row per measurement.

    Each row has ``dataset, id, organ, quantity, time_h, measured, low, high, simulated, measures, method,
    criterion, pass, citation, note``.
    """

    kind: ClassVar[str] = "validate"

    rows: list[dict[str, Any]]

    @property
    def missed(self) -> list[str]:
        """Ids of the measurements the model missed."""
        return [r["id"] for r in self.rows if not r["pass"]]

    def to_dict(self) -> dict[str, Any]:
        """The ``validate --json`` object: ``results``, ``passed``, ``missed``."""
        return {"results": self.rows, "passed": len(self.rows) - len(self.missed), "missed": self.missed}

    def to_dataframe(self) -> pd.DataFrame:
        """One row per measurement (the columns of the class docstring)."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    def to_xarray(self) -> xr.Dataset:
        """The rows by measurement id."""
        import xarray as xr

        return xr.Dataset.from_dataframe(self.to_dataframe().set_index("id"))

    def summary(self) -> str:
        """How many passed."""
        return f"{len(self.rows)} published measurements, {len(self.rows) - len(self.missed)} pass"
