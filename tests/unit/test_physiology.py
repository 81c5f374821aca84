"""The shipped species and cell configs obey the flow bookkeeping and carry sources."""

from __future__ import annotations

import re

import numpy as np
import pytest
from tests.conftest import CONFIGS, DEFAULT_SCENARIO, REQUIRED_ORGANS

import biodist
from biodist.config import available, read_toml

#: Every numeric line needs its own comment (a source or an ASSUMPTION), or sits right under a comment-only line.
NUMBER_LINE = re.compile(r"^\s*[a-z_]+\s*=\s*[-+0-9.\[]")
COMMENT_LINE = re.compile(r"^\s*#")


SPECIES = ["human", "rat", "mouse", "dog", "pig"]


@pytest.mark.parametrize("name", SPECIES)
def test_species_bookkeeping(name):
    sp = biodist.load_scenario(DEFAULT_SCENARIO, {"species": name}).species
    assert REQUIRED_ORGANS <= set(sp.organs)
    assert sp.rest_flow_fraction >= 0
    assert sp.rest_volume_fraction_bw >= 0
    assert sp.organs["gut"].drains_to == "liver"
    assert sp.organs["spleen"].drains_to == "liver"


@pytest.mark.parametrize("name", ["dog", "pig"])
@pytest.mark.parametrize(
    ("route", "target"),
    [
        ("iv", "knee"),
        ("iv", "heart"),
        ("intra_arterial", "heart"),
        ("intra_arterial", "brain"),
        ("intra_arterial", "knee"),
        ("direct", "heart"),
        ("direct", "knee"),
    ],
)
def test_large_animals_run_every_route(name, route, target):
    """Dog and pig (large-animal cardiac studies): every route and shipped target, with the whole dose accounted
    for at every time, non-negative counts and first pass <= 1."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"species": name, "route": route, "target": target})
    res = biodist.simulate(sc)
    total = res.counts.sum(axis=0)
    assert abs(total - sc.dose_cells).max() <= 1e-9 * sc.dose_cells
    assert (res.counts >= -1e-9 * sc.dose_cells).all()
    assert 0.0 <= sum(res.first_pass.values()) <= 1.0 + 1e-12
    label = np.sum(list(res.label.values()), axis=0)
    assert abs(label - sc.dose_cells).max() <= 1e-9 * sc.dose_cells  # label never leaves the body


def test_knee_flow_within_its_stated_range():
    for name in SPECIES:
        sp = biodist.load_scenario(DEFAULT_SCENARIO, {"species": name}).species
        assert 1e-4 <= sp.flow_fraction("knee") <= 1e-2


@pytest.mark.parametrize(
    "path", sorted((CONFIGS / "species").glob("*.toml")) + sorted((CONFIGS / "cells").glob("*.toml")), ids=str
)
def test_every_value_has_a_source_comment(path):
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if NUMBER_LINE.match(line):
            own = "#" in line
            above = i > 0 and COMMENT_LINE.match(lines[i - 1]) is not None
            assert own or above, f"{path.name}:{i + 1}: no source comment for {line.strip()!r}"


@pytest.mark.parametrize("name", ["bm_msc", "adipose_msc", "uc_msc", "spheroid_msc"])
def test_cell_products(name):
    cell = biodist.load_scenario(DEFAULT_SCENARIO, {"cell": name}).cell
    low, high = cell.lung_pass_fraction_range
    assert low <= cell.lung_pass_fraction <= high
    if name != "spheroid_msc":  # culture-expanded MSC: the source articles' range
        assert (low, high) == (0.015, 0.037)


def test_spheroid_pass_fraction_is_the_size_model_prediction():
    """The spheroid product's configured pass fraction is what the size model predicts for 12.6 um cells."""
    from biodist.model.size import calibrate_deformability, diameter_classes, pass_probability

    bm = biodist.load_scenario(DEFAULT_SCENARIO)
    sph = biodist.load_scenario(DEFAULT_SCENARIO, {"cell": "spheroid_msc"}).cell
    sp = bm.species
    lung_um = sp.capillary_diameters_um()["lung"]
    d, w = diameter_classes(bm.cell.diameter_um_mean, bm.cell.diameter_um_sd)
    phi = calibrate_deformability(d, w, lung_um, sp.capillary_log_sd, bm.cell.lung_pass_fraction)
    d2, w2 = diameter_classes(sph.diameter_um_mean, sph.diameter_um_sd)
    assert float(w2 @ pass_probability(d2, phi * lung_um, sp.capillary_log_sd)) == pytest.approx(
        sph.lung_pass_fraction, abs=0.005
    )


def test_listing():
    assert available("species") == ["dog", "human", "mouse", "pig", "rat"]
    assert {"bm_msc", "adipose_msc", "uc_msc", "spheroid_msc"} <= set(available("cells"))
    assert read_toml(CONFIGS / "human_msc_iv.toml")["cell"] == "bm_msc"
