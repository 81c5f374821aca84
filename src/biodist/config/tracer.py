"""Tracers: what a radiolabel or donor DNA does besides following its cell (``configs/tracers/*.toml``).

A readout such as ``111In`` or ``dna`` counts what its assay sees (:mod:`biodist.model.tracers`). While
its cell lives a tracer moves with it and leaks out at ``efflux_per_h``; when the cell dies it stays
with the dead cell at the site of death (then goes to the liver's and spleen's macrophages, as the
species' ``label`` says) and is lost there at ``dead_half_life_h`` (DNA being degraded; ``inf`` for a
radiolabel, which stays); free tracer leaves blood at ``free_half_life_h``, a share taken up by named
organs (``free_uptake``), the rest excreted. Activity decays at the nuclide's physical half-life unless
the study corrected for it (``decay_corrected``).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, model_validator

from ..errors import ConfigError
from .base import Infinite, checked_once
from .files import available
from .limits import MIN_HALF_LIFE_H
from .named import NamedConfig

__all__ = ["BASIC_READOUTS", "Tracer", "assay_readouts", "check_readout", "readout_names"]

#: Readouts of the cells' chain and the label model: viable cells, bioluminescence (viable cells), the label,
#: the cells at the target.
BASIC_READOUTS = ("cells", "bli", "label", "target")


def assay_readouts(base: Path | None = None) -> tuple[str, ...]:
    """The readouts an assay can be (every one but ``target``, which is cells at one place)."""
    return tuple(r for r in readout_names(base) if r != "target")


def check_readout(name: str, base: Path | None = None) -> None:
    """Refuse, in one line listing the allowed names, a readout name that is not an assay's."""
    names = assay_readouts(base)
    if name not in names:
        raise ConfigError(f"--readout {name!r}: unknown; allowed: {', '.join(names)}")


def readout_names(base: Path | None = None) -> tuple[str, ...]:
    """Every readout name: the basic ones, then each tracer in ``configs/tracers/`` (``111In``, ``dna``, ...)."""
    tracers = [t for t in available("tracers", base) if t not in (*BASIC_READOUTS, "all")]  # a clash never shadows
    return (*BASIC_READOUTS, *tracers)


class Tracer(NamedConfig):
    """What one assay's signal does, beyond following its cell.

    Attributes
    ----------
    name, description : str
    physical_half_life_h : float
        Half-life of the nuclide (h); ``inf`` for DNA.
    decay_corrected : bool
        Whether the readout is corrected for physical decay (most studies report decay-corrected % of dose).
    efflux_per_h : float
        First-order leak of tracer out of living cells into blood (1/h).
    free_half_life_h : float
        Half-life of free tracer in blood against uptake and excretion (h).
    free_uptake : dict of str to float
        Share of the free tracer leaving blood that each organ takes up (and keeps); the rest is excreted.
    dead_half_life_h : float
        Half-life of the tracer in dead cells and their debris, wherever they are (h): DNA degraded;
        ``inf``: kept (a radiolabel); ``0``: lost at once (the readout then sees living cells only).
    """

    _kind: ClassVar[str] = "tracer"

    name: str
    description: str = ""
    physical_half_life_h: float = Infinite(ge=MIN_HALF_LIFE_H)
    decay_corrected: bool = True
    efflux_per_h: float = Field(ge=0.0, le=1e3)
    free_half_life_h: float = Infinite(ge=MIN_HALF_LIFE_H)
    free_uptake: dict[str, float] = Field(default_factory=dict)
    dead_half_life_h: float = Infinite(ge=0.0)

    @model_validator(mode="after")
    @checked_once
    def _check(self) -> Tracer:
        for organ, share in self.free_uptake.items():
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"free_uptake.{organ} = {share}: must be within [0, 1]")
        total = sum(self.free_uptake.values())
        if total > 1.0 + 1e-12:
            raise ValueError(f"free_uptake: the shares add up to {total:g}; at most 1 (the rest is excreted)")
        if 0.0 < self.dead_half_life_h < MIN_HALF_LIFE_H:
            raise ValueError(
                f"dead_half_life_h = {self.dead_half_life_h}: 0 (lost at once) or at least {MIN_HALF_LIFE_H:g} h"
            )
        return self
