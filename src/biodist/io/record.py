"""The machine-readable record of a run (``run.json``): resolved scenario, versions, command."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._version import version

__all__ = ["run_record"]


def run_record(scenario: Any, command: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """Record of a run: biodist and library versions, the command, the resolved scenario, and ``extra``."""
    import numpy
    import scipy

    record = {
        "biodist_version": version(),
        "command": list(sys.argv if command is None else command),
        "cwd": os.getcwd(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
    }
    if scenario is not None:
        # through pydantic's JSON encoder: infinite half-lives become "Infinity" strings
        record["scenario"] = json.loads(scenario.model_dump_json())
        record["scenario_files"] = {k: str(Path(v).resolve()) for k, v in scenario.sources.items()}
    return record | extra
