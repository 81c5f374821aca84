"""SBML export: valid for libsbml, and libRoadRunner's trajectories match biodist's to 1e-6 of the dose."""

from __future__ import annotations

import libsbml
import numpy as np
import pytest
import roadrunner
from tests.conftest import DEFAULT_SCENARIO

import biodist
from biodist.cli import main
from biodist.io.sbml import to_sbml

TIMES = [0.25, 0.5, 1.0, 6.0, 24.0, 72.0, 168.0]


@pytest.mark.parametrize(
    "over",
    [{}, {"infusion_minutes": 30}, {"route": "direct"}, {"route": "intra_arterial", "target": "heart"}],
    ids=["bolus", "infusion", "direct", "intra_arterial"],
)
def test_roadrunner_round_trip(over):
    sc = biodist.load_scenario(DEFAULT_SCENARIO, over)
    doc = libsbml.readSBMLFromString(to_sbml(sc))
    doc.checkConsistency()  # libsbml's full validation, units included
    errors = [doc.getError(i).getMessage() for i in range(doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR))]
    assert not errors
    rr = roadrunner.RoadRunner(to_sbml(sc))
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-8
    res = biodist.simulate(sc, times_h=TIMES)
    rr.timeCourseSelections = ["time", *res.compartments]  # species ids are biodist's compartment names
    out = np.asarray(rr.simulate(times=[0.0, *TIMES]))[1:, 1:].T
    assert np.abs(out - res.counts).max() <= 1e-6 * sc.dose_cells


def test_units_and_names():
    doc = libsbml.readSBMLFromString(to_sbml(biodist.load_scenario(DEFAULT_SCENARIO)))
    model = doc.getModel()
    assert model.getTimeUnits() == "hour"
    assert model.getSpecies("lung").getSubstanceUnits() == "cell"
    assert model.getParameter("k_venous_blood__lung").getUnits() == "per_hour"
    assert model.getSpecies("venous_blood").getInitialAmount() == pytest.approx(0.95e6)


def test_cli(tmp_path, capsys):
    out = tmp_path / "model.xml"
    assert main(["export-sbml", str(DEFAULT_SCENARIO), "-o", str(out), "--set", "infusion_minutes=20"]) == 0
    assert libsbml.readSBML(str(out)).getModel().getParameter("infusion_end_h").getValue() == pytest.approx(1 / 3)
    assert main(["export-sbml", str(DEFAULT_SCENARIO), "-o", str(out), "--set", "heterogeneity=size"]) == 2
    assert "heterogeneity = 'size'" in capsys.readouterr().err
