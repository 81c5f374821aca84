"""Names of the model's states: the cells' compartments and the dead-cell states behind ``cleared``."""

from __future__ import annotations

from functools import lru_cache

from ..config import LUNG, Species

__all__ = [
    "ARTERIAL",
    "CLEARED",
    "DEPOT",
    "ENGRAFTED",
    "LABEL_LIVER",
    "LABEL_SPLEEN",
    "VENOUS",
    "cell_states",
    "debris",
    "dying_states",
    "held_at",
]

VENOUS = "venous_blood"
ARTERIAL = "arterial_blood"
CLEARED = "cleared"
DEPOT = "depot"
ENGRAFTED = "engrafted"
#: Label of dead cells taken up by the macrophages of the liver and the spleen.
LABEL_LIVER = "label_liver"
LABEL_SPLEEN = "label_spleen"
BLOOD = (VENOUS, ARTERIAL)


def held_at(rows: tuple[str, ...] | list[str], organ: str, target: str) -> list[int]:
    """Positions in ``rows`` of what an organ holds: its bed, and for the target also a direct injection's cells.

    A direct injection's depot and engrafted cells sit in the target; this is the one definition of "at the
    target" for tables, figures, Monte Carlo readouts and validation data.
    """
    names = (organ, DEPOT, ENGRAFTED) if organ == target else (organ,)
    return [i for i, r in enumerate(rows) if r in names]


@lru_cache(maxsize=256)
def _cell_states(systemic: tuple[str, ...], direct: bool) -> tuple[str, ...]:
    return (VENOUS, ARTERIAL, LUNG, *systemic, *((DEPOT, ENGRAFTED) if direct else ()), CLEARED)


def cell_states(species: Species, direct: bool) -> tuple[str, ...]:
    """The cells' compartments: blood, lung, systemic organs (``rest`` last), depot states, ``cleared``."""
    return _cell_states(species.systemic_organs, direct)


@lru_cache(maxsize=256)
def dying_states(states: tuple[str, ...]) -> tuple[str, ...]:
    """States where a cell can die and leave its label at the site: all but blood and ``cleared``."""
    return tuple(s for s in states if s not in (*BLOOD, CLEARED))


def debris(state: str) -> str:
    """The state of dead cells' label at the site where they died."""
    return f"debris_{state}"
