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
    assert res.high.tolist() == [1.0, 1.0]  # unbounded on the logit scale: the whole of (0, 1) for probabilities


def test_a_probability_interval_stays_inside_0_1():
    """Three noisy brain points fitted for the pass fraction alone: on the logit scale the 95 % interval, however
    wide, lies inside (0, 1) (on the log scale it once reached 1.76)."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO)
    data = synthetic(np.random.default_rng(4), organs=("brain",), sd=0.8).iloc[:3]
    res = fit(sc, data, ["cell.lung_pass_fraction"])
    assert 0.0 < res.low[0] < res.estimate[0] < res.high[0] < 1.0


def test_a_correlated_pair_warns_below_rank_deficiency():
    """Brain and heart points bear on pass fraction and retention almost only through their product: |r| > 0.95
    warns, although J^T J is not singular."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO)
    data = synthetic(np.random.default_rng(2), organs=("brain", "heart"), sd=0.05)
    with pytest.warns(NonIdentifiableWarning):
        res = fit(sc, data, ["cell.lung_pass_fraction", "cell.retention_per_pass.default"])
    assert abs(res.correlation[0, 1]) > 0.95


def test_every_set_key_can_be_fitted_and_the_fit_is_shown_against_the_data():
    """``cell.retention_per_pass.brain`` is not listed in the product (its default applies) but is a --set key: it
    can be fitted; the result lists each measurement's observed and predicted % (the model at the estimates)."""
    sc = biodist.load_scenario(DEFAULT_SCENARIO)
    data = synthetic(np.random.default_rng(3), organs=("lung", "brain"))
    res = fit(sc, data, ["cell.retention_per_pass.brain", "cell.lung_half_life_h"])
    assert 0 < res.estimate[0] < 1
    d = res.data
    assert d["observed_pct_dose"] == data.pct_dose.tolist() and len(d["predicted_pct_dose"]) == len(data)
    best = sc.with_values(dict(zip(res.params, res.estimate.tolist(), strict=True)))
    again = biodist.simulate(best, times_h=TIMES, label=False)
    brain = [p for o, p in zip(d["organ"], d["predicted_pct_dose"], strict=True) if o == "brain"]
    assert np.allclose(brain, 100 * again.cells("brain") / sc.dose_cells)


def test_a_value_outside_its_declared_range_warns():
    """Data made with a pass fraction of 0.06 pull the fit above the declared 1.5-3.7 %: the fit says so."""
    from biodist.studies.fit import OutsideDeclaredRangeWarning

    truth = biodist.load_scenario(DEFAULT_SCENARIO, {"cell.lung_pass_fraction": 0.06})
    res = biodist.simulate(truth, times_h=TIMES, label=False)
    data = pd.DataFrame(
        [
            {"organ": "brain", "time_h": t, "pct_dose": 100 * v / 1e6}
            for t, v in zip(TIMES, res.cells("brain"), strict=True)
        ]
    )
    with pytest.warns(OutsideDeclaredRangeWarning, match=r"cell.lung_pass_fraction = 0.06.*\[0.015, 0.037\]"):
        fit(biodist.load_scenario(DEFAULT_SCENARIO), data, ["cell.lung_pass_fraction"])


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


def test_a_censored_zero_is_accepted_and_costs_nothing_below_its_limit(tmp_path):
    """A kidney value of 0 (below detection) with a limit the model stays under leaves the fit as it is without
    the row; a limit the model exceeds pulls the pass fraction down (and below its declared range)."""
    from biodist.studies.fit import OutsideDeclaredRangeWarning

    data = synthetic(np.random.default_rng(5), organs=("lung", "brain"))
    sc = biodist.load_scenario(DEFAULT_SCENARIO)
    keys = ["cell.lung_pass_fraction"]
    plain = fit(sc, data, keys)
    zero = pd.DataFrame([{"organ": "kidney", "time_h": 24.0, "pct_dose": 0.0, "lod_pct_dose": 1.0}])
    path = tmp_path / "d.csv"
    pd.concat([data.assign(lod_pct_dose=""), zero]).to_csv(path, index=False)
    read = read_data(path)
    assert read.pct_dose.iloc[-1] == 0.0
    assert fit(sc, read, keys).estimate[0] == pytest.approx(plain.estimate[0], rel=1e-6)
    tight = zero.assign(lod_pct_dose=1e-9)  # the model's kidney (~1e-3 %) is far above: the row now pulls
    with pytest.warns(OutsideDeclaredRangeWarning):
        moved = fit(sc, pd.concat([data, tight], ignore_index=True), keys)
    assert moved.estimate[0] < plain.estimate[0] / 2


def test_fractions_given_as_percent_are_one_line_exit_2(tmp_path, capsys):
    from biodist.cli import main

    data = synthetic(np.random.default_rng(6), organs=("lung", "brain"), sd=0.005)
    path = tmp_path / "f.csv"
    data.assign(pct_dose=data.pct_dose / 100).to_csv(path, index=False)
    assert main(["fit", str(path), "--params", "cell.lung_half_life_h"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "look like fractions" in err and str(path) in err
