"""Hand-built oracles: rate matrices written from the raw TOML values, without biodist's model code.

Everything here reads the config files with :mod:`tomllib` and follows the circulation model
of ``DESIGN.md`` ("The circulation model", "Routes", and :mod:`biodist.model.label` for the
dead-cell states) step by step. Nothing is imported from :mod:`biodist.model` or
:mod:`biodist.config`, so a wrong compiler cannot make its own oracle agree with it.

The arterial split is computed differently from the package: as the absorption
probabilities of a small jump chain through the capillary beds (arterial blood → bed →
lodged, or → the next bed along ``drains_to``, or → venous blood), solved with
``numpy.linalg.solve``, rather than by a closed formula.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
SCENARIO = CONFIGS / "human_msc_iv.toml"
LN2 = math.log(2.0)

VENOUS, ARTERIAL, LUNG, CLEARED = "venous_blood", "arterial_blood", "lung", "cleared"
DEPOT, ENGRAFTED, REST = "depot", "engrafted", "rest"
LABEL_LIVER, LABEL_SPLEEN = "label_liver", "label_spleen"


def read(kind: str, name: str) -> dict:
    """The raw TOML table of a shipped config (``kind``: species, cells, routes)."""
    with open(CONFIGS / kind / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)


def rate(half_life_h: float) -> float:
    """First-order rate of a half-life: ln 2 / t½, and 0 for ``inf``."""
    return 0.0 if math.isinf(half_life_h) else LN2 / half_life_h


@dataclass
class Setup:
    """Raw config tables plus what the scenario says (route, target, factors)."""

    species: dict
    cell: dict
    routes: dict
    route: str = "iv"
    target: str = "knee"
    injury: float = 1.0
    perfusion: float = 1.0
    dose: float = 1e6
    overrides: dict = field(default_factory=dict)

    @classmethod
    def shipped(cls, species: str = "human", cell: str = "bm_msc", routes: str = "default", **kw) -> Setup:
        return cls(read("species", species), read("cells", cell), read("routes", routes), **kw)

    def with_overrides(self, values: dict) -> Setup:
        """Apply ``--set``-style dotted keys to the raw tables (``species.``, ``cell.``, ``routes.`` prefixes)."""
        out = copy.deepcopy(self)
        for key, value in values.items():
            head, _, rest = key.partition(".")
            table = {"species": out.species, "cell": out.cell, "routes": out.routes}[head]
            *path, last = rest.split(".")
            for part in path:
                table = table.setdefault(part, {})
            table[last] = value
        out.overrides = {**self.overrides, **values}
        return out

    def scenario_overrides(self) -> dict:
        """The same setup as overrides of the shipped default scenario file."""
        out = {
            "species": self.species["name"],
            "route": self.route,
            "target": self.target,
            "dose_cells": self.dose,
            "target_injury": self.injury,
            "target_perfusion": self.perfusion,
        }
        return out | self.overrides


# ---- physiology ------------------------------------------------------------------------------
def systemic(sp: dict) -> list[str]:
    """Systemic organs: every organ but the lung, in file order, and ``rest``."""
    return [o for o in sp["organs"] if o != LUNG] + [REST]


def flows(s: Setup) -> dict[str, float]:
    """Fractions of cardiac output, the target's scaled by the perfusion factor, ``rest`` the remainder."""
    f = {o: float(t["flow_fraction"]) for o, t in s.species["organs"].items() if o != LUNG}
    if s.target in f:
        f[s.target] *= s.perfusion
    f[REST] = 1.0 - sum(f.values())
    assert f[REST] >= -1e-12
    return f


def drains(sp: dict) -> dict[str, str | None]:
    return {o: (None if o == REST else sp["organs"][o].get("drains_to")) for o in systemic(sp)}


def transit_rates(sp: dict) -> tuple[float, float]:
    """(venous → lung, arterial → beds) in 1/h: cardiac output (L/h) over each blood volume (L)."""
    co = sp["cardiac_output_l_per_min"] * 60.0
    blood = sp["blood_volume_fraction_bw"] * sp["body_weight_kg"]
    arterial = blood * sp["arterial_blood_fraction"]
    return co / (blood - arterial), co / arterial


def retentions(s: Setup) -> dict[str, float]:
    """Per-pass retention of each systemic bed from ``retention_per_pass`` (``default`` for the others)."""
    table = s.cell["retention_per_pass"]
    out = {o: float(table.get(o, table["default"])) for o in systemic(s.species)}
    if s.target in out:
        out[s.target] = min(1.0, out[s.target] * s.injury)
    return out


