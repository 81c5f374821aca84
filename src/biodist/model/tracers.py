"""What an assay sees: the chain of a tracer (a radiolabel, donor DNA) carried by the cells.

The tracer's chain refines the label model's (:mod:`biodist.model.label`): while a cell lives, its
tracer moves with it; when it dies the tracer stays with the dead cell, then goes to the liver's
and spleen's macrophages. On top of that (:class:`biodist.config.tracer.Tracer`):

* living cells leak tracer into ``free_tracer`` at ``efflux_per_h`` (every living state alike);
* free tracer leaves blood at ``ln 2 / free_half_life_h``: the share ``free_uptake[o]`` into organ
  ``o`` (state ``taken_up_<o>``, kept), the rest ``excreted``;
* tracer in dead cells and debris is lost (``degraded``) at ``ln 2 / dead_half_life_h``; with
  ``dead_half_life_h = 0`` at once (a death sends it straight to ``degraded``);
* without decay correction every state in the body decays into ``decayed`` at the physical rate.

Every move is a transition of one unit of tracer, so what the readout counts plus what left the body
(``excreted``, ``decayed``, ``degraded``) is the dose at every time. With no efflux, no loss and decay
correction the chain is the label model's plus states that stay empty: the readout is the ``label``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..config import Scenario, half_life_to_rate
from ..config.tracer import Tracer
from ..errors import ConfigError
from .circulation import Circulation, Move
from .compartments import CLEARED, LABEL_LIVER, LABEL_SPLEEN, debris
from .label import label_states, with_label

__all__ = ["DECAYED", "DEGRADED", "EXCRETED", "FREE", "LEFT_BODY", "taken_up", "tracer_rows", "with_tracer"]

FREE = "free_tracer"
EXCRETED = "excreted"
DECAYED = "decayed"
DEGRADED = "degraded"
#: Where tracer that has left the body is counted (rows of a tracer readout after the organs and free tracer).
LEFT_BODY = (EXCRETED, DECAYED, DEGRADED)


def taken_up(organ: str) -> str:
    """The state of free tracer taken up (and kept) by an organ."""
    return f"taken_up_{organ}"


@lru_cache(maxsize=256)
def tracer_states(cell_states: tuple[str, ...], uptake: tuple[str, ...]) -> tuple[str, ...]:
    """States of a tracer's chain: the label model's, free tracer, uptake pools, and the three sinks."""
    return (*label_states(cell_states), FREE, *(taken_up(o) for o in uptake), *LEFT_BODY)


def tracer_rows(cell_states: tuple[str, ...]) -> tuple[str, ...]:
    """Rows of a tracer readout: each compartment where cells live, free tracer, then what left the body."""
    return (*(s for s in cell_states if s != CLEARED), FREE, *LEFT_BODY)


def tracer_terms(cell_states: tuple[str, ...], uptake: tuple[str, ...]) -> dict[str, list[str]]:
    """Which states of the tracer's chain each row of its readout adds up."""
    terms = {s: [s, debris(s)] for s in cell_states if s != CLEARED}
    terms["liver"] = [*terms.get("liver", []), LABEL_LIVER]
    terms["spleen"] = [*terms.get("spleen", []), LABEL_SPLEEN]
    for organ in uptake:
        terms[organ] = [*terms.get(organ, []), taken_up(organ)]
    return terms | {FREE: [FREE]} | {s: [s] for s in LEFT_BODY}


def check_tracer(tracer: Tracer, organs: tuple[str, ...], source: str) -> None:
    """Refuse a tracer whose free tracer goes to an organ the species does not have."""
    for organ in tracer.free_uptake:
        if organ not in organs:
            raise ConfigError(
                f"{source}: free_uptake.{organ}: not an organ of this species; allowed: {', '.join(organs)}"
            )


def with_tracer(
    circ: Circulation, scenario: Scenario, tracer: Tracer
) -> tuple[tuple[str, ...], list[Move], dict[str, Any]]:
    """The tracer's chain of one class of cells: states, transitions (from, to, rate in 1/h), entry."""
    label, moves, entry = with_label(circ, scenario)
    living = [s for s in circ.states if s != CLEARED]
    dead = set(label) - set(living)
    if tracer.dead_half_life_h == 0.0:  # lost at once: what would enter a dead state is degraded
        moves = [(a, DEGRADED if b in dead else b, r) for a, b, r in moves if a not in dead]
        lost = sum(v for s, v in entry.items() if s in dead)
        entry = {s: v for s, v in entry.items() if s not in dead} | {DEGRADED: lost}
    else:
        k_dead = half_life_to_rate(tracer.dead_half_life_h)
        moves += [(d, DEGRADED, k_dead) for d in label if d in dead]
    moves += [(s, FREE, tracer.efflux_per_h) for s in living]
    k_free = half_life_to_rate(tracer.free_half_life_h)
    uptake = tuple(tracer.free_uptake)
    moves += [(FREE, taken_up(o), k_free * tracer.free_uptake[o]) for o in uptake]
    moves.append((FREE, EXCRETED, k_free * (1.0 - sum(tracer.free_uptake.values()))))
    states = tracer_states(circ.states, uptake)
    if not tracer.decay_corrected:
        k_decay = half_life_to_rate(tracer.physical_half_life_h)
        moves += [(s, DECAYED, k_decay) for s in states if s not in LEFT_BODY]
    return states, moves, entry
