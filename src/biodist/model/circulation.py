"""The circulation as transitions of one cell: rates, where a cell enters, and its first pass.

Compartments of the cells' chain (in this order): ``venous_blood``, ``arterial_blood``,
``lung``, each systemic organ in species-file order with ``rest`` last, for a direct
injection ``depot`` and ``engrafted``, and ``cleared``. Cells are independent, so
expected counts obey ``dx/dt = Q x + b(t)`` with a constant generator ``Q`` (1/h).

Transitions (rates in 1/h; CO in L/h, volumes in L):

* venous blood → lung bed at ``CO / V_venous``: lodges in the lung with
  probability ``1 - p_pass``, else reaches arterial blood;
* arterial blood → systemic beds at ``CO / V_arterial``, organ ``i`` taking
  the share ``f_i`` (fraction of CO); the cell lodges with the bed's per-pass
  retention ``E_i``, else leaves it; outflow of gut and spleen (``drains_to``)
  crosses the liver's bed, where it may lodge, before venous blood;
* lung-lodged cells: released into arterial blood at ``lung_release_per_h``,
  cleared at ``ln 2 / lung_half_life_h``; cells lodged elsewhere are cleared at
  ``ln 2 / lodged_half_life_h`` and released alive at the bed's ``release_per_h``
  into its outflow (venous blood; from gut and spleen through the liver's bed);
  circulating cells at ``ln 2 / circulating_half_life_h``;
* a direct injection's depot leaks into venous blood and dies locally; engrafted
  cells die at their own rate.

Transit through a bed is taken as instantaneous (seconds against hours). Every
formula broadcasts, so parameters may be arrays (a batch of sweep points).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..config import LUNG, Scenario, Species, half_life_to_rate
from .compartments import ARTERIAL, CLEARED, DEPOT, ENGRAFTED, VENOUS, cell_states

__all__ = ["Circulation", "Lodging", "arterial_split", "circulation", "split_through_beds"]

#: One transition of a cell: (from, to, rate in 1/h).
Move = tuple[str, str, Any]


@dataclass(frozen=True)
class Lodging:
    """Per-pass lodging of one kind of cell: the lung's pass fraction and each systemic bed's retention.

    ``size_resolved`` marks lodging computed from a diameter (the size model),
    which then also holds for the unselected cells of an intra-arterial first
    pass; homogeneous lodging describes cells that passed the lungs, so an
    intra-arterial first pass uses the territory's configured retention instead.
    """

    lung_pass: Any
    retention: Mapping[str, Any]
    size_resolved: bool = False

    @classmethod
    def from_cell(cls, scenario: Scenario) -> Lodging:
        """The homogeneous lodging written in the cell-product config."""
        cell = scenario.cell
        return cls(cell.lung_pass_fraction, cell.retentions(scenario.species.systemic_organs))


@dataclass(frozen=True)
class Circulation:
    """The cells' chain of one class, as transitions (assembled into matrices by :mod:`biodist.model.chain`).

    Attributes
    ----------
    states : tuple of str
        The cells' compartments (``cleared`` last).
    moves : list of (from, to, rate)
        Every transition, in a fixed order; rates in 1/h (arrays for a batch).
    entry : dict of str to float
        Where one administered viable cell is right after administration (probabilities).
    viable_cells, dose_cells : float
        Viable cells administered, and all cells (the non-viable ones start ``cleared``).
    first_pass : dict of str to float
        Fraction of the viable cells lodging in each organ on their first transit.
    rates : dict of str to float
        The named rates (1/h).
    """

    states: tuple[str, ...]
    moves: list[Move]
    entry: dict[str, Any]
    viable_cells: Any
    dose_cells: Any
    first_pass: dict[str, Any]
    rates: dict[str, Any]


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
    return split_through_beds(species, species.flow_fractions(), retention)


def _release_moves(species: Species, release: Mapping[str, Any], retention: Mapping[str, Any]) -> list[Move]:
    """Cells released alive from systemic beds into their outflow.

    That is venous blood, or for a bed that drains into another (gut and spleen into the liver) that
    bed first, where they lodge with its retention.

    A scalar rate of 0 adds no move (the chain is then exactly the one without release); arrays (a batch of
    sweep points) always do.
    """
    moves: list[Move] = []
    for organ, rate in release.items():
        if np.ndim(rate) == 0 and rate == 0.0:
            continue
        downstream = species.drains_to(organ)
        if downstream is None:
            moves.append((organ, VENOUS, rate))
        else:
            caught = retention[downstream]
            moves += [(organ, downstream, rate * caught), (organ, VENOUS, rate * (1.0 - caught))]
    return moves


def _with_injury(lodging: Lodging, target: str, factor: float) -> Lodging:
    """Multiply the target's lodging probability by ``factor`` (capped at 1)."""
    if factor == 1.0:
        return lodging
    if target == LUNG:
        return replace(lodging, lung_pass=1.0 - np.minimum(1.0, (1.0 - lodging.lung_pass) * factor))
    retention = dict(lodging.retention)
    retention[target] = np.minimum(1.0, retention[target] * factor)
    return replace(lodging, retention=retention)


