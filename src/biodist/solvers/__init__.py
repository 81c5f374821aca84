"""Solvers: the linear solver (batched), expected counts with every readout, and the Monte Carlo samplers.

They take compiled models and return arrays; :mod:`biodist.results` labels them.
"""

from __future__ import annotations

from .decomposition import COND_MAX, Decomposition, decompose, levels
from .expected import READOUTS, Expected, dense_times, expected_fractions, solve_model
from .linear import METHODS, propagators, solve

__all__ = [
    "COND_MAX",
    "METHODS",
    "READOUTS",
    "Decomposition",
    "Expected",
    "decompose",
    "dense_times",
    "expected_fractions",
    "levels",
    "propagators",
    "solve",
    "solve_model",
]
