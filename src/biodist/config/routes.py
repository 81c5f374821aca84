"""Routes of administration: where the cells enter, and their parameters.

* ``iv``: cells enter venous blood (bolus or constant-rate infusion).
* ``intra_arterial``: cells enter the artery feeding the target's territory
  (carotid → brain, coronary → heart, femoral → the leg's beds). They are split
  over the territory's beds by flow share and lodge there with the territory's
  first-pass retention (cells that have not been through the lungs: the
  unselected product); what passes drains to venous blood and meets the lungs.
* ``direct``: cells are placed in an injection depot of the target. At once a
  fraction is lost (reflux, needle track → ``cleared``), a fraction is washed
  into venous blood, and a fraction engrafts (a long-lived state); the rest sit
  in the depot, from which they leak into venous blood and die locally. Two
  states are needed because one decay rate cannot fit both ~15 % at a month and
  ~1.5 % at six months after intra-articular injection (Toupet 2013).

The parameters live in ``configs/routes/*.toml`` with their sources.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from .base import ConfigModel, Infinite, checked_once
from .limits import MIN_HALF_LIFE_H
from .named import NamedConfig

__all__ = ["ROUTES", "Depot", "RouteConfig", "Territory"]

#: Routes the model knows.
ROUTES = ("iv", "intra_arterial", "direct")


class Territory(ConfigModel):
    """The arterial territory of a target for ``intra_arterial`` delivery.

    Attributes
    ----------
    artery : str
        Name of the artery (for tables and titles).
    beds : list of str
        Systemic organs the artery feeds; the dose is split by their flow shares.
    first_pass_retention : float
        Fraction of the cells lodging in the territory on this first pass
        (homogeneous model; the size model computes its own per diameter).
    """

    artery: str
    beds: list[str] = Field(min_length=1)
    first_pass_retention: float = Field(ge=0.0, le=1.0)
    source: str = ""


class Depot(ConfigModel):
    """An injection depot of a target for ``direct`` delivery (fractions of the viable cells injected).

    Attributes
    ----------
    name : str
        The procedure (``"intra-articular"``, ``"intramyocardial"``).
    immediate_loss_fraction : float
        Lost at once (reflux, needle track): counted as ``cleared``.
    immediate_venous_fraction : float
        Washed into venous blood at injection (they then meet the lungs).
    engrafted_fraction : float
        Engraft at once: the long-lived state ``engrafted``.
    leak_per_h : float
        Rate at which depot cells leak, alive, into venous blood (1/h).
    depot_half_life_h : float
        Half-life of depot cells against local death (h).
    engrafted_half_life_h : float
        Half-life of engrafted cells (h); ``inf`` = persist.
    """

    name: str
    immediate_loss_fraction: float = Field(ge=0.0, le=1.0)
    immediate_venous_fraction: float = Field(ge=0.0, le=1.0)
    engrafted_fraction: float = Field(ge=0.0, le=1.0)
    leak_per_h: float = Field(ge=0.0, le=1e3)
    depot_half_life_h: float = Infinite(ge=MIN_HALF_LIFE_H)
    engrafted_half_life_h: float = Infinite(ge=MIN_HALF_LIFE_H)
    source: str = ""

    @model_validator(mode="after")
    @checked_once
    def _fractions(self) -> Depot:
        total = self.immediate_loss_fraction + self.immediate_venous_fraction + self.engrafted_fraction
        if total > 1.0 + 1e-12:
            raise ValueError(
                f"immediate_loss_fraction + immediate_venous_fraction + engrafted_fraction = {total:.6g}: "
                "must be at most 1 (the rest stays in the depot)"
            )
        return self

    @property
    def depot_fraction(self) -> float:
        """Fraction placed in the depot proper."""
        rest = 1.0 - self.immediate_loss_fraction - self.immediate_venous_fraction - self.engrafted_fraction
        return np.maximum(0.0, rest)  # numpy: also elementwise for the batched sweep path


class RouteConfig(NamedConfig):
    """Route parameters: intra-arterial territories and direct-injection depots, keyed by target."""

    _kind: ClassVar[str] = "routes"

    name: str = ""
    description: str = ""
    territories: dict[str, Territory] = Field(default_factory=dict)
    depots: dict[str, Depot] = Field(default_factory=dict)
