"""Where the label goes: the dead-cell states behind ``cleared``, which imaging sees and cell counts do not.

Radiolabels (111In, 99mTc, 51Cr) stay with a cell while it lives. When it dies,
the label stays with the dead cell at the site of death for a while, then is
taken up by the macrophages of the liver and the spleen (the reticuloendothelial
system). The model's chain therefore refines ``cleared``:

* every compartment where cells die (lung, each organ, the injection depot)
  has a ``debris_<site>`` state; death sends the cell there;
* debris is phagocytosed at ``ln 2 / species.label.debris_half_life_h`` into
  ``label_liver`` and ``label_spleen`` in the species' ``liver_share`` ratio;
* cells cleared from blood go straight to ``label_liver`` and ``label_spleen``;
* cells non-viable at infusion are intact dead cells: they start in the lung's
  debris (they are as large as live cells and are trapped on first pass), or in
  the depot's after a direct injection; cells lost at a direct injection
  (reflux) start in ``label_liver`` and ``label_spleen``.

Every dead state stays dead, so the cells' chain is the exact lumping of this one
with all dead states merged into ``cleared`` (:mod:`biodist.model.readouts`).
Label is decay-corrected and never leaves the body here; what real tracers do
besides (leak from living cells, free tracer taken up or excreted, decay, DNA
degraded) is :mod:`biodist.model.tracers`, which builds on this chain.

References
----------
Eggenhofer E et al. (2012) Front Immunol 3:297 (51Cr of dead MSCs in the liver by
24 h; no viable MSCs outside the lung). Gholamrezanezhad A et al. (2011) Nucl Med
Biol 38:961 (human 111In-MSC: label moves from lungs to liver and spleen over days).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..config import LUNG, Scenario, half_life_to_rate
from .circulation import Circulation, Move
from .compartments import BLOOD, CLEARED, DEPOT, LABEL_LIVER, LABEL_SPLEEN, debris, dying_states

__all__ = ["label_states", "with_label"]


@lru_cache(maxsize=256)
def label_states(cell_states: tuple[str, ...]) -> tuple[str, ...]:
    """States of the refined chain: the living cells' states, a debris state per dying site, and the RES label."""
    living = tuple(s for s in cell_states if s != CLEARED)
    return (*living, *(debris(s) for s in dying_states(cell_states)), LABEL_LIVER, LABEL_SPLEEN)


def with_label(circ: Circulation, scenario: Scenario) -> tuple[tuple[str, ...], list[Move], dict[str, Any]]:
    """The refined chain of one class: its states, its transitions and its entry (cells per state at dosing).

    Returns
    -------
    states : tuple of str
    moves : list of (from, to, rate)
    entry : dict of str to float
        Cells placed in each state at administration (the whole dose, viable and not).
    """
    params = scenario.species.label
    share = {LABEL_LIVER: params.liver_share, LABEL_SPLEEN: 1.0 - params.liver_share}
    moves: list[Move] = []
    for src, dst, rate in circ.moves:
        if dst != CLEARED:
            moves.append((src, dst, rate))
        elif src in BLOOD:
            moves += [(src, res, rate * frac) for res, frac in share.items()]
        else:
            moves.append((src, debris(src), rate))
    k_uptake = half_life_to_rate(params.debris_half_life_h)
    for site in dying_states(circ.states):
        moves += [(debris(site), res, k_uptake * frac) for res, frac in share.items()]
    entry: dict[str, Any] = {s: circ.viable_cells * p for s, p in circ.entry.items() if s != CLEARED}
    dead_site = debris(DEPOT) if DEPOT in circ.states else debris(LUNG)
    entry[dead_site] = entry.get(dead_site, 0.0) + (circ.dose_cells - circ.viable_cells)
    lost = circ.viable_cells * circ.entry.get(CLEARED, 0.0)  # reflux at a direct injection
    for res, frac in share.items():
        entry[res] = entry.get(res, 0.0) + lost * frac
    return label_states(circ.states), moves, entry
