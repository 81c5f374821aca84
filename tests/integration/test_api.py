"""The public API after the regrouping (issue 9): top-level names, help texts, names of shipped configs,
with_values, save/load, the result family, old import paths, what an import costs."""

from __future__ import annotations

import subprocess
import sys
import warnings
from dataclasses import replace

import numpy as np
import pytest
from tests.conftest import CONFIGS

import biodist
from biodist.cli import main
from biodist.cli.parser import build_parser
from biodist.config import CellProduct, RouteConfig, Species


def run(args, **kwargs):
    return subprocess.run([sys.executable, "-m", "biodist", *args], capture_output=True, text=True, **kwargs)


# ---- top-level API ------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["simulate", "monte_carlo", "compare", "sweep", "fit", "validate", "compile_model", "save", "load"]
)
def test_top_level_names_are_functions(name):
    assert callable(getattr(biodist, name)) and not isinstance(getattr(biodist, name), type(sys))


def test_scenario_is_the_class():
    assert isinstance(biodist.Scenario, type)
    assert biodist.Scenario.load("human_msc_iv").name == "human_msc_iv"


def test_import_is_light():
    heavy = ("matplotlib", "biodist.cli", "dask", "xarray", "numba", "pandas", "scipy", "pydantic")
    code = f"import sys, biodist; print([m for m in {heavy!r} if m in sys.modules])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_a_command_imports_only_what_it_needs():
    """Before the numbers are computed, ``simulate`` loads neither scipy.stats, SALib, pandas, xarray, numba nor
    matplotlib (the import time this saves is measured by benchmarks/bench_import.py)."""
    heavy = ("scipy.stats", "SALib", "pandas", "xarray", "numba", "matplotlib")
    code = (
        "import sys; import biodist.cli, biodist.cli.commands, biodist.config, biodist.results, biodist.io.text; "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


# ---- help --------------------------------------------------------------------------------
def test_top_level_help():
    proc = run(["--help"])
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for command in ("simulate", "mc", "compare", "sweep", "validate", "fit", "export-sbml", "plot"):
        assert command in proc.stdout


@pytest.mark.parametrize("command", sorted(build_parser()._subparsers._group_actions[0].choices))
def test_every_command_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: biodist " + command in capsys.readouterr().out


def test_version():
    proc = run(["--version"])
    assert proc.returncode == 0 and proc.stdout.startswith("biodist ")


# ---- shipped configs by name ---------------------------------------------------------------
def test_simulate_a_shipped_scenario_from_an_empty_folder(tmp_path):
    proc = run(["simulate", "human_msc_iv", "--json"], cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert '"target": "knee"' in proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_unknown_scenario_name_lists_the_shipped_ones(tmp_path, capsys):
    assert main(["simulate", "human_msc_ivv"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "shipped scenarios:" in err and "human_msc_iv" in err


def test_named_configs_load_from_anywhere():
    assert Species.load("rat").name == "rat"
    assert CellProduct.load("bm_msc").lung_pass_fraction == pytest.approx(0.026)
    assert "knee" in RouteConfig.load("default").depots
    assert Species.load("human", {"organs.knee.flow_fraction": 1e-3}).organs["knee"].flow_fraction == 1e-3


# ---- with_values -------------------------------------------------------------------------------
def test_with_values_refuses_a_bad_value_in_one_line(capsys):
    sc = biodist.Scenario.load("human_msc_iv")
    with pytest.raises(biodist.ConfigError) as exc:
        sc.with_values({"cell.lung_pass_fraction": 2})
    message = str(exc.value)
    assert "\n" not in message
    for fragment in (
        "bm_msc.toml",
        "lung_pass_fraction = 2",
        "less than or equal to 1",
        "--set cell.lung_pass_fraction",
    ):
        assert fragment in message
    assert main(["simulate", "human_msc_iv", "--set", "cell.lung_pass_fraction=2"]) == 2  # the same line as the CLI
    assert capsys.readouterr().err.strip() == f"biodist: error: {message}"


def test_with_values_returns_a_validated_copy():
    sc = biodist.Scenario.load("human_msc_iv")
    changed = sc.with_values({"cell.lung_pass_fraction": 0.03, "species.organs.knee.flow_fraction": 1e-3})
    assert changed.cell.lung_pass_fraction == 0.03 and sc.cell.lung_pass_fraction == pytest.approx(0.026)
    assert changed.species.organs["knee"].flow_fraction == 1e-3
    assert changed.species.rest_flow_fraction < sc.species.rest_flow_fraction  # taken from rest
    np.testing.assert_allclose(
        biodist.simulate(changed).counts,
        biodist.simulate(
            biodist.Scenario.load(
                "human_msc_iv", {"cell.lung_pass_fraction": 0.03, "species.organs.knee.flow_fraction": 1e-3}
            )
        ).counts,
        rtol=1e-14,
    )


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"cell.lung_pass_fractoin": 0.02}, "unknown key 'lung_pass_fractoin'"),
        ({"species.organs.muscle.flow_fraction": 0.5}, "rest = -"),
        ({"target": "elbow"}, "target = 'elbow'"),
        ({"sources": {}}, "unknown key 'sources'"),
        ({"dose_cells": -1}, "dose_cells = -1"),
        ({"cell.viable_fraction": "high"}, "expected a number, got str"),
    ],
)
def test_with_values_errors(values, fragment):
    with pytest.raises(biodist.ConfigError, match=fragment):
        biodist.Scenario.load("human_msc_iv").with_values(values)