def lung_pass(s: Setup) -> float:
    p = float(s.cell["lung_pass_fraction"])
    if s.target == LUNG:
        p = 1.0 - min(1.0, (1.0 - p) * s.injury)
    return p


def bed_absorption(sp: dict, shares: dict[str, float], retention: dict[str, float]) -> dict[str, float]:
    """Where cells sent into the beds with ``shares`` end one pass: absorption of a jump chain.

    Transient states: the beds. From bed ``o`` a cell lodges (absorbed in ``o``) with
    ``retention[o]``, else moves to the bed ``o`` drains to, or to venous blood. The absorption
    probabilities ``B = (I - T)^{-1} R`` are solved, then weighted by the entry shares.
    """
    beds = systemic(sp)
    to = drains(sp)
    n = len(beds)
    idx = {b: i for i, b in enumerate(beds)}
    t = np.zeros((n, n))  # transient → transient
    r = np.zeros((n, n + 1))  # transient → absorbed (lodged in bed j, or venous = column n)
    for b in beds:
        i = idx[b]
        r[i, i] = retention[b]
        if to[b] is None:
            r[i, n] += 1.0 - retention[b]
        else:
            t[i, idx[to[b]]] = 1.0 - retention[b]
    absorb = np.linalg.solve(np.eye(n) - t, r)
    start = np.array([shares.get(b, 0.0) for b in beds])
    end = start @ absorb
    return {b: float(end[idx[b]]) for b in beds} | {VENOUS: float(end[n])}


# ---- the cells' chain --------------------------------------------------------------------------
def cell_states(s: Setup) -> list[str]:
    depot = [DEPOT, ENGRAFTED] if s.route == "direct" else []
    return [VENOUS, ARTERIAL, LUNG, *systemic(s.species), *depot, CLEARED]


def entry(s: Setup, retention: dict[str, float] | None = None) -> dict[str, float]:
    """Where one viable cell is right after administration (DESIGN "Routes")."""
    if s.route == "iv":
        return {VENOUS: 1.0}
    if s.route == "intra_arterial":
        territory = s.routes["territories"][s.target]
        f = flows(s)
        total = sum(f[b] for b in territory["beds"])
        shares = {b: f[b] / total for b in territory["beds"]}
        if retention is None:  # homogeneous: the territory's own first-pass retention, the target's boosted once
            table = s.cell["retention_per_pass"]
            ret = {o: float(table.get(o, table["default"])) for o in systemic(s.species)}
            for b in territory["beds"]:
                ret[b] = float(territory["first_pass_retention"])
            if s.target in ret:
                ret[s.target] = min(1.0, ret[s.target] * s.injury)
        else:
            ret = dict(retention)
        return bed_absorption(s.species, shares, ret)
    depot = s.routes["depots"][s.target]
    loss, venous, engrafted = (
        depot["immediate_loss_fraction"],
        depot["immediate_venous_fraction"],
        depot["engrafted_fraction"],
    )
    return {CLEARED: loss, VENOUS: venous, ENGRAFTED: engrafted, DEPOT: 1.0 - loss - venous - engrafted}


def cell_moves(
    s: Setup, p_pass: float | None = None, retention: dict[str, float] | None = None
) -> dict[tuple[str, str], float]:
    """Transitions ``(from, to) → rate`` (1/h) of one cell, from the raw tables."""
    c = s.cell
    p = lung_pass(s) if p_pass is None else p_pass
    ret = retentions(s) if retention is None else retention
    k_v, k_a = transit_rates(s.species)
    f = flows(s)
    q: dict[tuple[str, str], float] = defaultdict(float)
    q[VENOUS, LUNG] += k_v * (1.0 - p)
    q[VENOUS, ARTERIAL] += k_v * p
    for dst, prob in bed_absorption(s.species, f, ret).items():
        q[ARTERIAL, dst] += k_a * prob
    for blood in (VENOUS, ARTERIAL):
        q[blood, CLEARED] += rate(c["circulating_half_life_h"])
    q[LUNG, ARTERIAL] += c["lung_release_per_h"]  # released cells leave through the pulmonary veins
    q[LUNG, CLEARED] += rate(c["lung_half_life_h"])
    release = c.get("release_per_h", {})
    to = drains(s.species)
    for organ in systemic(s.species):
        q[organ, CLEARED] += rate(c["lodged_half_life_h"])
        k = float(release.get(organ, release.get("default", 0.0)))  # released alive into the bed's outflow
        if to[organ] is None:
            q[organ, VENOUS] += k
        else:  # portal blood crosses the liver's bed first
            q[organ, to[organ]] += k * ret[to[organ]]
            q[organ, VENOUS] += k * (1.0 - ret[to[organ]])
    if s.route == "direct":
        d = s.routes["depots"][s.target]
        q[DEPOT, VENOUS] += d["leak_per_h"]
        q[DEPOT, CLEARED] += rate(d["depot_half_life_h"])
        q[ENGRAFTED, CLEARED] += rate(d["engrafted_half_life_h"])
    return dict(q)


