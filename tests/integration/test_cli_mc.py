"""`biodist mc` end to end, in temporary folders."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from tests.conftest import CONFIGS, DEFAULT_SCENARIO

from biodist.cli import main

SCEN = str(DEFAULT_SCENARIO)
FAST = ["--cells", "20000", "--replicates", "20", "--seed", "3"]


def test_table(capsys):
    assert main(["mc", SCEN, *FAST, "--set", "target=liver"]) == 0
    out = capsys.readouterr().out
    assert "20,000 cells x 20 replicates, per_cell" in out
    assert "* liver" in out
    assert "cells that ever lodged in liver" in out
    assert "first arrival" in out


def test_json_keys(capsys):
    assert main(["mc", SCEN, *FAST, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    t = len(data["times_h"])
    assert data["seed"] == 3
    assert set(data["quantiles"]["lung"]) == {"0.05", "0.5", "0.95"}
    assert len(data["mean"]["knee"]) == t
    assert set(data["p_at_least"]) == {"1", "5", "10", "100"}
    assert all(0 <= p <= 1 for p in data["p_at_least"]["1"])
    assert len(data["cumulative_arrivals"]["mean"]) == t
    assert set(data["cumulative_arrivals"]["quantiles"]) == {"0.05", "0.5", "0.95"}
    assert data["cells_per_second"] > 0 and data["replicates_per_second"] > 0


def test_the_aggregated_sampler_reports_no_cells_per_second(capsys):
    """It does not walk cells: a rate per cell would be meaningless (it once printed 3e11 cells/s)."""
    assert main(["mc", SCEN, "--method", "aggregated", "--replicates", "20", "--seed", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cells_per_second"] is None and data["replicates_per_second"] > 0
    assert main(["mc", SCEN, "--method", "aggregated", "--replicates", "20", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "cells/s" not in out and "cells walked" not in out and "replicates per second" in out


def test_a_long_per_cell_run_names_the_aggregated_alternative(capsys):
    """A per-cell run estimated above 10 s says so in one line, with the estimate and --method aggregated."""
    import warnings

    import biodist
    from biodist.errors import LongRunNotice
    from biodist.solvers.montecarlo import run_cost

    sc = biodist.Scenario.load(SCEN)
    n = 5 * 10**8  # 8e6 cells/s per thread (+0.6 per further thread): above 10 s on any machine of <= 8 threads
    cost, cheaper = run_cost(sc, n, 1, "per_cell", False)
    assert 10 < cost.seconds and "--method aggregated" in cheaper
    from biodist.solvers.budget import check_cost

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LongRunNotice)
        check_cost(cost, True, cheaper)
    (notice,) = [w for w in caught if issubclass(w.category, LongRunNotice)]
    text = str(notice.message)
    assert "\n" not in text and "about" in text and "--method aggregated" in text


def test_same_seed_same_json(capsys):
    outs = []
    for _ in range(2):
        assert main(["mc", SCEN, *FAST, "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        outs.append({k: data[k] for k in ("mean", "quantiles", "cumulative_arrivals")})
    assert outs[0] == outs[1]


def test_out_dir(tmp_path, capsys):
    out = tmp_path / "mc"
    assert main(["mc", SCEN, *FAST, "--method", "aggregated", "--uncertainty", "--out", str(out)]) == 0
    df = pd.read_parquet(out / "counts.parquet")
    params = sorted(json.loads((out / "run.json").read_text())["result"]["parameters"])
    assert list(df.columns) == ["replicate", *params, "compartment", "time_h", "cells"]  # each subject's draws
    assert df.groupby(["replicate", "time_h"])["cells"].sum().eq(20000).all()
    assert (out / "target_histogram.png").read_bytes()[:4] == b"\x89PNG"
    run = json.loads((out / "run.json").read_text())
    assert run["seed"] == 3 and run["result"]["uncertainty"] is True


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--replicates", "0"], "--replicates: '0': must be an integer from 1 to"),
        (["--cells", "-5"], "--cells: '-5': must be an integer from 1 to"),
        (["--method", "gillespie"], "invalid choice: 'gillespie'"),
        (["--seed", "-1"], "--seed: '-1': must be an integer >= 0"),
    ],
)
def test_bad_arguments_exit_2(args, fragment, capsys):
    with pytest.raises(SystemExit) as exc:  # argparse's own errors also exit 2
        code = main(["mc", SCEN, "--cells", "10", "--replicates", "1", *args])
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ('distribution = "normal"\nmean = 0.02\nsd = -0.01', "sd = -0.01: the spread must be >= 0"),
        (
            'distribution = "uniform"\nlow = 0.03\nhigh = 0.01',
            "low = 0.03, high = 0.01: bounds must satisfy low < high",
        ),
        ('distribution = "log-uniform"\nlow = 0\nhigh = 0.01', "needs low > 0"),
        ('distribution = "beta"\nlow = 0\nhigh = 1', "input should be"),
        ('distribution = "log-normal"\nmedian = 24', "needs median and gsd; missing gsd"),
    ],
)
def test_bad_distribution(tmp_path, table, fragment, capsys):
    text = (CONFIGS / "human_msc_iv.toml").read_text()
    text = text.split("# Uncertain parameters", 1)[0] + f'[uncertainty."cell.lung_pass_fraction"]\n{table}\n'
    path = tmp_path / "bad_uncertainty.toml"
    path.write_text(text)
    assert main(["mc", str(path), "--cells", "10", "--replicates", "1", "--uncertainty"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "bad_uncertainty.toml" in err and 'uncertainty."cell.lung_pass_fraction"' in err and fragment in err


def test_uncertain_key_must_exist(tmp_path, capsys):
    text = (CONFIGS / "human_msc_iv.toml").read_text()
    text += '\n[uncertainty."cell.lung_pass_fractoin"]\ndistribution = "uniform"\nlow = 0.01\nhigh = 0.03\n'
    path = tmp_path / "typo.toml"
    path.write_text(text)
    assert main(["mc", str(path), "--cells", "10", "--replicates", "1"]) == 2
    err = capsys.readouterr().err
    assert "typo.toml" in err and "lung_pass_fractoin" in err and "allowed:" in err


def test_uncertainty_without_table(tmp_path, capsys):
    """A scenario whose species and cell product declare no [uncertainty] (and which has none) is refused."""
    for kind, name in (("species", "human"), ("cells", "bm_msc")):
        text = (CONFIGS / kind / f"{name}.toml").read_text().split("\n# Uncertain ", 1)[0]
        (tmp_path / f"{name}.toml").write_text(text)
    scenario = (CONFIGS / "human_msc_iv.toml").read_text()
    scenario = scenario.replace('species = "human"', 'species = "human.toml"').replace(
        'cell = "bm_msc"', 'cell = "bm_msc.toml"'
    )
    path = tmp_path / "plain.toml"
    path.write_text(scenario)
    assert main(["mc", str(path), "--cells", "10", "--replicates", "1", "--uncertainty"]) == 2
    err = capsys.readouterr().err
    assert "declares an [uncertainty] table" in err and err.count("\n") == 1


@pytest.mark.pinned
def test_readme_mc_example_is_real(capsys):
    """The README's `biodist mc` example is this command's output (all but the timing line)."""
    readme = (CONFIGS.parent / "README.md").read_text()
    block = readme.split("### `biodist mc`", 1)[1].split("```text\n", 2)[2].split("```", 1)[0]
    args = ["mc", SCEN, "--replicates", "200", "--seed", "7", "--set", "times_h=[1,24,168]", "--set", "target=brain"]
    assert main(args) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[:-1] == block.strip().splitlines()[:-1]
