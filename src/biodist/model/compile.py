"""Compile a scenario, once, into the model every solver and study uses.

:func:`compile_model` turns a :class:`~biodist.config.Scenario` into a
:class:`CompiledModel`: one class of cells (homogeneous) or one per diameter class
(size model, with weights), each a linear chain with the dead-cell states of the label
model; the cells' chain of each class (its exact lumping); the first-pass fractions;
and the readouts (observation matrices). Solving the chain once gives every readout.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..config import Scenario
from ..config.tracer import BASIC_READOUTS, Tracer, readout_names
from ..errors import ConfigError
from .chain import Chain, assemble
from .circulation import Circulation, Lodging, circulation
from .compartments import CLEARED, DEPOT, ENGRAFTED
from .label import label_states, with_label
from .readouts import Readout, readouts
from .readouts import observation_matrix as _observe
from .size import DEFAULT_CLASSES, diameter_classes, size_lodging
from .tracers import check_tracer, tracer_rows, tracer_states, tracer_terms, with_tracer

__all__ = ["CompiledModel", "compile_model"]


@dataclass(frozen=True)
class CompiledModel:
    """The compiled model of one scenario.

    Attributes
    ----------
    scenario : Scenario
        What was compiled.
    circulations : tuple of Circulation
        The transitions of each class of cells.
    weights : ndarray, shape (K,)
        Fraction of cells in each class (sums to 1).
    diameters_um : ndarray, shape (K,)
        Diameter of each class (µm).

    The chains (:attr:`chains`, :attr:`cell_chains`) and :attr:`readouts` are built on first use.
    """

    scenario: Scenario
    circulations: tuple[Circulation, ...]
    weights: np.ndarray
    diameters_um: np.ndarray

    # ---- what every class shares ---------------------------------------------------
    @property
    def compartments(self) -> tuple[str, ...]:
        """The cells' compartments (rows of the ``cells`` readout)."""
        return self.circulations[0].states

    @property
    def n_classes(self) -> int:
        """Number of classes (1 for the homogeneous model)."""
        return len(self.circulations)

    @property
    def target(self) -> str:
        """Organ of interest."""
        return self.scenario.target

    @property
    def dose_cells(self) -> Any:
        """Cells administered in total."""
        return self.scenario.dose_cells

    @property
    def infusion_h(self) -> Any:
        """Infusion duration (h); 0 for a bolus."""
        return self.scenario.infusion_h

    @cached_property
    def organ_mass_g(self) -> dict[str, float]:
        """Mass of each organ (g), for counts per gram."""
        return self.scenario.effective_species().organ_mass_g()

    @cached_property
    def first_pass(self) -> dict[str, Any]:
        """Fraction of the viable cells lodging in each organ on their first transit (class-weighted)."""
        pairs = list(zip(self.weights, self.circulations, strict=True))
        if len(pairs) == 1:
            return dict(pairs[0][1].first_pass)
        return {k: float(sum(w * c.first_pass[k] for w, c in pairs)) for k in self.circulations[0].first_pass}

    @property
    def rates(self) -> dict[str, Any]:
        """Named rates (1/h) of the first class."""
        return self.circulations[0].rates

    def index(self, name: str) -> int:
        """Position of a compartment among :attr:`compartments`."""
        return self.compartments.index(name)

    # ---- chains and readouts -------------------------------------------------------
    @cached_property
    def cell_chains(self) -> tuple[Chain, ...]:
        """The cells' chain of each class: dead states merged into ``cleared`` (what the Monte Carlo walks)."""
        return tuple(self._cell_chain(c) for c in self.circulations)

    def _cell_chain(self, c: Circulation) -> Chain:
        entry = {s: c.viable_cells * p for s, p in c.entry.items()}
        entry[CLEARED] = entry.get(CLEARED, 0.0) + (c.dose_cells - c.viable_cells)
        return assemble(c.states, c.moves, entry, self.scenario.infusion_h)

    @cached_property
    def chains(self) -> tuple[Chain, ...]:
        """The refined chain of each class: the cells' chain with the label model's dead-cell states."""
        out = []
        for c in self.circulations:
            states, moves, entry = with_label(c, self.scenario)
            out.append(assemble(states, moves, entry, self.scenario.infusion_h))
        return tuple(out)

    @property
    def states(self) -> tuple[str, ...]:
        """States of the refined chain."""
        return label_states(self.compartments)

    @cached_property
    def readouts(self) -> dict[str, Readout]:
        """Observation matrices: ``cells``, ``label``, ``target`` (see :mod:`biodist.model.readouts`)."""
        views = readouts(self.compartments, self.states, self.target)
        attenuation = self.scenario.species.bli_attenuation
        if not attenuation:
            return views
        bli = views["bli"]
        inside = {DEPOT: self.target, ENGRAFTED: self.target}  # a direct injection's cells sit in the target
        seen = np.array([attenuation.get(inside.get(row, row), 1.0) for row in bli.rows])[:, None]
        units = "viable cells as bioluminescence sees them (attenuated per organ)"
        scaled = Readout("bli", bli.rows, seen * bli.matrix, seen * bli.lumped, units)
        return views | {"bli": scaled}  # a new dict: the cached one is shared by models of the same structure

    def tracer(self, name: str) -> tuple[tuple[Chain, ...], Readout]:
        """The chain of each class for a tracer readout (``"111In"``, ``"dna"``...) and its observation.

        The tracer is read from ``configs/tracers/NAME.toml`` (or the scenario's own ``tracers/`` folder).
        """
        cache = self.__dict__.setdefault("_tracers", {})
        if name not in cache:
            cache[name] = self._tracer(name)
        return cache[name]

    def _tracer(self, name: str) -> tuple[tuple[Chain, ...], Readout]:
        base = self.scenario.folder
        names = readout_names(base)
        if name not in names or name in BASIC_READOUTS:
            raise ConfigError(f"readout {name!r}: unknown; allowed: {', '.join(names)}")
        tracer = Tracer.load(name, base=base)
        check_tracer(tracer, self.scenario.species.organ_names, f"tracer {name!r}")
        chains = []
        for c in self.circulations:
            states, moves, entry = with_tracer(c, self.scenario, tracer)
            chains.append(assemble(states, moves, entry, self.scenario.infusion_h))
        rows = tracer_rows(self.compartments)
        states = tracer_states(self.compartments, tuple(tracer.free_uptake))
        matrix = _observe(rows, states, tracer_terms(self.compartments, tuple(tracer.free_uptake)))
        units = f"cell equivalents of {tracer.name}" + (" (decay-corrected)" if tracer.decay_corrected else "")
        return tuple(chains), Readout(name, rows, matrix, None, units)

    # ---- the single-chain view (one class) --------------------------------------------
    def _single(self) -> Chain:
        if self.n_classes != 1:
            raise ValueError(f"a mixture of {self.n_classes} diameter classes: see .cell_chains and .weights")
        return self.cell_chains[0]

    @property
    def generator(self) -> np.ndarray:
        """``Q`` of the cells' chain (1/h; ``Q[j, i]``: rate from ``i`` to ``j``), homogeneous model."""
        return self._single().generator

    @property
    def initial(self) -> np.ndarray:
        """Cells at time 0 in each compartment (a bolus; non-viable cells are ``cleared``)."""
        return self._single().initial

    @property
    def input_rate(self) -> np.ndarray:
        """Cells/h entering each compartment during an infusion."""
        return self._single().input_rate

    def administered(self, t_h: float | np.ndarray) -> np.ndarray:
        """Cells administered by time ``t_h`` (h)."""
        t = np.asarray(t_h, dtype=float)
        if np.all(self.infusion_h == 0.0):
            return np.full_like(t, self.dose_cells)
        return self.dose_cells * np.clip(t / self.infusion_h, 0.0, 1.0)


def compile_model(scenario: Scenario, n_classes: int = DEFAULT_CLASSES) -> CompiledModel:
    """Compile a scenario: one class of cells, or ``n_classes`` diameter classes with ``heterogeneity = "size"``.

    Parameters
    ----------
    scenario : Scenario
        A resolved scenario (see :meth:`biodist.Scenario.load`).
    n_classes : int
        Gauss–Hermite nodes of the diameter distribution for the size model.

    Returns
    -------
    CompiledModel

    Examples
    --------
    >>> model = compile_model(Scenario.load("human_msc_iv"))  # doctest: +SKIP
    >>> model.generator.shape, model.first_pass["lung"]  # doctest: +SKIP
    ((16, 16), 0.974)
    """
    cell = scenario.cell
    if scenario.heterogeneity == "none":
        return CompiledModel(scenario, (circulation(scenario),), np.array([1.0]), np.array([cell.diameter_um_mean]))
    diameters, weights = diameter_classes(cell.diameter_um_mean, cell.diameter_um_sd, n_classes)
    lodgings: list[Lodging] = size_lodging(scenario.effective_species(), cell, diameters, weights)
    return CompiledModel(scenario, tuple(circulation(scenario, lod) for lod in lodgings), weights, diameters)
