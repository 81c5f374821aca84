"""Run the golden cases and write their JSON (``python tests/golden/record.py``).

Run once, before the regrouping of issue 9, to record what the package computed then; the golden test
(``tests/integration/test_golden.py``) runs the same cases and compares. Re-record only when a change of the
numbers is intended, and say so in the commit. Re-recorded so far: ``validate.json`` (issue 11: each
measurement is read through the readout of its assay — Alu qPCR through ``dna``, 111In-oxine through
``111In``, 18F-FDG through ``18F-FDG`` — where it was compared with viable cells or the generic label);
the ten human ``simulate-*`` cases (issue 11: the human label's liver share is a healthy default, 0.8, instead of
the cirrhosis value 0.3; only their ``label`` numbers changed, checked before re-recording); ``validate.json``
again (issue 11: 13 new studies, 24 new measurements, and each row names species, cell, product, route and dose;
the 20 earlier rows were checked field by field to be unchanged before re-recording); the ten human ``simulate-*``
cases again (issue 11: free 99mTc from HMPAO-labelled cells is the secondary complex, to urine and gut, not
pertechnetate; every changed number was checked to lie under ``readouts/99mTc``); ``fit-example.json`` (issue 12:
probabilities fitted on the logit scale — the estimates agree to 4e-9, the intervals moved by 3e-4 relative —
and the observed-vs-predicted table added).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.golden.cases import CASES, VOLATILE  # noqa: E402

HERE = Path(__file__).resolve().parent


def strip(obj):
    """Drop wall-clock values (anywhere in the tree)."""
    if isinstance(obj, dict):
        return {k: strip(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [strip(v) for v in obj]
    return obj


def run_case(argv: list[str]) -> object:
    """Run one case in this process; return its JSON (for sweeps: the dataset's rows, ordered)."""
    from biodist.cli import main

    args = [str(ROOT / a) if a.startswith(("configs/", "tests/")) else a for a in argv]
    with tempfile.TemporaryDirectory() as tmp:
        if args[0] == "sweep":
            args += ["--out", str(Path(tmp) / "sweep")]
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(args)
        if code != 0:
            raise RuntimeError(f"{' '.join(argv)}: exit {code}")
        if args[0] == "sweep":
            import pandas as pd

            frame = pd.read_parquet(Path(tmp) / "sweep" / "data")
            frame = frame.sort_values(["point", "statistic", "compartment", "time_h"]).reset_index(drop=True)
            return {"columns": list(frame.columns), "rows": frame.to_dict(orient="list")}
        return strip(json.loads(buf.getvalue()))


def main() -> None:
    for name, argv in CASES.items():
        out = run_case(argv)
        (HERE / f"{name}.json").write_text(json.dumps(out, indent=None, allow_nan=False) + "\n")
        print(name)


if __name__ == "__main__":
    main()
