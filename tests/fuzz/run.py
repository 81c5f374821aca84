"""Run the corpus of :mod:`tests.fuzz.corpus` and judge every outcome.

``python -m tests.fuzz.run [--every K]`` prints one JSON summary (and each failure on its own line).
Cases run in this process (fast), each in a fresh scratch folder, with a time limit (SIGALRM) and
the address space capped, so that a case that would hang or exhaust memory fails instead.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import resource
import signal
import sys
import tempfile
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fuzz.corpus import Case, corpus  # noqa: E402

#: Seconds a case may take.
TIME_LIMIT_S = 60
#: Address space allowed to the process running the corpus (bytes).
MEMORY_LIMIT = 8 << 30


class _Timeout(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    """What one case did, and what was wrong with it (empty: fine)."""

    case: str
    code: int | None
    stderr: str
    problems: tuple[str, ...]


def _alarm(signum: int, frame: object) -> None:
    raise _Timeout


def _finite(obj: object) -> bool:
    if isinstance(obj, dict):
        return all(_finite(v) for v in obj.values())
    if isinstance(obj, list):
        return all(_finite(v) for v in obj)
    return not isinstance(obj, float) or math.isfinite(obj)


def invariants(argv: tuple[str, ...], stdout: str) -> list[str]:
    """Checks of a result printed with ``--json`` (exit 0): finite, non-negative, balanced, first pass <= 1."""
    if "--json" not in argv:
        return []
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError as exc:
        return [f"--json printed no JSON ({exc})"]
    problems = [] if _finite(data) else ["non-finite number in the JSON"]
    command = argv[0]
    if command == "simulate":
        counts = data["counts"]
        times = data["times_h"]
        dose, minutes = data["dose_cells"], data["infusion_minutes"]
        for j, t in enumerate(times):
            given = dose * (min(1.0, t / (minutes / 60)) if minutes > 0 else 1.0)
            total = sum(row[j] for row in counts.values())
            if not abs(total - given) <= 1e-6 * dose:
                problems.append(f"mass balance at {t} h: {total} cells for {given} administered")
            if min(row[j] for row in counts.values()) < -1e-9 * dose:
                problems.append(f"negative count at {t} h")
            if "label" in data and not abs(sum(row[j] for row in data["label"].values()) - given) <= 1e-6 * dose:
                problems.append(f"label balance at {t} h")
        first = data["first_pass"]
        if any(v < -1e-12 or v > 1 + 1e-12 for v in first.values()) or sum(first.values()) > 1 + 1e-9:
            problems.append(f"first pass outside [0, 1]: sum {sum(first.values())}")
    if command == "mc":
        n = data["n_cells"]
        for j, t in enumerate(data["times_h"]):
            total = sum(row[j] for row in data["mean"].values())
            if abs(total - n) > 1e-6 * n and data.get("uncertainty") is False and "infusion" not in " ".join(argv):
                problems.append(f"cells not conserved at {t} h: {total} of {n}")
            if min(row[j] for row in data["mean"].values()) < 0:
                problems.append(f"negative mean at {t} h")
    if command == "compare":
        for route, r in data.items():
            for j, _ in enumerate(r["times_h"]):
                total = sum(row[j] for row in r["fraction_of_dose"].values())
                if total > 1 + 1e-6:
                    problems.append(f"{route}: more than the dose ({total})")
    return problems


def run_case(case: Case, work: Path) -> Outcome:
    """Run one case in ``work`` (its scratch folder) and judge it."""
    from biodist.cli import main

    if case.setup is not None:
        case.setup(work)
    out, err = io.StringIO(), io.StringIO()
    problems: list[str] = []
    code: int | None = None
    old = os.getcwd()
    os.chdir(work)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT_S)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("default")  # as a user's shell has them (pytest turns warnings into errors)
            try:
                code = main(list(case.argv))
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
    except _Timeout:
        problems.append(f"no answer within {TIME_LIMIT_S} s")
    except BaseException:
        problems.append("traceback: " + traceback.format_exc().strip().splitlines()[-1])
    finally:
        signal.alarm(0)
        os.chdir(old)
    stderr = err.getvalue()
    lines = [line for line in stderr.splitlines() if line.strip()]
    if "Traceback" in stderr:
        problems.append("traceback printed")
    if code == 2:
        if len(lines) != 1 or not lines[0].startswith(("biodist: error:", "biodist ")):
            problems.append(f"refused in {len(lines)} lines: {stderr[:300]!r}")
    elif code == 0:
        if case.expect == "refuse":
            problems.append("accepted an input that must be refused")
        else:
            problems += invariants(case.argv, out.getvalue())
    elif not problems:
        problems.append(f"exit code {code}")
    return Outcome(case.name, code, stderr.strip()[:300], tuple(problems))


def run_all(cases: list[Case]) -> list[Outcome]:
    """Every case, each in its own scratch folder."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        outcomes = []
        with tempfile.TemporaryDirectory(prefix="biodist-fuzz-") as tmp:
            for i, case in enumerate(cases):
                work = Path(tmp) / f"{i:05d}"
                work.mkdir()
                outcomes.append(run_case(case, work))
        return outcomes
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1, help="run every K-th case")
    parser.add_argument("--match", default="", help="only cases whose name contains this")
    args = parser.parse_args()
    cases = [c for c in corpus()[:: args.every] if args.match in c.name]
    outcomes = run_all(cases)
    bad = [o for o in outcomes if o.problems]
    for o in bad:
        print(json.dumps({"case": o.case, "code": o.code, "problems": o.problems, "stderr": o.stderr}))
    refused = sum(o.code == 2 for o in outcomes)
    print(json.dumps({"cases": len(outcomes), "refused": refused, "failures": len(bad)}))


if __name__ == "__main__":
    main()