def test_with_values_switches_species_and_rescales_a_per_kg_dose():
    sc = biodist.Scenario.load("rat_msc_iv")
    assert sc.dose_cells_per_kg == 4e6 and sc.dose_cells == pytest.approx(4e6 * sc.species.body_weight_kg)
    mouse = sc.with_values({"species": "mouse", "target": "brain"})
    assert mouse.dose_cells == pytest.approx(4e6 * mouse.species.body_weight_kg)
    fixed = sc.with_values({"dose_cells": 1e5})
    assert fixed.dose_cells == 1e5 and fixed.dose_cells_per_kg is None


# ---- the result family ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def results():
    sc = biodist.Scenario.load("human_heart", {"times_h": [1, 24, 168]})
    return {
        "simulate": biodist.simulate(sc),
        "mc": biodist.monte_carlo(sc, n_cells=20_000, replicates=5, seed=1),
        "compare": biodist.compare(sc, replicates=10, seed=2),
        "validate": biodist.validate(),
    }


@pytest.mark.parametrize("kind", ["simulate", "mc", "compare", "validate"])
def test_repr_is_short_and_html_exists(results, kind):
    result = results[kind]
    assert len(repr(result)) < 300
    assert result._repr_html_().startswith("<p><b>")


@pytest.mark.parametrize("kind", ["simulate", "mc", "compare", "validate"])
def test_table_comes_from_the_labelled_form(results, kind):
    result = results[kind]
    ds = result.to_xarray()
    frame = result.to_dataframe()
    assert len(frame) > 0 and set(ds.data_vars)
    if kind == "simulate":
        assert list(frame.columns) == [
            "compartment",
            "time_h",
            "cells",
            "fraction_of_dose",
            "cells_per_g",
            "exposure_cell_h",
        ]
        assert frame.cells.sum() == pytest.approx(float(ds.cells.sum()))
    if kind == "mc":
        assert list(frame.columns) == ["replicate", "compartment", "time_h", "cells"] and frame.cells.dtype == np.int64
    if kind == "compare":
        assert list(frame.columns) == ["route", "compartment", "time_h", "cells", "fraction_of_dose"]
        assert set(frame.compartment[frame.route == "iv"]) == set(results["compare"].routes["iv"].ode.compartments)


@pytest.mark.parametrize("kind", ["simulate", "mc", "compare", "validate"])
def test_save_then_load_gives_the_result_back(results, kind, tmp_path):
    result = results[kind]
    written = biodist.save(result, tmp_path / kind)
    assert all(p.exists() for p in written)
    loaded = biodist.load(tmp_path / kind)
    assert type(loaded) is type(result)
    assert loaded.to_dict() == result.to_dict()
    if kind == "mc":
        np.testing.assert_array_equal(loaded.counts, result.counts)
        np.testing.assert_array_equal(loaded.histories["first_arrival_h"], result.histories["first_arrival_h"])


def test_save_and_load_a_fit(tmp_path):
    import pandas as pd

    sc = biodist.Scenario.load("human_msc_iv")
    data = pd.read_csv(CONFIGS / "examples" / "lung_brain_synthetic.csv")
    result = biodist.fit(sc, data, ["cell.lung_pass_fraction"])
    biodist.save(result, tmp_path, scenario=sc)
    assert biodist.load(tmp_path).to_dict() == result.to_dict()


# ---- old import paths -----------------------------------------------------------------------------
def test_old_import_paths_still_work_with_a_warning():
    with pytest.warns(DeprecationWarning, match="biodist.compare.compare has moved"):
        from biodist.compare import compare
    assert compare is biodist.compare  # the same function; and biodist.compare is still the function
    assert callable(biodist.compare) and biodist.compare.__module__ == "biodist.studies.compare"
    with pytest.warns(DeprecationWarning):
        from biodist.heterogeneity import diameter_classes  # noqa: F401
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from biodist.config import load_scenario  # a package now, re-exporting its old names

    assert load_scenario("human_msc_iv").name == "human_msc_iv"


def test_replace_takes_dotted_keys_and_validates():
    sc = biodist.Scenario.load("human_msc_iv")
    assert sc.replace(**{"cell.lung_pass_fraction": 0.03}).cell.lung_pass_fraction == 0.03
    with pytest.raises(biodist.ConfigError, match="lung_pass_fraction = 3"):
        sc.replace(**{"cell.lung_pass_fraction": 3})


