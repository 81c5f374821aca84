"""The golden cases: command lines whose ``--json`` output was recorded before the package was regrouped (issue 9).

Each case is a name and a command line (paths relative to the repository root). ``record.py`` runs them and
writes ``<name>.json``; ``tests/integration/test_golden.py`` runs them again and compares every number.
"""

from __future__ import annotations

SCENARIOS = ("human_msc_iv", "human_knee", "human_brain", "human_heart", "mouse_msc_iv", "rat_msc_iv")

#: Keys whose values are wall-clock measurements, not results.
VOLATILE = frozenset({"elapsed_s", "cells_per_second", "replicates_per_second"})

CASES: dict[str, list[str]] = {}
for _name in SCENARIOS:
    _path = f"configs/{_name}.toml"
    CASES[f"simulate-{_name}"] = ["simulate", _path, "--json"]
    CASES[f"mc-aggregated-{_name}"] = ["mc", _path, "--method", "aggregated", "--seed", "1", "--json"]
    CASES[f"mc-per_cell-{_name}"] = ["mc", _path, "--method", "per_cell", "--seed", "1", "--cells", "100000", "--json"]
_IV = "configs/human_msc_iv.toml"
CASES |= {
    "simulate-size": ["simulate", _IV, "--set", "heterogeneity=size", "--json"],
    "simulate-infusion": ["simulate", _IV, "--set", "infusion_minutes=30", "--json"],
    "simulate-heart-intra_arterial": [
        "simulate",
        "configs/human_heart.toml",
        "--set",
        "route=intra_arterial",
        "--json",
    ],
    "simulate-heart-direct": ["simulate", "configs/human_heart.toml", "--set", "route=direct", "--json"],
    "simulate-knee-direct-infusion": [
        "simulate",
        "configs/human_knee.toml",
        "--set",
        "route=direct",
        "--set",
        "infusion_minutes=10",
        "--json",
    ],
    "simulate-brain-size-intra_arterial": [
        "simulate",
        "configs/human_brain.toml",
        "--set",
        "route=intra_arterial",
        "--set",
        "heterogeneity=size",
        "--json",
    ],
    "mc-per_cell-size": [
        "mc",
        _IV,
        "--method",
        "per_cell",
        "--seed",
        "1",
        "--cells",
        "100000",
        "--set",
        "heterogeneity=size",
        "--json",
    ],
    "mc-per_cell-infusion": [
        "mc",
        _IV,
        "--method",
        "per_cell",
        "--seed",
        "1",
        "--cells",
        "100000",
        "--set",
        "infusion_minutes=30",
        "--json",
    ],
    "mc-aggregated-infusion": [
        "mc",
        _IV,
        "--method",
        "aggregated",
        "--seed",
        "1",
        "--set",
        "infusion_minutes=30",
        "--json",
    ],
    # issue 12: --uncertainty now draws the calibrated keys from the shipped posterior; the recorded runs drew every
    # key from the declared ranges, which --uncertainty-from ranges still does (these cases check it is unchanged)
    "mc-aggregated-uncertainty": [
        "mc",
        _IV,
        "--method",
        "aggregated",
        "--seed",
        "1",
        "--uncertainty",
        "--uncertainty-from",
        "ranges",
        "--json",
    ],
    "mc-per_cell-uncertainty": [
        "mc",
        _IV,
        "--method",
        "per_cell",
        "--seed",
        "1",
        "--cells",
        "20000",
        "--replicates",
        "20",
        "--uncertainty",
        "--uncertainty-from",
        "ranges",
        "--json",
    ],
    "compare-knee": ["compare", "configs/human_knee.toml", "--seed", "1", "--json"],
    "compare-heart": ["compare", "configs/human_heart.toml", "--seed", "1", "--json"],
    "compare-brain": ["compare", "configs/human_brain.toml", "--seed", "1", "--routes", "iv,intra_arterial", "--json"],
    "validate": ["validate", "--json"],
    "fit-example": [
        "fit",
        "configs/examples/lung_brain_synthetic.csv",
        "--params",
        "cell.lung_pass_fraction,cell.lung_half_life_h",
        "--json",
    ],
    # sweeps: the JSON is the dataset's rows (see record.py)
    "sweep-pass_fraction": ["sweep", "configs/sweeps/pass_fraction.toml", "--workers", "1", "--quiet", "--json"],
    "sweep-small": ["sweep", "tests/golden/sweep_small.toml", "--workers", "1", "--quiet", "--json"],
}
