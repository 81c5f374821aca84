"""What a command costs before it starts working: the import time of the command line and of what it loads.

Measured with ``python -X importtime`` in fresh processes (the best of ten), for ``biodist.cli`` alone
(what ``biodist --help`` needs) and for the modules ``biodist simulate`` imports before it computes
(configs, model, solvers, results, text tables). Prints one JSON object:
``{"results": [{"imports", "seconds"}], "heaviest": [...]}``.

Run: ``python benchmarks/bench_import.py``
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

TARGETS = {
    "biodist": "import biodist",
    "biodist.cli": "import biodist.cli",
    "simulate (before computing)": (
        "import biodist.cli.commands, biodist.config, biodist.io.text; from biodist.results import simulate"
    ),
}


def importtime(code: str) -> tuple[float, list[tuple[float, str]]]:
    """Total import time (s) of a statement in a fresh interpreter, and its heaviest top-level imports."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True).stderr
    rows = []
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(2)) / 1e6, len(m.group(3)), m.group(4)))
    top = [(t, name) for t, depth, name in rows if depth == 1]
    return sum(t for t, _ in top), sorted(top, reverse=True)[:6]


def main() -> None:
    results, heaviest = [], {}
    for label, code in TARGETS.items():
        runs = [importtime(code) for _ in range(10)]
        best = min(runs, key=lambda r: r[0])
        results.append({"imports": label, "seconds": round(best[0], 3)})
        heaviest[label] = [{"module": name, "seconds": round(t, 3)} for t, name in best[1]]
    print(json.dumps({"results": results, "heaviest": heaviest}))


if __name__ == "__main__":
    main()
