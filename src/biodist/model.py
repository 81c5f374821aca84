"""Compile a scenario into the linear circulation model.

Compartments (in this order): ``venous_blood``, ``arterial_blood``, ``lung``,
each systemic organ in species-file order with ``rest`` last, and ``cleared``.
Cells are independent, so expected counts obey ``dx/dt = Q x + b(t)`` with a
constant generator ``Q`` (1/h) and an infusion input ``b`` (cells/h).

Transitions (rates in 1/h; CO in L/h, volumes in L):

* venous blood → lung bed at ``CO / V_venous``: lodges in the lung with
  probability ``1 - p_pass``, else reaches arterial blood;
* arterial blood → systemic beds at ``CO / V_arterial``, organ ``i`` taking
  the share ``f_i`` (fraction of CO); the cell lodges with the bed's per-pass
  retention ``E_i``, else leaves it; outflow of gut and spleen (``drains_to``)
  crosses the liver's bed, where it may lodge, before venous blood;
* lung-lodged cells: released into arterial blood at ``lung_release_per_h``,
  cleared at ``ln 2 / lung_half_life_h``; cells lodged elsewhere are cleared at
  ``ln 2 / lodged_half_life_h``; circulating cells at
  ``ln 2 / circulating_half_life_h``.

Transit through a bed is taken as instantaneous (seconds against hours).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .cells import half_life_to_rate
from .physiology import LUNG, Species
from .scenario import Scenario

__all__ = [
    "ARTERIAL",
    "CLEARED",
    "VENOUS",
    "CirculationModel",
    "Lodging",
    "arterial_split",
    "compile_model",
]

VENOUS = "venous_blood"
ARTERIAL = "arterial_blood"
CLEARED = "cleared"


@dataclass(frozen=True)
class CirculationModel:
    """The linear model of one scenario.

    Attributes
    ----------
    compartments : tuple of str
        State labels.
    generator : ndarray, shape (n, n)
        ``Q`` with ``Q[j, i]`` the rate (1/h) from ``i`` to ``j``; columns sum to 0.
    initial : ndarray, shape (n,)
        Cells at time 0 (a bolus; the non-viable part of the dose is in ``cleared``).
    input_rate : ndarray, shape (n,)
        Cells/h entering each compartment during the infusion.
    infusion_h : float
        Infusion duration (h); 0 for a bolus.
    dose_cells : float
        Cells administered in total.
    first_pass : dict of str to float
        Fraction of the viable cells lodging in each organ on their first
        transit (lung, then one pass through the systemic beds).
    organ_mass_g : dict of str to float
        Mass of each organ (g), for counts per gram.
    target : str
        Organ of interest.
    """

    compartments: tuple[str, ...]
    generator: np.ndarray
    initial: np.ndarray
    input_rate: np.ndarray
    infusion_h: float
    dose_cells: float
    first_pass: dict[str, float]
    organ_mass_g: dict[str, float]
    target: str
    rates: dict[str, float] = field(default_factory=dict)

    def index(self, name: str) -> int:
        """Position of a compartment."""
        return self.compartments.index(name)

    def administered(self, t_h: float | np.ndarray) -> float | np.ndarray:
        """Cells administered by time ``t_h`` (h)."""
        if self.infusion_h == 0.0:
            return np.full_like(np.asarray(t_h, dtype=float), self.dose_cells)
        return self.dose_cells * np.clip(np.asarray(t_h, dtype=float) / self.infusion_h, 0.0, 1.0)


@dataclass(frozen=True)
class Lodging:
    """Per-pass lodging of one kind of cell: the lung's pass fraction and each systemic bed's retention."""

    lung_pass: float
    retention: Mapping[str, float]

    @classmethod
    def from_cell(cls, scenario: Scenario) -> Lodging:
        """The homogeneous lodging written in the cell-product config."""
        cell = scenario.cell
        return cls(cell.lung_pass_fraction, {o: cell.retention(o) for o in scenario.species.systemic_organs})


def arterial_split(species: Species, retention: Mapping[str, float]) -> dict[str, float]:
    """Where one cell leaving arterial blood ends its pass through the systemic beds.

    Parameters
    ----------
    species : Species
        Flows and the portal routing.
    retention : mapping of str to float
        Per-pass lodging probability of every systemic bed.

    Returns
    -------
    dict of str to float
        Probability of lodging in each systemic organ, and of returning to
        venous blood (key ``venous_blood``); the values sum to 1.
    """
    split = dict.fromkeys(species.systemic_organs, 0.0)
    split[VENOUS] = 0.0
    for organ in species.systemic_organs:
        share = species.flow_fraction(organ)
        retained = retention[organ]
        split[organ] += share * retained
        passed = share * (1.0 - retained)
        downstream = species.drains_to(organ)
        if downstream is not None:
            caught = retention[downstream]
            split[downstream] += passed * caught
            passed *= 1.0 - caught
        split[VENOUS] += passed
    return split


def compile_model(scenario: Scenario, lodging: Lodging | None = None) -> CirculationModel:
    """Build the generator, the initial state and the infusion input.

    Parameters
    ----------
    scenario : Scenario
        A resolved scenario (see :func:`biodist.load_scenario`).
    lodging : Lodging, optional
        Per-pass lodging probabilities; default: those of the cell-product
        config (the homogeneous model).

    Returns
    -------
    CirculationModel
    """
    species, cell = scenario.species, scenario.cell
    lodging = Lodging.from_cell(scenario) if lodging is None else lodging
    organs = species.systemic_organs
    names = (VENOUS, ARTERIAL, LUNG, *organs, CLEARED)
    idx = {name: i for i, name in enumerate(names)}
    q = np.zeros((len(names), len(names)))

    def flow(src: str, dst: str, rate: float) -> None:
        q[idx[dst], idx[src]] += rate
        q[idx[src], idx[src]] -= rate

    rates = {
        "venous_to_lung_per_h": species.cardiac_output_l_per_h / species.venous_volume_l,
        "arterial_to_beds_per_h": species.cardiac_output_l_per_h / species.arterial_volume_l,
        "circulating_clearance_per_h": half_life_to_rate(cell.circulating_half_life_h),
        "lung_clearance_per_h": half_life_to_rate(cell.lung_half_life_h),
        "lung_release_per_h": cell.lung_release_per_h,
        "lodged_clearance_per_h": half_life_to_rate(cell.lodged_half_life_h),
    }
    p_pass = lodging.lung_pass
    k_v, k_a = rates["venous_to_lung_per_h"], rates["arterial_to_beds_per_h"]
    flow(VENOUS, LUNG, k_v * (1.0 - p_pass))
    flow(VENOUS, ARTERIAL, k_v * p_pass)
    split = arterial_split(species, lodging.retention)
    for dst, prob in split.items():
        flow(ARTERIAL, dst, k_a * prob)
    for blood in (VENOUS, ARTERIAL):
        flow(blood, CLEARED, rates["circulating_clearance_per_h"])
    flow(LUNG, ARTERIAL, rates["lung_release_per_h"])
    flow(LUNG, CLEARED, rates["lung_clearance_per_h"])
    for organ in organs:
        flow(organ, CLEARED, rates["lodged_clearance_per_h"])

    viable = scenario.dose_cells * cell.viable_fraction
    dead = scenario.dose_cells - viable
    entry = np.zeros(len(names))
    entry[idx[VENOUS]] = viable
    entry[idx[CLEARED]] = dead
    if scenario.infusion_h > 0.0:
        initial, input_rate = np.zeros(len(names)), entry / scenario.infusion_h
    else:
        initial, input_rate = entry, np.zeros(len(names))

    first_pass = {LUNG: 1.0 - p_pass} | {o: p_pass * split[o] for o in organs}
    return CirculationModel(
        compartments=names,
        generator=q,
        initial=initial,
        input_rate=input_rate,
        infusion_h=scenario.infusion_h,
        dose_cells=scenario.dose_cells,
        first_pass=first_pass,
        organ_mass_g=species.organ_mass_g(),
        target=scenario.target,
        rates=rates,
    )


@dataclass(frozen=True)
class ModelClasses:
    """A population of cells as a mixture of classes, each its own linear chain.

    The homogeneous model is one class of weight 1. With size heterogeneity
    each class is a diameter (a quadrature node of the product's diameter
    distribution) whose lodging probabilities follow from the size-to-passage
    function; expected counts are the weighted sum over classes.

    Attributes
    ----------
    weights : ndarray, shape (K,)
        Fraction of cells in each class (sums to 1).
    diameters_um : ndarray, shape (K,)
        Diameter of each class (µm).
    models : tuple of CirculationModel
        One compiled chain per class, with the whole dose.
    """

    weights: np.ndarray
    diameters_um: np.ndarray
    models: tuple[CirculationModel, ...]

    @property
    def base(self) -> CirculationModel:
        """The first class's model (labels, dose, schedule: shared by all classes)."""
        return self.models[0]

    @property
    def first_pass(self) -> dict[str, float]:
        """Population first-pass fractions: the class-weighted mean."""
        pairs = list(zip(self.weights, self.models, strict=True))
        return {k: float(sum(w * m.first_pass[k] for w, m in pairs)) for k in self.base.first_pass}
