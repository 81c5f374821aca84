"""Result containers: tidy table, xarray, JSON record."""

from __future__ import annotations

import json

import numpy as np
import pytest

import biodist


def test_tidy_table(default_scenario):
    res = biodist.simulate(default_scenario)
    df = res.to_dataframe()
    assert len(df) == len(res.compartments) * len(res.times_h)
    lung = df[(df.compartment == "lung") & (df.time_h == 24)]
    assert lung.cells.item() == pytest.approx(res.cells("lung")[3])
    assert lung.fraction_of_dose.item() == pytest.approx(res.cells("lung")[3] / 1e6)
    mass_g = default_scenario.species.organ_mass_g()["lung"]
    assert lung.cells_per_g.item() == pytest.approx(res.cells("lung")[3] / mass_g)
    assert df[df.compartment == "venous_blood"].cells_per_g.isna().all()


def test_xarray(default_scenario):
    ds = biodist.simulate(default_scenario).to_xarray()
    assert ds["cells"].dims == ("compartment", "time_h")
    assert float(ds["cells"].sum("compartment").isel(time_h=-1)) == pytest.approx(1e6)
    assert ds["cells"].attrs["units"] == "cells"


def test_json_record_is_plain_json(default_scenario):
    rec = biodist.simulate(default_scenario).to_dict()
    again = json.loads(json.dumps(rec, allow_nan=False))
    assert again["units"]["times_h"] == "h"
    assert set(again["counts"]) == set(again["exposure_cell_h"])


def test_peak(default_scenario):
    res = biodist.simulate(default_scenario, times_h=np.array([0.25, 1.0, 100.0]))
    t, n = res.peak("brain")
    assert t in (0.25, 1.0)
    assert n == res.cells("brain").max()
