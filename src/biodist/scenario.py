"""Scenarios: what is infused, into whom, by which route, reported when.

:class:`ScenarioFile` is the schema of a scenario TOML file (names of the
species and cell product, dose, route, report times). :class:`Scenario` is the
resolved, validated whole that the model compiles: the file plus the loaded
:class:`~biodist.physiology.Species` and :class:`~biodist.cells.CellProduct`.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ._validation import ConfigModel
from .cells import CellProduct
from .physiology import LUNG, Species
from .routes import RouteConfig
from .uncertainty import Distribution

__all__ = ["DEFAULT_HETEROGENEITY", "DEFAULT_TIMES_H", "Scenario", "ScenarioFile"]

#: Report times used when a scenario gives none (h).
DEFAULT_TIMES_H = (0.25, 1.0, 6.0, 24.0, 72.0, 168.0)
#: Default cell model: see the README, "Size heterogeneity", for why.
DEFAULT_HETEROGENEITY = "none"
#: Longest infusion accepted (min): one day.
MAX_INFUSION_MINUTES = 24 * 60.0


def _check_times(values: list[float] | tuple[float, ...]) -> tuple[float, ...]:
    if len(values) == 0:
        raise ValueError("give at least one report time (h)")
    for t in values:
        if not math.isfinite(t) or t < 0:
            raise ValueError(f"report times must be finite and >= 0 h (got {t})")
    return tuple(sorted(set(float(t) for t in values)))


class ScenarioFile(ConfigModel):
    """Schema of a scenario TOML file (see the README for every key)."""

    name: str = ""
    description: str = ""
    species: str
    cell: str
    routes: str = "default"
    route: Literal["iv", "intra_arterial", "direct"] = "iv"
    target: str
    target_injury: float = Field(default=1.0, ge=0.0, le=1e3)
    target_perfusion: float = Field(default=1.0, ge=0.0, le=1e3)
    dose_cells: float | None = Field(default=None, gt=0.0, le=1e15)
    dose_cells_per_kg: float | None = Field(default=None, gt=0.0, le=1e15)
    infusion_minutes: float = Field(default=0.0, ge=0.0, le=MAX_INFUSION_MINUTES)
    times_h: tuple[float, ...] = DEFAULT_TIMES_H
    heterogeneity: Literal["size", "none"] = DEFAULT_HETEROGENEITY
    uncertainty: dict[str, Distribution] = Field(default_factory=dict)

    @field_validator("times_h")
    @classmethod
    def _times(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        return _check_times(v)

    @model_validator(mode="after")
    def _one_dose(self) -> ScenarioFile:
        if (self.dose_cells is None) == (self.dose_cells_per_kg is None):
            raise ValueError(
                "dose_cells / dose_cells_per_kg: give exactly one of them "
                f"(got dose_cells = {self.dose_cells}, dose_cells_per_kg = {self.dose_cells_per_kg})"
            )
        return self


class Scenario(ConfigModel):
    """A resolved scenario, ready to compile.

    Attributes
    ----------
    name : str
        Label used in titles and records.
    species : Species
        Physiology.
    cell : CellProduct
        Cell product.
    routes : RouteConfig
        Route parameters (territories, depots).
    route : {"iv", "intra_arterial", "direct"}
        Route of administration.
    target : str
        Organ of interest (marked in tables, first in summaries).
    target_injury : float
        Homing factor on the target's per-pass lodging probability (capped at 1).
    target_perfusion : float
        Factor on the target's blood flow; the difference comes from ``rest``.
    dose_cells : float
        Cells infused (viable and not).
    infusion_minutes : float
        Duration of a constant-rate infusion (min); 0 is a bolus.
    times_h : tuple of float
        Report times (h), increasing.
    heterogeneity : {"none", "size"}
        ``"none"``: every cell lodges with the product's per-bed probabilities;
        ``"size"``: lodging follows each cell's diameter.
    uncertainty : dict of str to Distribution
        Distributions of uncertain parameters, keyed by ``--set`` key.
    sources : dict of str to str
        Files the scenario was read from (``scenario``, ``species``, ``cell``).
    """

    name: str = ""
    species: Species
    cell: CellProduct
    routes: RouteConfig = Field(default_factory=RouteConfig)
    route: Literal["iv", "intra_arterial", "direct"] = "iv"
    target: str
    target_injury: float = Field(default=1.0, ge=0.0, le=1e3)
    target_perfusion: float = Field(default=1.0, ge=0.0, le=1e3)
    dose_cells: float = Field(gt=0.0, le=1e15)
    infusion_minutes: float = Field(default=0.0, ge=0.0, le=MAX_INFUSION_MINUTES)
    times_h: tuple[float, ...] = DEFAULT_TIMES_H
    heterogeneity: Literal["size", "none"] = DEFAULT_HETEROGENEITY
    uncertainty: dict[str, Distribution] = Field(default_factory=dict)
    sources: dict[str, str] = Field(default_factory=dict)

    @field_validator("times_h")
    @classmethod
    def _times(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        return _check_times(v)

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        organs = self.species.organ_names
        if self.target not in organs:
            raise ValueError(
                f"target = {self.target!r}: not an organ of species {self.species.name!r}; allowed: {', '.join(organs)}"
            )
        problem = self.cell.retention_problem(self.species.systemic_organs)
        if problem is not None:
            raise ValueError(f"cell.{problem}")
        if self.route == "intra_arterial":
            territory = self.routes.territories.get(self.target)
            if territory is None:
                raise ValueError(
                    f"route = 'intra_arterial': no arterial territory for target {self.target!r}; "
                    f"targets with one: {', '.join(self.routes.territories) or 'none configured'}"
                )
            bad = [b for b in territory.beds if b not in self.species.systemic_organs]
            if bad:
                raise ValueError(f"routes.territories.{self.target}.beds: {bad[0]!r} is not a systemic organ")
        if self.route == "direct" and self.target not in self.routes.depots:
            raise ValueError(
                f"route = 'direct': target {self.target!r} has no injection depot; "
                f"targets with one: {', '.join(self.routes.depots) or 'none configured'}"
            )
        if self.target_perfusion != 1.0:
            if self.target == LUNG:
                raise ValueError("target_perfusion: the lung takes all venous return; leave it at 1 for the lung")
            self.effective_species()  # raises when rest would go negative
        return self

    def effective_species(self) -> Species:
        """The species with the target's flow scaled by ``target_perfusion`` (taken from or given to ``rest``)."""
        if self.target_perfusion == 1.0 or self.target == LUNG:
            return self.species
        old = self.species.flow_fraction(self.target)
        new = old * self.target_perfusion
        if new - old > self.species.rest_flow_fraction + 1e-12:
            raise ValueError(
                f"target_perfusion = {self.target_perfusion}: raises {self.target}'s flow fraction from {old:.4g} to "
                f"{new:.4g}, more than rest's {self.species.rest_flow_fraction:.4g}; rest must stay >= 0"
            )
        organs = dict(self.species.organs)
        organs[self.target] = organs[self.target].model_copy(update={"flow_fraction": new})
        return self.species.model_copy(update={"organs": organs})

    @property
    def infusion_h(self) -> float:
        """Infusion duration in hours (0 for a bolus)."""
        return self.infusion_minutes / 60.0

    def replace(self, **changes: object) -> Scenario:
        """A validated copy with some top-level fields changed."""
        data = {name: getattr(self, name) for name in type(self).model_fields}
        data.update(changes)
        return type(self).model_validate(data)