@pytest.mark.parametrize("order", [("species", "species.body_weight_kg"), ("species.body_weight_kg", "species")])
def test_a_named_config_and_a_key_inside_it_together(order):
    """Review finding: naming a species and changing one of its keys in one call applies both, in either order."""
    values = {"species": "mouse", "species.body_weight_kg": 0.03, "target": "brain"}
    sc = biodist.Scenario.load("human_msc_iv").with_values({k: values[k] for k in (*order, "target")})
    assert sc.species.name == "mouse" and sc.species.body_weight_kg == 0.03
    loaded = biodist.Scenario.load("human_msc_iv", values)
    assert loaded.species.name == "mouse" and loaded.species.body_weight_kg == 0.03


def test_a_table_and_a_key_inside_it_together_are_refused():
    sc = biodist.Scenario.load("human_msc_iv")
    with pytest.raises(biodist.ConfigError, match="set as a whole and a key inside it"):
        sc.with_values({"cell.retention_per_pass": {"default": 0.1}, "cell.retention_per_pass.brain": 0.2})


def test_unchecked_values_are_checked_when_nested_again():
    """Review finding: a copy made without validation (keys.assign, the batched path) is validated by the next
    with_values, so an invalid value cannot pass as checked."""
    from biodist.config.keys import assign

    sc = biodist.Scenario.load("human_msc_iv")
    with pytest.raises(biodist.ConfigError, match=r"retention_per_pass\.default = 5\.0"):
        assign(sc, {"cell.retention_per_pass.default": 5.0}).with_values({"dose_cells": 3e6})


def test_a_per_kg_dose_follows_the_body_weight():
    """Review finding: with_values and load agree when the weight changes under a per-kg dose."""
    changed = biodist.Scenario.load("rat_msc_iv").with_values({"species.body_weight_kg": 0.5})
    assert changed.dose_cells == pytest.approx(2e6)
    assert biodist.Scenario.load("rat_msc_iv", {"species.body_weight_kg": 0.5}).dose_cells == pytest.approx(2e6)


def test_a_sub_config_error_names_its_file():
    """Review finding: a whole-table check of the species names the species file, from with_values as from load."""
    sc = biodist.Scenario.load("human_msc_iv")
    with pytest.raises(biodist.ConfigError) as exc:
        sc.with_values({"species.organs.muscle.flow_fraction": 0.5})
    assert str(exc.value).startswith(str(CONFIGS / "species" / "human.toml")) and "rest = -" in str(exc.value)
    assert "Species(" not in str(exc.value)


def test_a_sweeps_fingerprint_is_stable(monkeypatch):
    """The fingerprint of a shipped sweep is pinned (run from the repository root: it includes the scenario's file
    names), so that a changed fingerprint is a decision. 0.1's values ("d7a556f9fa94a8c4", "8cd9b1d2c7d94961") held
    through the regrouping; issue 11 changed the human label's liver share (a healthy default instead of the
    cirrhosis value) and took the species' label parameters out of the fingerprint, as a sweep's rows are viable
    cells, which they do not change: a human sweep started before that is refused as "a different sweep". Issue 12
    moved the declared distributions to the species and cell files and took every [uncertainty] table out of the
    fingerprint (a sweep sets its own parameters): the values changed once more."""
    from biodist.studies.sweep import prepare

    monkeypatch.chdir(CONFIGS.parent)
    assert prepare("configs/sweeps/pass_fraction.toml").fingerprint == "b84d7601360f99a8"
    assert prepare("configs/sweeps/sobol_knee.toml").fingerprint == "b347248857ad8048"


def test_a_sweeps_fingerprint_ignores_what_its_rows_do_not_depend_on():
    """Label parameters and a release that releases nothing leave the fingerprint; a cell parameter changes it."""
    from biodist.studies.sweep import prepare

    base = prepare(CONFIGS / "sweeps" / "pass_fraction.toml")
    same = {"species.label.liver_share": 0.31, "cell.release_per_h.default": 0.0}
    assert replace(base, scenario=base.scenario.with_values(same)).fingerprint == base.fingerprint
    other = base.scenario.with_values({"cell.lodged_half_life_h": 26.0})
    assert replace(base, scenario=other).fingerprint != base.fingerprint


def test_a_monte_carlo_folder_without_arrays_loads_with_a_warning(results, tmp_path):
    """Folders written before 0.2 have no per-replicate arrays: load says what is missing instead of inventing it."""
    import json

    from biodist.io.folders import IncompleteRecordWarning

    biodist.save(results["mc"], tmp_path)
    record = json.loads((tmp_path / "run.json").read_text())
    del record["arrays"]
    (tmp_path / "run.json").write_text(json.dumps(record))
    with pytest.warns(IncompleteRecordWarning, match="written before biodist 0.2"):
        loaded = biodist.load(tmp_path)
    np.testing.assert_array_equal(loaded.counts, results["mc"].counts)
