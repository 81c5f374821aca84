"""Species physiology: organs, blood flows and volumes, and their checks.

Flow bookkeeping (see the README, "Model"): the lung receives the whole venous
return and is not part of the systemic sum. Every other organ has a fraction of
cardiac output; the liver's own entry is the hepatic artery only, and organs
whose ``drains_to`` names another organ (gut and spleen → liver, the portal
vein) send their outflow through that organ's bed. ``rest`` is not written in
the file: it is the remainder of the systemic flow (and of body weight) and
must come out ≥ 0.

References
----------
Brown RP, Delp MD, Lindstedt SL, Rhomberg LR, Beliles RP (1997). Physiological
parameter values for physiologically based pharmacokinetic models. Toxicol Ind
Health 13:407-484.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from .base import ConfigModel, checked_once
from .limits import MAX_RATE_PER_H, MIN_HALF_LIFE_H, NAME_PATTERN, RESERVED_ORGAN_NAMES
from .named import NamedConfig
from .uncertainty import Distribution

__all__ = ["LUNG", "REST", "LabelParams", "Organ", "Species"]

LUNG = "lung"
REST = "rest"
#: Organs the label model needs: phagocytosed label goes to them.
LABEL_ORGANS = ("liver", "spleen")

#: Tolerance for a systemic flow or volume sum that overshoots 1 by round-off.
_SUM_TOL = 1e-9


class Organ(ConfigModel):
    """One organ of a species.

    Attributes
    ----------
    flow_fraction : float
        Fraction of cardiac output reaching the organ's own arterial inlet
        (for the liver: the hepatic artery only). The lung takes all venous
        return; its entry may be omitted or must be 1.
    volume_fraction_bw : float
        Organ volume as a fraction of body weight (L/kg; a tissue density of
        1 kg/L is assumed when counts are reported per gram).
    drains_to : str or None
        Organ whose bed the outflow passes before venous blood (``"liver"``
        for gut and spleen: the portal vein). ``None``: straight to venous blood.
    capillary_diameter_um : float or None
        Effective capillary diameter of the bed (µm) for the size model;
        ``None``: the species' ``capillary_diameter_um``.
    """

    flow_fraction: float | None = Field(default=None, ge=0.0, le=1.0)
    volume_fraction_bw: float = Field(ge=0.0, le=1.0)
    drains_to: str | None = None
    capillary_diameter_um: float | None = Field(default=None, gt=0.0)


class LabelParams(ConfigModel):
    """Fate of a radiolabel after its cell dies (see :mod:`biodist.label`).

    Attributes
    ----------
    debris_half_life_h : float
        Half-life of dead cells' label at the site of death before macrophage uptake (h).
    liver_share : float
        Share of phagocytosed label taken up by the liver; the spleen takes the rest.
    """

    debris_half_life_h: float = Field(ge=MIN_HALF_LIFE_H, le=1e4)
    liver_share: float = Field(ge=0.0, le=1.0)


class Species(NamedConfig):
    """Physiology of one species.

    Attributes
    ----------
    name : str
        Short name (``"human"``, ``"rat"``, ``"mouse"``).
    body_weight_kg : float
        Reference body weight (kg).
    cardiac_output_l_per_min : float
        Cardiac output (L/min).
    blood_volume_fraction_bw : float
        Total blood volume as a fraction of body weight (L/kg).
    arterial_blood_fraction : float
        Fraction of the blood volume on the arterial side; the rest is venous.
    capillary_diameter_um : float
        Capillary diameter (µm) of beds without their own value (size model).
    capillary_log_sd : float
        Log-SD of pathway widths around a bed's capillary diameter: the width
        of the size-to-passage function (size model).
    organs : dict of str to Organ
        The organs; ``rest`` is derived, never given.
    bli_attenuation : dict of str to float
        Fraction of a viable cell's bioluminescence that reaches the camera from each organ, relative to the
        surface (the ``bli`` readout); organs not named see all of it (the default: no attenuation). Depends
        on the imaging set-up and tissue depth, so a study sets it (``--set species.bli_attenuation.lung=0.1``).
    uncertainty : dict of str to Distribution
        Declared distributions of this species' uncertain physiology, keyed like ``--set species.KEY``
        without the ``species.`` (``cardiac_output_l_per_min``, ``organs.knee.flow_fraction``).
    """

    _kind: ClassVar[str] = "species"

    name: str
    description: str = ""
    body_weight_kg: float = Field(gt=0.0, le=1e4)
    cardiac_output_l_per_min: float = Field(gt=0.0, le=1e3)
    blood_volume_fraction_bw: float = Field(gt=0.0, lt=1.0)
    arterial_blood_fraction: float = Field(gt=0.0, lt=1.0)
    capillary_diameter_um: float = Field(gt=0.0)
    capillary_log_sd: float = Field(gt=0.0)
    label: LabelParams
    organs: dict[str, Organ]
    bli_attenuation: dict[str, float] = Field(default_factory=dict)
    uncertainty: dict[str, Distribution] = Field(default_factory=dict)

    @model_validator(mode="after")
    @checked_once
    def _check_bookkeeping(self) -> Species:
        organs = self.organs
        for name in organs:
            if (
                name in RESERVED_ORGAN_NAMES - {REST}
                or name.startswith("debris_")
                or not re.fullmatch(NAME_PATTERN, name)
            ):
                raise ValueError(
                    f"organs.{name!r}: not a usable organ name; names are letters, digits, _ and - "
                    "(starting with a letter), "
                    f"and not one of the model's own ({', '.join(sorted(RESERVED_ORGAN_NAMES - {REST}))}, debris_*)"
                )
        if LUNG not in organs:
            raise ValueError(f"organs: no [organs.{LUNG}] table; the lung is required")
        for needed in LABEL_ORGANS:
            if needed not in organs:
                raise ValueError(
                    f"organs: no [organs.{needed}] table; the label model sends phagocytosed label to the liver and "
                    "the spleen, so both are required"
                )
        if REST in organs:
            raise ValueError(f"organs.{REST}: is derived as the remainder of flow and volume; remove it")
        for name, factor in self.bli_attenuation.items():
            if name not in (*organs, REST):
                raise ValueError(
                    f"bli_attenuation.{name}: not an organ of this species; allowed: {', '.join([*organs, REST])}"
                )
            if not 0.0 < factor <= 1.0:
                raise ValueError(
                    f"bli_attenuation.{name} = {factor!r}: the fraction of light that reaches the camera; "
                    "allowed: 0 < value <= 1"
                )
        lung_flow = organs[LUNG].flow_fraction
        if lung_flow is not None and lung_flow != 1.0:
            raise ValueError(
                f"organs.{LUNG}.flow_fraction = {lung_flow}: the lung takes all venous "
                "return; omit the key or set it to 1"
            )
        if organs[LUNG].drains_to is not None:
            raise ValueError(f"organs.{LUNG}.drains_to: the lung drains to arterial blood; remove the key")
        for name, organ in organs.items():
            if name == LUNG:
                continue
            if organ.flow_fraction is None:
                raise ValueError(f"organs.{name}.flow_fraction: is required (fraction of CO)")
            target = organ.drains_to
            if target is None:
                continue
            allowed = sorted(n for n, o in organs.items() if n not in (LUNG, name) and o.drains_to is None)
            if target not in allowed:
                raise ValueError(
                    f"organs.{name}.drains_to = {target!r}: must be a systemic organ that drains "
                    f"to venous blood itself; allowed: {', '.join(allowed)}"
                )
        flow_sum = sum(o.flow_fraction for n, o in organs.items() if n != LUNG)
        if flow_sum > 1.0 + _SUM_TOL:
            raise ValueError(
                f"organs.*.flow_fraction: systemic flow fractions sum to {flow_sum:.6g}, "
                f"leaving rest = {1.0 - flow_sum:.6g}; they must sum to at most 1 "
                "(the liver's entry is the hepatic artery only)"
            )
        for side, volume in (("venous", self.venous_volume_l), ("arterial", self.arterial_volume_l)):
            rate = self.cardiac_output_l_per_h / volume
            if not rate <= MAX_RATE_PER_H:
                raise ValueError(
                    f"cardiac_output_l_per_min = {self.cardiac_output_l_per_min:g}, body_weight_kg = "
                    f"{self.body_weight_kg:g}, blood_volume_fraction_bw = {self.blood_volume_fraction_bw:g}, "
                    f"arterial_blood_fraction = {self.arterial_blood_fraction:g}: the {side} blood turns over "
                    f"{rate:.3g} times an hour; at most {MAX_RATE_PER_H:g} /h can be resolved (a mouse: ~1.4e3 /h)"
                )
        vol_sum = sum(o.volume_fraction_bw for o in organs.values()) + self.blood_volume_fraction_bw
        if vol_sum > 1.0 + _SUM_TOL:
            raise ValueError(
                f"organs.*.volume_fraction_bw: organ and blood volumes sum to {vol_sum:.6g} of "
                "body weight, leaving rest < 0; they must sum to at most 1"
            )
        return self

    # ---- derived quantities -------------------------------------------------
    @cached_property  # organ names never change on a copy (--set cannot add tables), so the cache stays true
    def systemic_organs(self) -> tuple[str, ...]:
        """Systemic organs in file order, ``rest`` last."""
        return (*(n for n in self.organs if n != LUNG), REST)

    @property
    def organ_names(self) -> tuple[str, ...]:
        """All organs with a tissue compartment: lung first, then systemic, ``rest`` last."""
        return (LUNG, *self.systemic_organs)

    @property
    def rest_flow_fraction(self) -> float:
        """Systemic flow not assigned to a named organ (≥ 0)."""
        total = sum(o.flow_fraction for n, o in self.organs.items() if n != LUNG)
        return np.maximum(0.0, 1.0 - total)  # numpy: also elementwise for the batched sweep path

    @property
    def rest_volume_fraction_bw(self) -> float:
        """Body weight not assigned to a named organ or blood (≥ 0)."""
        total = sum(o.volume_fraction_bw for o in self.organs.values())
        return np.maximum(0.0, 1.0 - total - self.blood_volume_fraction_bw)

    def flow_fraction(self, organ: str) -> float:
        """Fraction of cardiac output of a systemic organ (``rest`` included)."""
        return self.flow_fractions()[organ]

    def flow_fractions(self) -> dict[str, float]:
        """Fraction of cardiac output of every systemic organ, ``rest`` included (do not modify the dict)."""
        return self._derived(
            "flows",
            lambda: {
                o: (self.rest_flow_fraction if o == REST else self.organs[o].flow_fraction)
                for o in self.systemic_organs
            },
        )

    def drains_to(self, organ: str) -> str | None:
        """The organ whose bed receives this organ's outflow, or ``None``."""
        return self._derived(
            "drains", lambda: {o: (None if o == REST else self.organs[o].drains_to) for o in self.systemic_organs}
        )[organ]

    def capillary_diameters_um(self) -> dict[str, float]:
        """Effective capillary diameter of every bed (µm), lung and ``rest`` included."""
        default = self.capillary_diameter_um
        out = {n: o.capillary_diameter_um or default for n, o in self.organs.items()}
        out[REST] = default
        return out

    def organ_mass_g(self) -> dict[str, float]:
        """Organ masses in grams (density 1 g/mL assumed), ``rest`` included."""
        grams = {n: o.volume_fraction_bw * self.body_weight_kg * 1e3 for n, o in self.organs.items()}
        grams[REST] = self.rest_volume_fraction_bw * self.body_weight_kg * 1e3
        return {n: grams[n] for n in self.organ_names}

    @property
    def cardiac_output_l_per_h(self) -> float:
        """Cardiac output in L/h."""
        return self.cardiac_output_l_per_min * 60.0

    @property
    def venous_volume_l(self) -> float:
        """Venous blood volume (L)."""
        return self.blood_volume_fraction_bw * self.body_weight_kg * (1.0 - self.arterial_blood_fraction)

    @property
    def arterial_volume_l(self) -> float:
        """Arterial blood volume (L)."""
        return self.blood_volume_fraction_bw * self.body_weight_kg * self.arterial_blood_fraction