def matrix(states: list[str], moves: dict[tuple[str, str], float]) -> np.ndarray:
    """``Q[j, i]`` = rate from ``i`` to ``j``; each column's diagonal makes it sum to zero."""
    idx = {name: i for i, name in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    for (src, dst), k in moves.items():
        q[idx[dst], idx[src]] += k
        q[idx[src], idx[src]] -= k
    return q


def cell_chain(s: Setup, **lodging) -> tuple[list[str], np.ndarray, np.ndarray]:
    """States, generator and bolus initial state (cells) of the cells' chain."""
    states = cell_states(s)
    viable = s.dose * s.cell["viable_fraction"]
    x0 = np.zeros(len(states))
    for state, prob in entry(s, lodging.get("retention")).items():
        x0[states.index(state)] += viable * prob
    x0[states.index(CLEARED)] += s.dose - viable
    return states, matrix(states, cell_moves(s, **lodging)), x0


# ---- the refined chain: where the label of dead cells goes ----------------------------------------
def label_chain(s: Setup) -> tuple[list[str], np.ndarray, np.ndarray]:
    """States, generator and initial state of the chain with a debris state per dying site.

    Death at a site sends the cell to ``debris_<site>``; debris is phagocytosed at
    ln 2 / debris t½ into the liver and the spleen in the species' ``liver_share``; cells
    cleared from blood go straight there. Non-viable cells start as lung debris (depot debris
    after a direct injection); cells lost at a direct injection start in the liver and spleen.
    """
    living = [x for x in cell_states(s) if x != CLEARED]
    dying = [x for x in living if x not in (VENOUS, ARTERIAL)]
    states = [*living, *(f"debris_{x}" for x in dying), LABEL_LIVER, LABEL_SPLEEN]
    share = s.species["label"]["liver_share"]
    res = {LABEL_LIVER: share, LABEL_SPLEEN: 1.0 - share}
    moves: dict[tuple[str, str], float] = defaultdict(float)
    for (src, dst), k in cell_moves(s).items():
        if dst != CLEARED:
            moves[src, dst] += k
        elif src in (VENOUS, ARTERIAL):
            for sink, frac in res.items():
                moves[src, sink] += k * frac
        else:
            moves[src, f"debris_{src}"] += k
    uptake = rate(s.species["label"]["debris_half_life_h"])
    for site in dying:
        for sink, frac in res.items():
            moves[f"debris_{site}", sink] += uptake * frac
    viable = s.dose * s.cell["viable_fraction"]
    x0 = np.zeros(len(states))
    for state, prob in entry(s).items():
        if state == CLEARED:  # reflux: lost at once, phagocytosed like blood-borne cells
            for sink, frac in res.items():
                x0[states.index(sink)] += viable * prob * frac
        else:
            x0[states.index(state)] += viable * prob
    x0[states.index(f"debris_{DEPOT}" if s.route == "direct" else f"debris_{LUNG}")] += s.dose - viable
    return states, matrix(states, dict(moves)), x0


def reorder(q: np.ndarray, states: list[str], order: tuple[str, ...] | list[str]) -> np.ndarray:
    """``q`` (on ``states``) permuted onto another order of the same states."""
    assert sorted(states) == sorted(order), (states, order)
    p = [states.index(name) for name in order]
    return q[np.ix_(p, p)] if q.ndim == 2 else q[p]


def reorder_rows(x: np.ndarray, states: list[str], order: tuple[str, ...] | list[str]) -> np.ndarray:
    """Rows of ``x`` (one per state of ``states``, e.g. states × times) permuted onto another order."""
    assert sorted(states) == sorted(order), (states, order)
    return x[[states.index(name) for name in order]]
