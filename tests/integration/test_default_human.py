"""The default human scenario against the figures the issue names."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import DEFAULT_SCENARIO

import biodist

FINE = np.concatenate([[0.0], np.geomspace(1e-4, 168, 4000)])


@pytest.fixture(scope="module")
def human():
    return biodist.load_scenario(DEFAULT_SCENARIO)


def test_lung_holds_the_dose_at_15_min(human):
    res = biodist.simulate(human, times_h=[0.25])
    viable = human.dose_cells * human.cell.viable_fraction
    assert res.cells("lung")[0] >= 0.95 * viable
    # the non-viable 5 % are counted as cleared from the start
    assert res.cells("lung")[0] + res.cells("cleared")[0] >= 0.95 * human.dose_cells


def test_first_pass_summary_numbers(human):
    res = biodist.simulate(human)
    assert res.first_pass["lung"] == pytest.approx(0.974)
    assert sum(v for k, v in res.first_pass.items() if k != "lung") < 0.026


@pytest.mark.xfail(
    strict=True,
    reason="known miss, see README 'How far to trust it': with the sourced defaults the human whole-brain peak "
    "is 30 cells per 1e6; the source articles' '5 or fewer' is a rat count (Turtzo 2015), which the rat model "
    "matches (5.1 at the peak). Strict: this test errors once the model meets the issue's figure.",
)
def test_brain_peak_at_most_20_cells(human):
    res = biodist.simulate(human, times_h=FINE)
    assert res.peak("brain")[1] <= 20


@pytest.mark.pinned
def test_brain_numbers_reported_in_readme(human):
    """The README quotes the brain's peak and 72-h counts: keep them true (to 2 significant digits)."""
    res = biodist.simulate(human, times_h=FINE)
    assert round(res.peak("brain")[1]) == 30
    at72 = biodist.simulate(human, times_h=[72.0]).cells("brain")[0]
    assert round(at72, 1) == 6.3
    rat = human.replace(species=biodist.load_scenario(DEFAULT_SCENARIO, {"species": "rat"}).species)
    res = biodist.simulate(rat, times_h=FINE)
    assert round(res.peak("brain")[1], 1) == 5.1
    assert round(biodist.simulate(rat, times_h=[72.0]).cells("brain")[0], 1) == 1.1
