"""Fitting: interval coverage over synthetic datasets, and the identifiability warning."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from tests.conftest import DEFAULT_SCENARIO

import biodist
from biodist.studies.fit import NonIdentifiableWarning, fit, read_data

TIMES = np.array([1.0, 6.0, 24.0, 48.0, 72.0])
TRUTH = {"cell.lung_pass_fraction": 0.026, "cell.lung_half_life_h": 24.0}


def synthetic(rng: np.random.Generator, organs=("lung", "brain"), sd: float = 0.15) -> pd.DataFrame:
    res = biodist.simulate(biodist.load_scenario(DEFAULT_SCENARIO), times_h=TIMES, label=False)
    rows = [
        {"organ": o, "time_h": t, "pct_dose": 100 * v / 1e6 * float(np.exp(rng.normal(0.0, sd)))}
        for o in organs
        for t, v in zip(TIMES, res.cells(o), strict=True)
    ]
    return pd.DataFrame(rows)


def test_intervals_cover_the_truth():
    """20 datasets (lung and brain time courses, 15 % log-normal noise): the 95 % intervals of the lung pass
    fraction and the lung half-life each cover the truth in at least 16 (binomial(20, 0.95) gives >= 16 with
    probability 0.997)."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"cell.lung_pass_fraction": 0.02, "cell.lung_half_life_h": 30.0})
    covered = np.zeros(2, dtype=int)
    for seed in range(20):
        with warnings.catch_warnings():
            warnings.simplefilter("error", NonIdentifiableWarning)  # identifiable: must not warn
            res = fit(sc, synthetic(np.random.default_rng(seed)), list(TRUTH))
        for i, key in enumerate(TRUTH):
            covered[i] += res.low[i] <= TRUTH[key] <= res.high[i]
    assert (covered >= 16).all(), covered


def test_a_product_is_not_identifiable():
    """Brain counts depend on the pass fraction and the systemic retention only through their product."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO)
    data = synthetic(np.random.default_rng(1), organs=("brain",))
    with pytest.warns(NonIdentifiableWarning, match="cell.lung_pass_fraction"):
        res = fit(sc, data, ["cell.lung_pass_fraction", "cell.retention_per_pass.default"])
    assert res.non_identifiable == ["cell.lung_pass_fraction", "cell.retention_per_pass.default"]
    assert np.isinf(res.high).all()


@pytest.mark.parametrize(
    ("params", "fragment"),
    [(["cell.lung_pass_fractoin"], "unknown key"), (["cell.name"], "only positive numbers"), ([], "at least one")],
)
def test_bad_params(params, fragment):
    sc = biodist.load_scenario(DEFAULT_SCENARIO)
    with pytest.raises(biodist.ConfigError, match=fragment):
        fit(sc, synthetic(np.random.default_rng(0)), params)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("organ,time_h,pct_dose,pct_dose\nlung,1,50,60\n", "column 'pct_dose' appears more than once"),
        ("organ,time_h,pct_dose\nlung,1,50\nlung,6,50,60\n", "line 3: 4 values but 3 column names"),
    ],
)
def test_a_csv_pandas_would_misread_is_refused(tmp_path, text, fragment):
    """pandas renames a repeated column ('pct_dose.1') and shifts a row with an extra value into an index: refused."""
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(biodist.ConfigError, match=fragment):
        read_data(path)


def test_trailing_commas_and_a_bom_read_as_written(tmp_path):
    """A spreadsheet's trailing empty cells and byte-order mark change nothing: the values stay in their columns."""
    path = tmp_path / "d.csv"
    path.write_bytes(b"\xef\xbb\xbforgan,time_h,pct_dose\r\nlung,1,50,\r\nliver,6,20,,\r\n")
    df = read_data(path)
    assert df[["organ", "time_h", "pct_dose"]].to_dict("records") == [
        {"organ": "lung", "time_h": 1.0, "pct_dose": 50.0},
        {"organ": "liver", "time_h": 6.0, "pct_dose": 20.0},
    ]
