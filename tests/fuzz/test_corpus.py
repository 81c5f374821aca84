"""The fuzz corpus as tests: every malformed input refused in one line, no traceback, no hang, no broken result.

A fixed, representative subset (every :data:`FAST_EVERY`-th case, which reaches every generator
of the corpus) runs in ``make test``; the rest is marked ``slow`` and runs in ``.ci/run``.
``python -m tests.fuzz.run`` runs the whole corpus outside pytest and prints a summary.
"""

from __future__ import annotations

import json

import pytest
from tests.fuzz import corpus as corpus_module
from tests.fuzz.corpus import Case, corpus
from tests.fuzz.run import invariants, run_case

CASES = corpus()
#: One case in this many runs in ``make test``.
FAST_EVERY = 5
FAST = CASES[::FAST_EVERY]
REST = [c for i, c in enumerate(CASES) if i % FAST_EVERY]
GENERATORS = (
    "set_cases",
    "times_cases",
    "extreme_rate_cases",
    "cli_cases",
    "file_cases",
    "sweep_cases",
    "data_cases",
    "damaged_folder_cases",
    "fault_cases",
    "mutated_file_cases",
)


def _name(case: Case) -> str:
    return case.name


@pytest.mark.parametrize("case", FAST, ids=_name)
def test_case(case: Case, tmp_path) -> None:
    outcome = run_case(case, tmp_path)
    assert not outcome.problems, (outcome.code, outcome.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("case", REST, ids=_name)
def test_case_full(case: Case, tmp_path) -> None:
    outcome = run_case(case, tmp_path)
    assert not outcome.problems, (outcome.code, outcome.stderr)


def test_corpus_is_large_and_covers_every_class() -> None:
    refused = [c for c in CASES if c.expect == "refuse"]
    assert len(refused) >= 1000
    fast_names = {c.name for c in FAST}
    for generator in GENERATORS:  # every class of input is in the corpus, and in the fast subset
        names = {c.name for c in getattr(corpus_module, generator)()}
        assert names, generator
        assert names & fast_names, f"{generator}: no case in the fast subset"


def test_the_judge_sees_an_accepted_bad_input(tmp_path) -> None:
    """Negative control: a valid command declared 'refuse' is reported as accepted."""
    case = Case("control", ("simulate", corpus_module.SCENARIO, "--json"), "refuse")
    assert "accepted an input that must be refused" in run_case(case, tmp_path).problems


def test_the_judge_sees_a_broken_balance() -> None:
    """Negative control: a result with cells missing, or a first pass above 1, is reported."""
    result = {
        "times_h": [1.0],
        "dose_cells": 100.0,
        "infusion_minutes": 0.0,
        "counts": {"lung": [60.0], "liver": [30.0]},
        "first_pass": {"liver": 0.7, "knee": 0.6},
    }
    problems = invariants(("simulate", "x", "--json"), json.dumps(result))
    assert any("mass balance" in p for p in problems)
    assert any("first pass" in p for p in problems)
    result["counts"]["liver"] = [40.0]
    result["first_pass"] = {"liver": 0.7, "knee": 0.2}
    assert invariants(("simulate", "x", "--json"), json.dumps(result)) == []


def test_an_unknown_option_is_one_line(tmp_path) -> None:
    """argparse would print its usage text and then the error (two lines); the parser prints one."""
    outcome = run_case(Case("control-usage", ("simulate", "--nope"), "refuse"), tmp_path)
    assert outcome.code == 2
    assert not outcome.problems, outcome.stderr
