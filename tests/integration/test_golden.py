"""Golden test: the numbers recorded before the regrouping of issue 9 must not change.

``tests/golden/*.json`` were written by ``tests/golden/record.py`` from the code as it was before the package was
regrouped into layers. Every case is run again here and compared number by number:

* Monte Carlo samples (counts and everything computed from them: means, quantiles, P(>= k), arrivals, histories)
  must be **identical**, except that a sampled time that is not a whole number (a first arrival) may differ by
  1e-14 of itself: it is a sum of exponential holding times that numba compiles for the host CPU, and its last bit
  moved when the project moved to another machine (2026-12-02; counts unchanged);
* deterministic numbers must agree to 1e-12 relative. For one number ``x`` the test accepts
  ``|x_new - x_old| <= 1e-12 * max(|x_old|, scale)``, where ``scale`` is the largest magnitude of the same quantity in
  the same output (e.g. every ``counts`` value of a simulate run: the dose). That is the normwise relative error: the
  exact solution itself is accurate to about 1e-13 of the dose (against ``scipy.linalg.expm``), so a count holding
  1e-9 of the dose carries a relative round-off far above 1e-12 whichever way the chain is solved, and demanding
  1e-12 of it would test the order of floating-point operations rather than the model.

One case is held to less: the fit. The regrouping also made the linear solver about ten times more accurate
(block lower-triangular generators are decomposed block by block: ``biodist.solvers.linear.decompose``), which
moves predictions of counts holding 1e-5 of the dose by ~1e-10 of themselves; the least-squares optimum (found to
``xtol = 1e-8``) then moves by 8e-12 and its finite-difference correlations by 5e-10. The fit must agree to 1e-9
with the new solver, and to 1e-12 when the old, single decomposition is forced
(``test_fit_is_unchanged_with_the_old_decomposition``), which shows that nothing else in the fit changed.

These are not correctness tests (the numbers have their own oracles elsewhere): they catch a change.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from tests.golden.cases import CASES
from tests.golden.record import run_case

pytestmark = pytest.mark.pinned  # numbers recorded from an earlier run: they detect change, not error

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
RTOL = 1e-12
#: Cases held to a looser tolerance, and why (see the module docstring).
_RTOL_CASE = {"fit-example": 1e-9}
#: Keys of Monte Carlo outputs that come from the ODE, not from the sample (compared with the tolerance).
_MC_EXPECTED = {"expected", "target_spread", "parameters", "first_pass", "fraction_of_dose", "target_mean"}
#: Names that label a row of a quantity (compartments, routes, studies) rather than a quantity.
_COMPARTMENT_LIKE = {
    *("venous_blood", "arterial_blood", "cleared", "depot", "engrafted"),  # compartments
    *("iv", "intra_arterial", "direct"),  # routes
    *("target", "elsewhere"),  # groups of the dose split (fractions of the whole dose)
}


def _leaves(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, (*path, i))
    else:
        yield path, obj


def _group(path, organs):
    """The quantity a leaf belongs to: its path without list indices and without row names."""
    return tuple(p for p in path if isinstance(p, str) and p not in organs and p not in _COMPARTMENT_LIKE)


def _is_sampled(case: str, path) -> bool:
    if case.startswith("mc-"):
        return not (set(p for p in path if isinstance(p, str)) & _MC_EXPECTED)
    if case.startswith("compare-"):
        return "target_quantiles" in path
    return False


def _organs(obj) -> set[str]:
    names: set[str] = set()
    for path, _ in _leaves(obj):
        for i, p in enumerate(path[:-1]):
            if p in ("counts", "mean", "fraction_of_dose", "label", "first_pass", "expected", "quantiles"):
                nxt = path[i + 1]
                if isinstance(nxt, str):
                    names.add(nxt)
    return names


def _compare_sweep(case: str, old: dict, new: dict) -> list[str]:
    assert new["columns"] == old["columns"], case
    problems = []
    stats = old["rows"]["statistic"]
    assert new["rows"]["statistic"] == stats
    for col in old["columns"]:
        if col != "cells":
            assert new["rows"][col] == old["rows"][col], (case, col)
    cells_old, cells_new = old["rows"]["cells"], new["rows"]["cells"]
    scale = max(abs(v) for v, s in zip(cells_old, stats, strict=True) if s == "mean")
    for i, (a, b, s) in enumerate(zip(cells_old, cells_new, stats, strict=True)):
        if s != "mean":
            if a != b:
                problems.append(f"row {i} ({s}): {b} != {a} (sampled: must be identical)")
        elif abs(b - a) > RTOL * max(abs(a), scale):
            problems.append(f"row {i} (mean): {b} vs {a}")
    return problems


#: Top-level keys added to the outputs after the recording (additions are allowed; their numbers have their own
#: oracles: ``readouts`` in tests/oracles/test_oracle_readouts.py).
ADDED_AFTER_RECORDING = ("readouts", "notes", "observed_vs_predicted")


def compare_outputs(case: str, old, new, rtol: float | None = None) -> list[str]:
    """Every difference beyond the rules in the module docstring, as readable lines."""
    rtol = _RTOL_CASE.get(case, RTOL) if rtol is None else rtol
    if case.startswith("sweep-"):
        return _compare_sweep(case, old, new)
    old_leaves, new_leaves = dict(_leaves(old)), dict(_leaves(new))
    problems = [f"{'/'.join(map(str, p))}: missing" for p in old_leaves if p not in new_leaves]
    problems += [
        f"{'/'.join(map(str, p))}: new key"
        for p in new_leaves
        if p not in old_leaves and p[0] not in ADDED_AFTER_RECORDING
    ]
    organs = _organs(old)
    scales: dict[tuple, float] = {}
    for path, value in old_leaves.items():
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            g = _group(path, organs)
            scales[g] = max(scales.get(g, 0.0), abs(value))
    for path, a in old_leaves.items():
        if path not in new_leaves:
            continue
        b = new_leaves[path]
        where = "/".join(map(str, path))
        numeric = isinstance(a, int | float) and not isinstance(a, bool)
        if not numeric or _is_sampled(case, path):
            # a sampled time (a first arrival: a sum of exponential holding times) may differ in its last bit from
            # machine to machine (numba compiles the kernel for the host CPU); counts and every integer must not
            timelike = numeric and isinstance(b, float) and not float(a).is_integer()
            if a != b and not (timelike and abs(b - a) <= 1e-14 * abs(a)):
                problems.append(f"{where}: {b!r} != {a!r}")
            continue
        if not isinstance(b, int | float) or isinstance(b, bool):
            problems.append(f"{where}: {b!r} is not a number (was {a!r})")
        elif abs(b - a) > rtol * max(abs(a), scales[_group(path, organs)]):
            problems.append(f"{where}: {b!r} vs {a!r} (rel {abs(b - a) / max(abs(a), 1e-300):.2g})")
    return problems


@pytest.mark.parametrize("case", sorted(CASES))
def test_numbers_match_the_recording(case):
    old = json.loads((GOLDEN / f"{case}.json").read_text())
    new = json.loads(json.dumps(run_case(CASES[case])))  # through JSON, as recorded
    problems = compare_outputs(case, old, new)
    assert not problems, f"{case}: {len(problems)} differences, first: " + "; ".join(problems[:5])


def test_fit_is_unchanged_with_the_old_decomposition(monkeypatch):
    """With one eigendecomposition of the whole generator (as before the regrouping) the fit matches: estimates to
    ~1e-11, and everything to 1e-8 (the optimizer's end point moves by round-off, and the correlation, a ratio of
    Jacobian products at that point, by ~1e-9 since issue 12 fits probabilities on the logit scale)."""
    import biodist.solvers.decomposition as decomposition

    monkeypatch.setattr(decomposition, "_blocks", lambda pattern, n: (None, n, ()))  # the whole matrix as one block
    old = json.loads((GOLDEN / "fit-example.json").read_text())
    new = json.loads(json.dumps(run_case(CASES["fit-example"])))
    problems = compare_outputs("fit-example", old, new, rtol=1e-8)
    assert not problems, "; ".join(problems[:5])


def test_the_comparison_can_fail():
    """The comparator reports a change of one count beyond round-off, and a change of one sampled count."""
    old = json.loads((GOLDEN / "simulate-human_msc_iv.json").read_text())
    new = json.loads(json.dumps(old))
    new["counts"]["knee"][2] *= 1 + 1e-4  # 1e-5 cells: ten times the tolerance at the scale of the dose
    assert compare_outputs("simulate-human_msc_iv", old, new)
    new = json.loads(json.dumps(old))
    new["counts"]["lung"][0] *= 1 + 1e-11
    assert compare_outputs("simulate-human_msc_iv", old, new)
    new = json.loads(json.dumps(old))
    new["counts"]["knee"][2] += 1e-12 * old["counts"]["knee"][2]  # round-off of a small count: accepted
    assert not compare_outputs("simulate-human_msc_iv", old, new)
    mc = json.loads((GOLDEN / "mc-per_cell-human_msc_iv.json").read_text())
    changed = json.loads(json.dumps(mc))
    changed["mean"]["brain"][0] += 0.01
    assert compare_outputs("mc-per_cell-human_msc_iv", mc, changed)
