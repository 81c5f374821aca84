"""The result family: labelled arrays (xarray) first, tidy tables, JSON-ready dicts, short reprs.

Every result of biodist derives from :class:`Result`: ``to_xarray()`` is the labelled
form (named dimensions, units in attributes); ``to_dataframe()`` is its tidy table
(one row per coordinate combination); ``to_dict()`` is the ``--json`` object;
``to_record()``/``from_record()`` are what :func:`biodist.save` and :func:`biodist.load`
write and read. xarray and pandas are imported only when a table is asked for.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import xarray as xr

__all__ = ["BAND", "QUANTILES", "THRESHOLDS", "Result", "quantile_label"]

#: Quantiles reported over replicates.
QUANTILES = (0.05, 0.5, 0.95)
#: The band drawn and printed: the lowest and the highest of :data:`QUANTILES` (5–95 %).
BAND = (QUANTILES[0], QUANTILES[-1])
#: Counts k of the reported P(target count >= k).
THRESHOLDS = (1, 5, 10, 100)


def quantile_label(q: float) -> str:
    """``0.05`` → ``"0.05"`` (the JSON key of a quantile)."""
    return f"{q:g}"


def lists(mapping: Mapping[str, Any]) -> dict[str, list]:
    """Arrays of a mapping as JSON-ready lists."""
    return {k: np.asarray(v).tolist() for k, v in mapping.items()}


class Result:
    """Base of every result: subclasses define :meth:`to_xarray`, :meth:`to_dict` and :meth:`summary`."""

    #: The ``kind`` written in ``run.json``.
    kind: ClassVar[str] = ""
    #: Variables of :meth:`to_xarray` that make up :meth:`to_dataframe` (all, if empty).
    table_columns: ClassVar[Sequence[str]] = ()

    def to_xarray(self) -> xr.Dataset:
        """The result as a labelled :class:`xarray.Dataset`."""
        raise NotImplementedError

    def to_dataframe(self) -> pd.DataFrame:
        """Tidy table: one row per coordinate combination of :meth:`to_xarray` (absent combinations dropped)."""
        ds = self.to_xarray()
        names = list(self.table_columns) or list(ds.data_vars)
        frame = ds[names].to_dataframe().reset_index()
        return frame.dropna(subset=[names[0]]).reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (the ``--json`` object)."""
        raise NotImplementedError

    def summary(self) -> str:
        """One line saying what this result holds."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.summary()}>"

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(type(self).__name__)}</b> {html.escape(self.summary())}</p>"
