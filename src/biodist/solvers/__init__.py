"""Solvers: the linear solver (batched), expected counts with every readout, and the Monte Carlo samplers.

They take compiled models and return arrays; :mod:`biodist.results` labels them.
"""

from __future__ import annotations

from .expected import READOUTS, Expected, dense_times, expected_fractions, solve_model
from .linear import COND_MAX, METHODS, decompose, propagators, solve

__all__ = [
    "COND_MAX",
    "METHODS",
    "READOUTS",
    "Expected",
    "decompose",
    "dense_times",
    "expected_fractions",
    "propagators",
    "solve",
    "solve_model",
]
