"""Readouts: observation matrices that turn the chain's state into what is asked for.

A readout is a matrix ``O`` (rows × states of the refined chain): the quantity is
``O x(t)``. Because every readout is linear in the state, one solution of the chain
gives all of them, and each stays exact.

* ``cells`` — viable cells per compartment; ``cleared`` is the sum of all dead states.
  It is also the exact lumping of the refined chain into the cells' chain: dead states
  never come back to life, so merging them loses nothing a cell count can see.
* ``label`` — the label per compartment (cell equivalents): an organ's viable cells and
  its debris, plus for liver and spleen the phagocytosed label; blood's label is its
  circulating cells; ``cleared`` holds none (label stays in the body).
* ``bli`` — viable cells as bioluminescence sees them (luciferase light needs ATP, so only living
  cells shine): the ``cells`` rows where cells live; a species' ``bli_attenuation`` (none by default)
  scales each organ's row (applied by :attr:`biodist.model.CompiledModel.readouts`).
* ``target`` — cells at the target: its bed, plus the depot and engrafted cells of a
  direct injection.

A readout that can be computed from the cells' chain alone (``cells``, ``target``) has a
``lumped`` matrix on that chain's states, so a solver asked only for those can solve
the smaller chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .compartments import CLEARED, DEPOT, ENGRAFTED, LABEL_LIVER, LABEL_SPLEEN, debris

__all__ = ["Readout", "observation_matrix", "readouts"]


@dataclass(frozen=True)
class Readout:
    """One observation of the chain.

    Attributes
    ----------
    name : str
        ``"cells"``, ``"label"``, ``"target"``.
    rows : tuple of str
        What each row of the readout is (compartment names).
    matrix : ndarray, shape (k, n_states)
        Observation of the refined chain's state.
    lumped : ndarray, shape (k, n_cell_states), or None
        The same observation of the cells' chain, when it exists.
    units : str
        What the numbers count.
    """

    name: str
    rows: tuple[str, ...]
    matrix: np.ndarray
    lumped: np.ndarray | None
    units: str


def observation_matrix(rows: tuple[str, ...], states: tuple[str, ...], terms: dict[str, list[str]]) -> np.ndarray:
    """``O[r, s] = 1`` where row ``r`` adds up state ``s`` (``terms``: row → its states)."""
    idx = {s: i for i, s in enumerate(states)}
    out = np.zeros((len(rows), len(states)))
    for r, row in enumerate(rows):
        for state in terms.get(row, []):
            if state in idx:
                out[r, idx[state]] = 1.0
    return out


@lru_cache(maxsize=256)
def readouts(cell_states: tuple[str, ...], states: tuple[str, ...], target: str) -> dict[str, Readout]:
    """The readouts of a model whose cells' chain has ``cell_states`` and whose refined chain has ``states``.

    Cached: they depend on the model's structure, not on its parameters (treat the arrays as read-only).
    """
    living = [s for s in cell_states if s != CLEARED]
    dead = [s for s in states if s not in living]
    cells = {s: [s] for s in living} | {CLEARED: dead}
    label = {s: [s, debris(s)] for s in living}
    label.setdefault("liver", []).append(LABEL_LIVER)
    label.setdefault("spleen", []).append(LABEL_SPLEEN)
    at_target = [target, *(s for s in (DEPOT, ENGRAFTED) if s in cell_states)]
    identity = {s: [s] for s in cell_states}
    return {
        "cells": Readout(
            "cells", cell_states, observation_matrix(cell_states, states, cells), np.eye(len(cell_states)), "cells"
        ),
        "bli": Readout(
            "bli",
            tuple(living),
            observation_matrix(tuple(living), states, cells),
            observation_matrix(tuple(living), cell_states, identity),
            "viable cells as bioluminescence sees them (no attenuation)",
        ),
        "label": Readout(
            "label",
            cell_states,
            observation_matrix(cell_states, states, label),
            None,
            "cell equivalents of label (decay-corrected)",
        ),
        "target": Readout(
            "target",
            (target,),
            observation_matrix((target,), states, {target: [x for s in at_target for x in cells[s]]}),
            observation_matrix((target,), cell_states, {target: [x for s in at_target for x in identity[s]]}),
            "cells",
        ),
    }
