"""One model, one path: a simulate compiles the scenario once and solves each class's chain once."""

from __future__ import annotations

import numpy as np
import pytest

import biodist
import biodist.results.simulation as simulation_module
import biodist.solvers.expected as expected_module
from biodist.solvers import linear


@pytest.mark.parametrize(("heterogeneity", "classes"), [("none", 1), ("size", 48)])
def test_simulate_compiles_once_and_solves_once_per_class(monkeypatch, heterogeneity, classes):
    sc = biodist.Scenario.load("human_msc_iv", {"heterogeneity": heterogeneity})
    compiles, solves, decomposed = [], [], []
    real_compile, real_solve, real_decompose = simulation_module.compile_model, expected_module.solve, linear.decompose

    def count_compile(*args, **kwargs):
        compiles.append(1)
        return real_compile(*args, **kwargs)

    def count_solve(generator, *args, **kwargs):
        solves.append(np.shape(generator))
        return real_solve(generator, *args, **kwargs)

    def count_decompose(generator):
        decomposed.append(int(np.prod(np.shape(generator)[:-2])))
        return real_decompose(generator)

    monkeypatch.setattr(simulation_module, "compile_model", count_compile)
    monkeypatch.setattr(expected_module, "solve", count_solve)
    monkeypatch.setattr(linear, "decompose", count_decompose)
    result = biodist.simulate(sc)
    assert len(compiles) == 1
    assert len(solves) == 1 and solves[0][0] == classes  # one call: the classes as one stack
    assert sum(decomposed) == classes  # each class's generator decomposed once
    assert result.label is not None and result.exposure_cell_h is not None  # every view from that one solve
