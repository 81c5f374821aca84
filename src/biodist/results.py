"""Labelled results: expected counts by compartment and time, tidy tables.

One column vocabulary everywhere: ``compartment``, ``time_h``, ``cells``,
``fraction_of_dose``, ``cells_per_g`` (organs only), ``exposure_cell_h``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .scenario import Scenario

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import xarray as xr

__all__ = ["SimulationResult"]


@dataclass(frozen=True)
class SimulationResult:
    """Expected counts of one scenario.

    Attributes
    ----------
    scenario : Scenario
        What was simulated.
    compartments : tuple of str
        Compartment labels (rows of ``counts``).
    times_h : ndarray, shape (T,)
        Report times (h).
    counts : ndarray, shape (C, T)
        Expected viable cells (``cleared``: cells no longer viable, including
        those non-viable at infusion).
    exposure_cell_h : ndarray, shape (C, T)
        Cell-hours accumulated by each report time.
    first_pass : dict of str to float
        Fraction of the viable cells lodging in each organ on first transit.
    organ_mass_g : dict of str to float
        Organ masses (g).
    solver : str
        Method used (``"exact"`` or ``"solve_ivp"``).
    label : dict of str to ndarray, optional
        Expected radiolabel per compartment (cell equivalents): viable cells plus
        dead cells' label not yet cleared, plus label phagocytosed by liver and spleen.
    """

    scenario: Scenario
    compartments: tuple[str, ...]
    times_h: np.ndarray
    counts: np.ndarray
    exposure_cell_h: np.ndarray
    first_pass: dict[str, float]
    organ_mass_g: dict[str, float]
    solver: str
    label: dict[str, np.ndarray] | None = None

    @property
    def dose_cells(self) -> float:
        """Cells administered."""
        return self.scenario.dose_cells

    @property
    def target(self) -> str:
        """Organ of interest."""
        return self.scenario.target

    def cells(self, compartment: str) -> np.ndarray:
        """Expected counts of one compartment at the report times."""
        return self.counts[self.compartments.index(compartment)]

    @property
    def fraction_of_dose(self) -> np.ndarray:
        """Counts divided by the dose, shape (C, T)."""
        return self.counts / self.dose_cells

    def cells_per_g(self) -> np.ndarray:
        """Counts per gram of organ, NaN for blood and ``cleared``, shape (C, T)."""
        mass = np.array([self.organ_mass_g.get(c, np.nan) for c in self.compartments])
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.counts / mass[:, None]

    def peak(self, compartment: str) -> tuple[float, float]:
        """Time (h) and expected count of the largest count over the report times."""
        row = self.cells(compartment)
        k = int(np.argmax(row))
        return float(self.times_h[k]), float(row[k])

    def to_dataframe(self) -> pd.DataFrame:
        """Tidy table: one row per compartment and report time."""
        import pandas as pd

        c, t = len(self.compartments), len(self.times_h)
        return pd.DataFrame(
            {
                "compartment": np.repeat(self.compartments, t),
                "time_h": np.tile(self.times_h, c),
                "cells": self.counts.ravel(),
                "fraction_of_dose": self.fraction_of_dose.ravel(),
                "cells_per_g": self.cells_per_g().ravel(),
                "exposure_cell_h": self.exposure_cell_h.ravel(),
            }
        )

    def to_xarray(self) -> xr.Dataset:
        """The counts as an :class:`xarray.Dataset` (needs the optional xarray)."""
        import xarray as xr

        coords = {"compartment": list(self.compartments), "time_h": self.times_h}
        dims = ("compartment", "time_h")
        return xr.Dataset(
            {
                "cells": (dims, self.counts, {"units": "cells"}),
                "fraction_of_dose": (dims, self.fraction_of_dose, {"units": "1"}),
                "exposure_cell_h": (dims, self.exposure_cell_h, {"units": "cell h"}),
            },
            coords=coords,
            attrs={"dose_cells": self.dose_cells, "target": self.target, "scenario": self.scenario.name},
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (the ``simulate --json`` object)."""
        return {
            "scenario": self.scenario.name,
            "species": self.scenario.species.name,
            "cell": self.scenario.cell.name,
            "route": self.scenario.route,
            "target": self.target,
            "dose_cells": self.dose_cells,
            "viable_dose_cells": self.dose_cells * self.scenario.cell.viable_fraction,
            "infusion_minutes": self.scenario.infusion_minutes,
            "times_h": self.times_h.tolist(),
            "counts": {c: self.counts[i].tolist() for i, c in enumerate(self.compartments)},
            "fraction_of_dose": {c: self.fraction_of_dose[i].tolist() for i, c in enumerate(self.compartments)},
            "exposure_cell_h": {c: self.exposure_cell_h[i].tolist() for i, c in enumerate(self.compartments)},
            **({"label": {c: np.asarray(v).tolist() for c, v in self.label.items()}} if self.label else {}),
            "first_pass": dict(self.first_pass),
            "solver": self.solver,
            "units": {
                "times_h": "h",
                "counts": "viable cells",
                "label": "cell equivalents of label (decay-corrected)",
                "exposure_cell_h": "cell h",
                "first_pass": "fraction",
            },
        }
