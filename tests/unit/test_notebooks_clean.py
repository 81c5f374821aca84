"""Notebooks are committed without outputs (they run, top to bottom, in the test suite via nbmake)."""

from __future__ import annotations

import json

import pytest
from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_three_notebooks():
    assert [p.name for p in NOTEBOOKS] == [
        "01_pulmonary_first_pass.ipynb",
        "02_knee_iv_vs_direct.ipynb",
        "03_heart_three_routes.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_stripped(path):
    book = json.loads(path.read_text())
    for cell in book["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs", []) == [], f"{path.name}: a code cell has outputs; strip them before committing"
            assert cell.get("execution_count") is None, f"{path.name}: a code cell has an execution count"
