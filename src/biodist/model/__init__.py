"""Scenario → one compiled model: linear chains (one per size class), compartments, first pass, readouts.

Imports only :mod:`biodist.config` below it.
"""

from __future__ import annotations

from .chain import Chain, assemble
from .circulation import Circulation, Lodging, arterial_split, split_through_beds
from .compartments import ARTERIAL, CLEARED, DEPOT, ENGRAFTED, LABEL_LIVER, LABEL_SPLEEN, VENOUS, held_at
from .compile import CompiledModel, compile_model
from .readouts import Readout

#: The name of the compiled model before issue 9.
CirculationModel = CompiledModel

__all__ = [
    "ARTERIAL",
    "CLEARED",
    "DEPOT",
    "ENGRAFTED",
    "LABEL_LIVER",
    "LABEL_SPLEEN",
    "VENOUS",
    "Chain",
    "Circulation",
    "CirculationModel",
    "CompiledModel",
    "Lodging",
    "Readout",
    "arterial_split",
    "assemble",
    "compile_model",
    "held_at",
    "split_through_beds",
]
