"""Where the label goes: what imaging studies see, beside the viable cells the model follows.

Radiolabels (111In, 99mTc, 51Cr) stay with a cell while it lives. When it dies,
the label stays with the dead cell at the site of death for a while, then is
taken up by the macrophages of the liver and the spleen (the reticuloendothelial
system). The label model extends each compiled chain:

* every compartment where cells die (lung, each organ, the injection depot)
  gets a ``debris`` state; death sends the label there instead of ``cleared``;
* debris is phagocytosed at ``ln 2 / species.label.debris_half_life_h`` into
  ``label_liver`` and ``label_spleen`` in the species' ``liver_share`` ratio;
* cells cleared from blood hand their label straight to liver and spleen;
* cells non-viable at infusion are intact dead cells: their label starts in the
  lung's debris (they are as large as live cells and are trapped on first pass),
  or in the depot's after a direct injection; cells lost at a direct injection
  (reflux) hand their label to liver and spleen.

Label is decay-corrected and never leaves the body here; tracers that leave
cells (free 18F, 99mTc excreted by the kidneys) are not modelled, so label-based
measurements of those tracers are compared with that caveat.

References
----------
Eggenhofer E et al. (2012) Front Immunol 3:297 (51Cr of dead MSCs in the liver by
24 h; no viable MSCs outside the lung). Gholamrezanezhad A et al. (2011) Nucl Med
Biol 38:961 (human 111In-MSC: label moves from lungs to liver and spleen over days).
"""

from __future__ import annotations

import numpy as np

from .cells import half_life_to_rate
from .heterogeneity import compile_classes
from .model import ARTERIAL, CLEARED, DEPOT, VENOUS, CirculationModel
from .ode import solve_linear
from .physiology import LUNG
from .scenario import Scenario

__all__ = ["label_counts", "label_model"]

LABEL_LIVER = "label_liver"
LABEL_SPLEEN = "label_spleen"


def label_model(model: CirculationModel, scenario: Scenario) -> CirculationModel:
    """The chain of ``model`` extended with debris and phagocytosed-label states (see the module docstring)."""
    params = scenario.species.label
    names = list(model.compartments)
    cleared = names.index(CLEARED)
    dying = [c for c in names if c not in (VENOUS, ARTERIAL, CLEARED)]
    new = [f"debris_{c}" for c in dying] + [LABEL_LIVER, LABEL_SPLEEN]
    labels = (*[c for c in names if c != CLEARED], *new)
    idx = {c: i for i, c in enumerate(labels)}
    n = len(labels)
    q = np.zeros((n, n))
    k_u = half_life_to_rate(params.debris_half_life_h)
    share = {LABEL_LIVER: params.liver_share, LABEL_SPLEEN: 1.0 - params.liver_share}
    g = model.generator
    for i, src in enumerate(names):
        if src == CLEARED:
            continue
        for j, dst in enumerate(names):
            rate = g[j, i]
            if i == j or rate == 0.0:
                continue
            if dst != CLEARED:
                targets = {dst: 1.0}
            elif src in (VENOUS, ARTERIAL):
                targets = share
            else:
                targets = {f"debris_{src}": 1.0}
            for t, frac in targets.items():
                q[idx[t], idx[src]] += rate * frac
                q[idx[src], idx[src]] -= rate * frac
    for c in dying:
        for t, frac in share.items():
            q[idx[t], idx[f"debris_{c}"]] += k_u * frac
            q[idx[f"debris_{c}"], idx[f"debris_{c}"]] -= k_u * frac

    site = f"debris_{DEPOT}" if DEPOT in names else f"debris_{LUNG}"  # where dead-on-arrival cells sit
    dead_share = 1.0 - scenario.cell.viable_fraction  # of the dose: non-viable at infusion

    def move(vec: np.ndarray) -> np.ndarray:
        out = np.zeros(n)
        for i, c in enumerate(names):
            if c != CLEARED:
                out[idx[c]] += vec[i]
        # what starts as 'cleared': non-viable cells (dead cells at the entry site) and, for a direct
        # injection, cells lost at once (reflux out of the site: their label goes to the liver and spleen)
        total = vec.sum()
        dead = min(vec[cleared], dead_share * total)
        out[idx[site]] += dead
        for t, frac in share.items():
            out[idx[t]] += (vec[cleared] - dead) * frac
        return out

    return CirculationModel(
        compartments=labels,
        generator=q,
        initial=move(model.initial),
        input_rate=move(model.input_rate),
        infusion_h=model.infusion_h,
        dose_cells=model.dose_cells,
        first_pass=model.first_pass,
        organ_mass_g=model.organ_mass_g,
        target=model.target,
    )


def label_counts(scenario: Scenario, times_h: np.ndarray) -> dict[str, np.ndarray]:
    """Expected label (in cell equivalents) per compartment of :func:`biodist.simulate`, at ``times_h``.

    An organ's label is its viable cells, its debris, and for liver and spleen the phagocytosed label;
    ``cleared`` has none (label stays in the body); blood's label is its circulating cells.
    """
    classes = compile_classes(scenario)
    times = np.asarray(times_h, dtype=float)
    total: dict[str, np.ndarray] = {}
    for weight, model in zip(classes.weights, classes.models, strict=True):
        lm = label_model(model, scenario)
        x = solve_linear(lm.generator, lm.initial, times, lm.input_rate, lm.infusion_h)
        state = dict(zip(lm.compartments, x, strict=True))
        for c in model.compartments:
            value = np.zeros(len(times)) if c == CLEARED else state[c] + state.get(f"debris_{c}", 0.0)
            if c == "liver":
                value = value + state[LABEL_LIVER]
            elif c == "spleen":
                value = value + state[LABEL_SPLEEN]
            total[c] = total.get(c, 0.0) + weight * value
    return total
