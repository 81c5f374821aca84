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
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .cells import half_life_to_rate
from .physiology import LUNG, Species
from .scenario import Scenario

__all__ = [
    "ARTERIAL",
    "CLEARED",
    "DEPOT",
    "ENGRAFTED",
    "VENOUS",
    "CirculationModel",
    "Lodging",
    "arterial_split",
    "compile_model",
]

VENOUS = "venous_blood"
ARTERIAL = "arterial_blood"
CLEARED = "cleared"
DEPOT = "depot"
ENGRAFTED = "engrafted"


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
    """Per-pass lodging of one kind of cell: the lung's pass fraction and each systemic bed's retention.

    ``size_resolved`` marks lodging computed from a diameter (the size model),
    which then also holds for the unselected cells of an intra-arterial first
    pass; homogeneous lodging describes cells that passed the lungs, so an
    intra-arterial first pass uses the territory's configured retention instead.
    """

    lung_pass: float
    retention: Mapping[str, float]
    size_resolved: bool = False

    @classmethod
    def from_cell(cls, scenario: Scenario) -> Lodging:
        """The homogeneous lodging written in the cell-product config."""
        cell = scenario.cell
        return cls(cell.lung_pass_fraction, {o: cell.retention(o) for o in scenario.species.systemic_organs})


def split_through_beds(
    species: Species, shares: Mapping[str, float], retention: Mapping[str, float]
) -> dict[str, float]:
    """Where cells sent into systemic beds (``shares`` summing to 1) end one pass.

    Outflow of organs with ``drains_to`` (gut, spleen) crosses that organ's bed
    (the liver) before venous blood.

    Returns
    -------
    dict of str to float
        Probability of lodging in each systemic organ, and of returning to
        venous blood (key ``venous_blood``); the values sum to 1.
    """
    split = dict.fromkeys(species.systemic_organs, 0.0)
    split[VENOUS] = 0.0
    for organ, share in shares.items():
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


def arterial_split(species: Species, retention: Mapping[str, float]) -> dict[str, float]:
    """Where one cell leaving arterial blood ends its pass: the beds by fraction of cardiac output."""
    return split_through_beds(species, {o: species.flow_fraction(o) for o in species.systemic_organs}, retention)


def _with_injury(lodging: Lodging, target: str, factor: float) -> Lodging:
    """Multiply the target's lodging probability by ``factor`` (capped at 1)."""
    if factor == 1.0:
        return lodging
    if target == LUNG:
        return replace(lodging, lung_pass=1.0 - np.minimum(1.0, (1.0 - lodging.lung_pass) * factor))
    retention = dict(lodging.retention)
    retention[target] = np.minimum(1.0, retention[target] * factor)
    return replace(lodging, retention=retention)


def _entry(scenario: Scenario, species: Species, lodging: Lodging, names: tuple[str, ...]) -> dict[str, Any]:
    """Where one administered viable cell is right after administration: state → probability."""
    entry: dict[str, Any] = {}
    if scenario.route == "iv":
        entry[VENOUS] = 1.0
    elif scenario.route == "intra_arterial":
        territory = scenario.routes.territories[scenario.target]
        flows = {b: species.flow_fraction(b) for b in territory.beds}
        total = sum(flows.values())
        shares = {b: (f / total if total > 0 else 1.0 / len(flows)) for b, f in flows.items()}
        retention = dict(lodging.retention)
        if not lodging.size_resolved:
            retention.update(dict.fromkeys(territory.beds, territory.first_pass_retention))
            retention = _with_injury(
                replace(lodging, retention=retention), scenario.target, scenario.target_injury
            ).retention
        entry = split_through_beds(species, shares, retention)
    else:  # direct
        depot = scenario.routes.depots[scenario.target]
        entry = {
            CLEARED: depot.immediate_loss_fraction,
            VENOUS: depot.immediate_venous_fraction,
            ENGRAFTED: depot.engrafted_fraction,
            DEPOT: depot.depot_fraction,
        }
    return entry


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
    species, cell = scenario.effective_species(), scenario.cell
    lodging = Lodging.from_cell(scenario) if lodging is None else lodging
    lodging = _with_injury(lodging, scenario.target, scenario.target_injury)
    organs = species.systemic_organs
    direct = scenario.route == "direct"
    names = (VENOUS, ARTERIAL, LUNG, *organs, *((DEPOT, ENGRAFTED) if direct else ()), CLEARED)
    idx = {name: i for i, name in enumerate(names)}
    moves: list[tuple[int, int, float]] = []  # (from, to, rate), assembled into Q once below

    def flow(src: str, dst: str, rate: float) -> None:
        moves.append((idx[src], idx[dst], rate))

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
    if direct:
        depot = scenario.routes.depots[scenario.target]
        rates["depot_leak_per_h"] = depot.leak_per_h
        rates["depot_death_per_h"] = half_life_to_rate(depot.depot_half_life_h)
        rates["engrafted_clearance_per_h"] = half_life_to_rate(depot.engrafted_half_life_h)
        flow(DEPOT, VENOUS, rates["depot_leak_per_h"])
        flow(DEPOT, CLEARED, rates["depot_death_per_h"])
        flow(ENGRAFTED, CLEARED, rates["engrafted_clearance_per_h"])

    viable = scenario.dose_cells * cell.viable_fraction
    placed = _entry(scenario, species, lodging, names)
    # Parameters may be arrays (a batch of sweep points): every quantity broadcasts over that leading shape.
    n = len(names)
    batch = np.broadcast_shapes(
        *(np.shape(r) for _, _, r in moves),
        *(np.shape(v) for v in placed.values()),
        np.shape(viable),
        np.shape(scenario.dose_cells),
    )
    q = np.zeros((*batch, n, n))
    for src, dst, rate in moves:
        q[..., dst, src] += rate
        q[..., src, src] -= rate
    entry = np.zeros((*batch, n))
    for state, prob in placed.items():
        entry[..., idx[state]] += viable * prob
    entry[..., idx[CLEARED]] += scenario.dose_cells - viable
    if scenario.infusion_h > 0.0:
        initial, input_rate = np.zeros_like(entry), entry / scenario.infusion_h
    else:
        initial, input_rate = entry, np.zeros_like(entry)

    # first pass: lodging before a cell's second visit to venous blood (entry, then one circuit)
    venous_share = placed.get(VENOUS, 0.0)
    first_pass = {LUNG: venous_share * (1.0 - p_pass)} | {
        o: placed.get(o, 0.0) + venous_share * p_pass * split[o] for o in organs
    }
    if direct:
        first_pass[scenario.target] += placed[DEPOT] + placed[ENGRAFTED]
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