def _entry(scenario: Scenario, species: Species, lodging: Lodging) -> dict[str, Any]:
    """Where one administered viable cell is right after administration: state → probability."""
    if scenario.route == "iv":
        return {VENOUS: 1.0}
    if scenario.route == "intra_arterial":
        territory = scenario.routes.territories[scenario.target]
        flows = {b: species.flow_fraction(b) for b in territory.beds}
        total = sum(flows.values())
        shares = {b: (f / total if total > 0 else 1.0 / len(flows)) for b, f in flows.items()}
        retention = dict(lodging.retention)  # the target's injury is applied already (circulation())
        if not lodging.size_resolved:
            retention.update(dict.fromkeys(territory.beds, territory.first_pass_retention))
            if scenario.target in territory.beds:  # its injured value was just replaced: injure the new one
                retention = _with_injury(
                    replace(lodging, retention=retention), scenario.target, scenario.target_injury
                ).retention
        return split_through_beds(species, shares, retention)
    depot = scenario.routes.depots[scenario.target]  # direct
    return {
        CLEARED: depot.immediate_loss_fraction,
        VENOUS: depot.immediate_venous_fraction,
        ENGRAFTED: depot.engrafted_fraction,
        DEPOT: depot.depot_fraction,
    }


def circulation(scenario: Scenario, lodging: Lodging | None = None) -> Circulation:
    """The transitions, entry and first pass of one class of cells.

    Parameters
    ----------
    scenario : Scenario
        A resolved scenario (parameters may be arrays: see :func:`biodist.config.keys.assign`).
    lodging : Lodging, optional
        Per-pass lodging probabilities; default: those of the cell-product config (homogeneous model).

    Returns
    -------
    Circulation
    """
    species, cell = scenario.effective_species(), scenario.cell
    lodging = Lodging.from_cell(scenario) if lodging is None else lodging
    lodging = _with_injury(lodging, scenario.target, scenario.target_injury)
    organs = species.systemic_organs
    direct = scenario.route == "direct"
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
    moves: list[Move] = [(VENOUS, LUNG, k_v * (1.0 - p_pass)), (VENOUS, ARTERIAL, k_v * p_pass)]
    split = arterial_split(species, lodging.retention)
    moves += [(ARTERIAL, dst, k_a * prob) for dst, prob in split.items()]
    moves += [(blood, CLEARED, rates["circulating_clearance_per_h"]) for blood in (VENOUS, ARTERIAL)]
    moves += [(LUNG, ARTERIAL, rates["lung_release_per_h"]), (LUNG, CLEARED, rates["lung_clearance_per_h"])]
    moves += [(organ, CLEARED, rates["lodged_clearance_per_h"]) for organ in organs]
    moves += _release_moves(species, cell.releases(organs), lodging.retention)
    if direct:
        depot = scenario.routes.depots[scenario.target]
        rates["depot_leak_per_h"] = depot.leak_per_h
        rates["depot_death_per_h"] = half_life_to_rate(depot.depot_half_life_h)
        rates["engrafted_clearance_per_h"] = half_life_to_rate(depot.engrafted_half_life_h)
        moves += [
            (DEPOT, VENOUS, rates["depot_leak_per_h"]),
            (DEPOT, CLEARED, rates["depot_death_per_h"]),
            (ENGRAFTED, CLEARED, rates["engrafted_clearance_per_h"]),
        ]
    entry = _entry(scenario, species, lodging)
    # first pass: lodging before a cell's second visit to venous blood (entry, then one circuit)
    venous_share = entry.get(VENOUS, 0.0)
    first_pass = {LUNG: venous_share * (1.0 - p_pass)} | {
        o: entry.get(o, 0.0) + venous_share * p_pass * split[o] for o in organs
    }
    if direct:
        first_pass[scenario.target] += entry[DEPOT] + entry[ENGRAFTED]
    return Circulation(
        states=cell_states(species, direct),
        moves=moves,
        entry=entry,
        viable_cells=scenario.dose_cells * cell.viable_fraction,
        dose_cells=scenario.dose_cells,
        first_pass=first_pass,
        rates=rates,
    )
