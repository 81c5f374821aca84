"""Cell products: size, viability, lung passage, per-bed retention and fates.

A product is one TOML file in ``configs/cells/``. All rates a user sees are
per hour; fates are given as half-lives (h), which become first-order rates
``ln 2 / half_life``; ``inf`` means "never".
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from .base import FloatPair, Infinite, checked_once
from .limits import MIN_HALF_LIFE_H
from .named import NamedConfig
from .uncertainty import Distribution

__all__ = ["DEFAULT_KEY", "CellProduct", "half_life_to_rate"]

#: Key of ``retention_per_pass`` used for organs without their own entry.
DEFAULT_KEY = "default"

_Fraction = Field(ge=0.0, le=1.0)
#: Fastest release of lodged cells accepted (1/h): as ``lung_release_per_h``.
MAX_RELEASE_PER_H = 1e3


class CellProduct(NamedConfig):
    """One therapeutic cell product.

    Attributes
    ----------
    name : str
        Human-readable name.
    viable_fraction : float
        Fraction of infused cells alive at infusion; the others are counted as
        ``cleared`` from the start (the model follows viable cells).
    diameter_um_mean, diameter_um_sd : float
        Diameter in suspension (µm): mean and standard deviation (log-normal).
    lung_pass_fraction : float
        Probability that a cell entering the lung bed passes it (per pass).
    lung_pass_fraction_range : tuple of float
        Published range of ``lung_pass_fraction`` (for sweeps and uncertainty).
    retention_per_pass : dict of str to float
        Probability of lodging on one pass through each systemic bed; the key
        ``default`` covers organs not listed (``rest`` included).
    lung_half_life_h : float
        Half-life of lung-lodged cells against death/clearance (h).
    lung_release_per_h : float
        First-order rate at which lung-lodged cells are released, alive, into
        arterial blood (1/h).
    release_per_h : dict of str to float
        First-order rate (1/h) at which cells lodged in each systemic bed are
        released, alive, into its outflow (venous blood; for gut and spleen the
        portal blood, which crosses the liver's bed first). Key ``default``
        covers organs not listed; no entry at all means 0 (no release).
    lodged_half_life_h : float
        Half-life of cells lodged in systemic beds (h).
    circulating_half_life_h : float
        Half-life of cells in blood against clearance (h).
    uncertainty : dict of str to Distribution
        Declared distributions of this product's uncertain parameters, keyed like ``--set cell.KEY``
        without the ``cell.`` (``lung_pass_fraction``, ``retention_per_pass.default``); virtual subjects
        (``mc --uncertainty``) draw them whatever the scenario.
    """

    _kind: ClassVar[str] = "cell"

    name: str
    description: str = ""
    viable_fraction: float = _Fraction
    diameter_um_mean: float = Field(gt=0.0, le=1e3)
    diameter_um_sd: float = Field(ge=0.0, le=1e3)
    lung_pass_fraction: float = _Fraction
    lung_pass_fraction_range: FloatPair
    retention_per_pass: dict[str, float]
    lung_half_life_h: float = Infinite(ge=MIN_HALF_LIFE_H)
    lung_release_per_h: float = Field(ge=0.0, le=MAX_RELEASE_PER_H)
    release_per_h: dict[str, float] = Field(default_factory=dict)
    lodged_half_life_h: float = Infinite(ge=MIN_HALF_LIFE_H)
    circulating_half_life_h: float = Infinite(ge=MIN_HALF_LIFE_H)
    uncertainty: dict[str, Distribution] = Field(default_factory=dict)

    @model_validator(mode="after")
    @checked_once
    def _check(self) -> CellProduct:
        low, high = self.lung_pass_fraction_range
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError(f"lung_pass_fraction_range = [{low}, {high}]: must satisfy 0 <= low <= high <= 1")
        for key, value in self.retention_per_pass.items():
            if not (0.0 <= value <= 1.0):
                raise ValueError(f"retention_per_pass.{key} = {value}: must be within [0, 1]")
        for key, value in self.release_per_h.items():
            if not (0.0 <= value <= MAX_RELEASE_PER_H):
                raise ValueError(f"release_per_h.{key} = {value}: must be within [0, {MAX_RELEASE_PER_H:g}] 1/h")
        return self

    def retention(self, organ: str) -> float:
        """Per-pass retention probability of a systemic bed.

        Raises
        ------
        KeyError
            When the organ has no entry and there is no ``default``.
        """
        if organ in self.retention_per_pass:
            return self.retention_per_pass[organ]
        return self.retention_per_pass[DEFAULT_KEY]

    def retentions(self, organs: tuple[str, ...]) -> dict[str, float]:
        """:meth:`retention` of each organ (do not modify the dict)."""
        return self._derived(("retention", organs), lambda: {o: self.retention(o) for o in organs})

    def release(self, organ: str) -> float:
        """Release rate (1/h) of cells lodged in a systemic bed: its own entry, else ``default``, else 0."""
        return self.release_per_h.get(organ, self.release_per_h.get(DEFAULT_KEY, 0.0))

    def releases(self, organs: tuple[str, ...]) -> dict[str, float]:
        """:meth:`release` of each organ (do not modify the dict)."""
        return self._derived(("release", organs), lambda: {o: self.release(o) for o in organs})

    def retention_problem(self, organs: tuple[str, ...]) -> str | None:
        """Why ``retention_per_pass`` or ``release_per_h`` does not fit these systemic organs, or ``None``."""
        unknown = [k for k in self.retention_per_pass if k != DEFAULT_KEY and k not in organs]
        missing = (
            [] if DEFAULT_KEY in self.retention_per_pass else [o for o in organs if o not in self.retention_per_pass]
        )
        stray = [k for k in self.release_per_h if k != DEFAULT_KEY and k not in organs]
        if unknown:
            what = f"retention_per_pass.{unknown[0]}: not a systemic organ of this species"
        elif missing:
            what = f"retention_per_pass: no entry for {', '.join(missing)} and no '{DEFAULT_KEY}'"
        elif stray:
            what = f"release_per_h.{stray[0]}: not a systemic organ of this species (the lung has lung_release_per_h)"
        else:
            return None
        return f"{what}; allowed keys: {', '.join(organs)}, {DEFAULT_KEY}"


def half_life_to_rate(half_life_h: float) -> float:
    """First-order rate (1/h) for a half-life (h); ``inf`` gives 0."""
    if isinstance(half_life_h, np.ndarray) and half_life_h.ndim:  # an array (batched sweeps): elementwise
        with np.errstate(divide="ignore"):
            return np.where(np.isinf(half_life_h), 0.0, math.log(2.0) / np.asarray(half_life_h))
    if math.isinf(half_life_h):
        return 0.0
    return math.log(2.0) / half_life_h
