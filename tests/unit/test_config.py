"""Config loading, overrides and one-line errors (each naming file, key, value, what is allowed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.conftest import CONFIGS, DEFAULT_SCENARIO

import biodist
from biodist.config import parse_override
from biodist.errors import ConfigError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_default_scenario_resolves(default_scenario):
    assert default_scenario.species.name == "human"
    assert default_scenario.cell.name == "bone-marrow MSC"
    assert default_scenario.target == "knee"
    assert default_scenario.dose_cells == 1e6
    assert default_scenario.sources["species"].endswith("species/human.toml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dose_cells=2e6", ("dose_cells", 2e6)),
        ("cell=adipose_msc", ("cell", "adipose_msc")),
        ("times_h=[1, 2]", ("times_h", [1, 2])),
        ("target = brain", ("target", "brain")),
        ('name="a b"', ("name", "a b")),
    ],
)
def test_parse_override(text, expected):
    assert parse_override(text) == expected


@pytest.mark.parametrize("text", ["dose_cells", "=3", "a..b=1"])
def test_parse_override_rejects_malformed(text):
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_override(text)


def test_overrides_reach_every_file():
    sc = biodist.load_scenario(
        DEFAULT_SCENARIO,
        [
            "cell=adipose_msc",
            "cell.lung_pass_fraction=0.03",
            "species.cardiac_output_l_per_min=6",
            "species.organs.knee.flow_fraction=1e-3",
            "target=brain",
            "times_h=[2, 1, 1]",
            "infusion_minutes=30",
        ],
    )
    assert sc.cell.name == "adipose MSC"
    assert sc.cell.lung_pass_fraction == 0.03
    assert sc.species.cardiac_output_l_per_min == 6
    assert sc.species.organs["knee"].flow_fraction == 1e-3
    assert sc.target == "brain"
    assert sc.times_h == (1.0, 2.0)  # sorted, duplicates dropped
    assert sc.infusion_minutes == 30


def test_dose_per_kg_scales_with_body_weight():
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"dose_cells_per_kg": 2e6, "species": "rat"})
    assert sc.dose_cells == pytest.approx(2e6 * 0.25)


def test_raising_one_flow_takes_it_from_rest():
    base = biodist.load_scenario(DEFAULT_SCENARIO).species
    more = biodist.load_scenario(DEFAULT_SCENARIO, {"species.organs.knee.flow_fraction": 0.01}).species
    assert more.rest_flow_fraction == pytest.approx(base.rest_flow_fraction - (0.01 - 5e-4))


# --- bad input: one line naming file, key, value and what is allowed ---------------------------
def check_one_line(exc: pytest.ExceptionInfo, *fragments: str) -> None:
    msg = str(exc.value)
    assert "\n" not in msg
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"


def test_unknown_set_key():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"cell.lung_pass_fractoin": 0.02})
    check_one_line(exc, "bm_msc.toml", "lung_pass_fractoin", "allowed:", "lung_pass_fraction")


def test_unknown_scenario_key():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"dose": 5})
    check_one_line(exc, "human_msc_iv.toml", "'dose'", "allowed:", "dose_cells")


def test_unknown_organ_in_set_path():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"species.organs.kneee.flow_fraction": 0.1})
    check_one_line(exc, "human.toml", "organs.kneee", "knee")


def test_negative_dose():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"dose_cells": -5})
    check_one_line(exc, "human_msc_iv.toml", "dose_cells = -5", "greater than 0", "--set dose_cells")


def test_flows_leaving_rest_negative():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"species.organs.muscle.flow_fraction": 0.5})
    check_one_line(exc, "human.toml", "flow_fraction", "rest = -", "at most 1", "species.organs.muscle.flow_fraction")


@pytest.mark.parametrize("value", [1.4, -0.1])
def test_pass_fraction_outside_unit_interval(value):
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"cell.lung_pass_fraction": value})
    check_one_line(exc, "bm_msc.toml", f"lung_pass_fraction = {value}", "than or equal to")


def test_wrong_type_names_value():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"cell.lung_half_life_h": "long"})
    check_one_line(exc, "bm_msc.toml", "lung_half_life_h = 'long'", "expected a number")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(tmp_path / "nope.toml")
    check_one_line(exc, "nope.toml", "file not found")


def test_malformed_toml(tmp_path):
    path = write(tmp_path, "bad.toml", 'species = "human"\ncell = \n')
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(path)
    check_one_line(exc, "bad.toml", "malformed TOML", "line 2")


def test_unknown_species():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"species": "cat"})
    check_one_line(exc, "human_msc_iv.toml", "species = 'cat'", "allowed: dog, human, mouse, pig, rat")


def test_unknown_cell():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"cell": "ipsc"})
    check_one_line(exc, "human_msc_iv.toml", "cell = 'ipsc'", "adipose_msc, bm_msc, spheroid_msc, uc_msc")


def test_unknown_target():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"target": "elbow"})
    check_one_line(exc, "human_msc_iv.toml", "target = 'elbow'", "allowed:", "knee")


def test_unknown_route():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"route": "oral"})
    check_one_line(exc, "human_msc_iv.toml", "route = 'oral'", "'iv'")


def test_retention_for_unknown_organ():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"cell.retention_per_pass.elbow": 0.5})
    check_one_line(exc, "bm_msc.toml", "retention_per_pass.elbow", "allowed keys:")


def test_both_dose_keys_in_file(tmp_path):
    text = (
        (CONFIGS / "human_msc_iv.toml")
        .read_text()
        .replace("dose_cells = 1e6", "dose_cells = 1e6\ndose_cells_per_kg = 1e4")
    )
    path = write(tmp_path, "two_doses.toml", text)
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(path)
    check_one_line(exc, "two_doses.toml", "exactly one")


def test_negative_report_time():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"times_h": [-1, 2]})
    check_one_line(exc, "human_msc_iv.toml", "times_h", "within [0,")


def test_species_given_by_path_relative_to_scenario(tmp_path):
    (tmp_path / "species").mkdir()
    text = (CONFIGS / "species" / "rat.toml").read_text().replace('name = "rat"', 'name = "my_rat"')
    write(tmp_path / "species", "my_rat.toml", text)
    scen = (CONFIGS / "human_msc_iv.toml").read_text().replace('species = "human"', 'species = "my_rat"')
    sc = biodist.load_scenario(write(tmp_path, "s.toml", scen))
    assert sc.species.name == "my_rat"


def test_unknown_group_lists_the_prefixes():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"foo.bar": 1})
    check_one_line(exc, "human_msc_iv.toml", "'foo'", "species.*", "cell.*")


def test_message_does_not_repeat_the_key():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"times_h": []})
    assert str(exc.value).count("times_h") == 2  # "times_h = []" and "--set times_h"


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("species.body_weight_kg", float("inf"), "must be a finite number"),
        ("species.cardiac_output_l_per_min", float("inf"), "must be a finite number"),
        ("cell.lung_release_per_h", float("nan"), "must be a finite number"),
        ("cell.diameter_um_mean", float("inf"), "must be a finite number"),
        ("dose_cells", True, "expected a number, got bool"),
        ("cell.lung_pass_fraction", "0.02", "expected a number, got str"),
        ("species.cardiac_output_l_per_min", 1e9, "less than or equal to 1000"),
    ],
)
def test_numbers_must_be_finite_numbers(key, value, fragment):
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {key: value})
    check_one_line(exc, key.split(".")[-1], fragment)


def test_infinite_half_life_is_allowed():
    sc = biodist.load_scenario(DEFAULT_SCENARIO, {"cell.lodged_half_life_h": float("inf")})
    assert sc.cell.lodged_half_life_h == float("inf")


def test_set_cannot_add_a_table():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"species.organs.kneee": {"flow_fraction": 0.1}})
    check_one_line(exc, "human.toml", "'kneee' does not exist", "cannot add tables")


def test_lung_cannot_drain_elsewhere():
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(DEFAULT_SCENARIO, {"species.organs.lung.drains_to": "liver"})
    check_one_line(exc, "human.toml", "organs.lung.drains_to")


def test_byte_order_mark_is_tolerated(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (CONFIGS / "human_msc_iv.toml").read_bytes())
    path.parent.joinpath("species").mkdir()
    assert biodist.load_scenario(path, {"species": "human"}).species.name == "human"


def test_replace_keeps_the_cross_checks(default_scenario):
    rat = biodist.load_scenario(DEFAULT_SCENARIO, {"species": "rat"}).species
    assert default_scenario.replace(species=rat).species.name == "rat"
    with pytest.raises(ValueError, match="target = 'nowhere'"):
        default_scenario.replace(target="nowhere")


def test_extreme_rates_give_a_clear_error():
    """Blood turning over a trillion times an hour cannot be resolved beside cell fates: refused where it is set."""
    with pytest.raises(ConfigError) as exc:
        biodist.load_scenario(
            DEFAULT_SCENARIO, {"species.cardiac_output_l_per_min": 1000.0, "species.blood_volume_fraction_bw": 1e-9}
        )
    check_one_line(exc, "human.toml", "blood_volume_fraction_bw = 1e-09", "turns over", "at most 1e+06 /h")


def test_a_solution_that_loses_cells_is_refused():
    """The last guard: a chain whose solution does not keep the cells given (forced here) raises SolverError."""
    from biodist.solvers.expected import _check_balance

    q = np.array([[-1.0, 0.0], [1.0, 0.0]])
    x0 = np.array([[1.0, 0.0]])
    good = np.array([[[1.0], [0.0]]])
    _check_balance(q[None], x0, np.zeros_like(x0), 0.0, np.array([0.0]), good)
    with pytest.raises(biodist.SolverError, match="does not keep the cells"):
        _check_balance(q[None], x0, np.zeros_like(x0), 0.0, np.array([0.0]), good * 0.9)
    with pytest.raises(biodist.SolverError, match="not finite"):
        _check_balance(q[None], x0, np.zeros_like(x0), 0.0, np.array([0.0]), good * np.nan)


def test_a_config_file_is_parsed_once_per_version_and_each_reader_gets_its_own_copy(tmp_path):
    """read_toml caches by path, modification time and size: a changed file is read again, and a caller that
    changes what it got does not change what the next caller gets; errors are never cached."""
    import os

    from biodist.config.files import read_toml

    path = tmp_path / "x.toml"
    path.write_text("a = 1\n[t]\nb = 2\n")
    first = read_toml(path)
    first["t"]["b"] = 99
    assert read_toml(path) == {"a": 1, "t": {"b": 2}}
    path.write_text("a = 10\n[t]\nb = 2\n")
    os.utime(path, ns=(1, 2))  # a different modification time, whatever the clock's resolution
    assert read_toml(path)["a"] == 10
    path.write_text("a = [\n")
    with pytest.raises(ConfigError, match="malformed TOML"):
        read_toml(path)
    with pytest.raises(ConfigError, match="is a directory"):
        read_toml(tmp_path)
