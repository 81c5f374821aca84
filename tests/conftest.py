"""Shared fixtures: paths to the shipped configs and a default scenario."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# numba caches compiled kernels here: one compilation per test session, nothing written into the repository
os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="biodist-numba-"))

import numpy as np
import pytest

import biodist

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
DEFAULT_SCENARIO = CONFIGS / "human_msc_iv.toml"
#: Organs every shipped species must have (issue 2).
REQUIRED_ORGANS = frozenset("lung brain heart liver spleen gut kidney muscle skin adipose bone_marrow knee".split())


@pytest.fixture
def default_scenario() -> biodist.Scenario:
    return biodist.load_scenario(DEFAULT_SCENARIO)


def random_overrides(rng: np.random.Generator, species: str = "human") -> dict[str, object]:
    """A random but valid parameter set, expressed as --set overrides."""
    scenario = biodist.load_scenario(DEFAULT_SCENARIO, {"species": species})
    organs = [o for o in scenario.species.organs if o != "lung"]
    shares = rng.dirichlet(np.ones(len(organs) + 1))[:-1]  # last share is rest
    out: dict[str, object] = {"species": species}
    for organ, share in zip(organs, shares, strict=True):
        out[f"species.organs.{organ}.flow_fraction"] = float(share)
    out["species.cardiac_output_l_per_min"] = float(scenario.species.cardiac_output_l_per_min * rng.uniform(0.5, 2))
    out["species.arterial_blood_fraction"] = float(rng.uniform(0.1, 0.6))
    out["cell.lung_pass_fraction"] = float(rng.uniform(0, 1))
    out["cell.viable_fraction"] = float(rng.uniform(0.5, 1))
    for key in ("lung_half_life_h", "lodged_half_life_h", "circulating_half_life_h"):
        out[f"cell.{key}"] = float(10 ** rng.uniform(-1, 3))
    out["cell.lung_release_per_h"] = float(10 ** rng.uniform(-6, 0))
    out["cell.retention_per_pass.default"] = float(rng.uniform(0, 1))
    out["cell.retention_per_pass.liver"] = float(rng.uniform(0, 1))
    out["cell.release_per_h.default"] = float(10 ** rng.uniform(-6, 0))
    out["cell.release_per_h.gut"] = float(10 ** rng.uniform(-6, 0))  # through the liver's bed
    out["dose_cells"] = float(10 ** rng.uniform(2, 9))
    return out


def slow_sweep_spec(
    tmp_path: Path,
    samples: int = 24,
    chunk_points: int = 2,
    compartments: str = '["brain", "lung"]',
    statistics: str = '["mean", "q0.5"]',
    replicates: int = 50,
) -> Path:
    """A sweep of Monte Carlo statistics slow enough to interrupt (kill trials, resume, workers), in tmp_path."""
    spec = tmp_path / "slow.toml"
    spec.write_text(
        f'scenario = "{DEFAULT_SCENARIO}"\ndesign = "lhs"\nsamples = {samples}\nseed = 4\n'
        f"chunk_points = {chunk_points}\n"
        '[parameters."cell.lung_pass_fraction"]\nlow = 0.015\nhigh = 0.037\n'
        f"[outputs]\ncompartments = {compartments}\ntimes_h = [1, 24]\n"
        f"statistics = {statistics}\nreplicates = {replicates}\n"
    )
    return spec
