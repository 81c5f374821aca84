"""Export a calibration's posterior as the shipped one (``configs/posteriors/<product>.parquet``), with provenance.

The Parquet file holds thinned posterior draws (one column per calibrated ``--set`` key, and
``between_study_sd``); its sidecar ``<product>.json`` says how it was made: the command, biodist's
version and git commit, the calibration file, the product file and every dataset used (SHA-256),
the diagnostics and the summary. :mod:`biodist.config.posterior` reads it back.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write, write_json
from ..errors import ConfigError
from ..results import CalibrationResult
from ..studies.validate import load_datasets
from .record import run_record

__all__ = ["EXPORT_DRAWS", "check_export", "export_posterior"]

#: Draws kept in an exported posterior (thinned evenly over walkers and steps).
EXPORT_DRAWS = 4000


def check_export(path: Path) -> None:
    """Refuse, before the run, a posterior file that cannot be written."""
    if path.suffix != ".parquet":
        raise ConfigError(f"--export-posterior {path}: the file must end in .parquet (its provenance: .json beside it)")
    parent = next((p for p in (path.parent, *path.parent.parents) if p.exists()), Path("."))
    if path.is_dir() or not os.access(parent, os.W_OK):
        raise ConfigError(f"--export-posterior {path}: cannot be written; give a writable .parquet file")


def _sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _git_commit(where: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def export_posterior(path: Path, result: CalibrationResult, command: list[str]) -> Path:
    """Write the thinned posterior to ``path`` and its provenance to ``path.with_suffix('.json')``."""
    import pandas as pd

    draws = result.draws
    keep = draws[:: max(len(draws) // EXPORT_DRAWS, 1)][:EXPORT_DRAWS]
    frame = pd.DataFrame(keep, columns=result.names)
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    info = result.info

    config = Path(info["config"])
    folder = (config.parent / info["settings"]["datasets"]).resolve()
    used = set(info["studies"])
    datasets = {d.name: {"file": p.name, "sha256": _sha256(p)} for p, d in load_datasets(folder) if d.name in used}
    provenance: dict[str, Any] = run_record(
        None,
        command,
        kind="posterior",
        product=info["product"],
        draws=len(keep),
        columns=result.names,
        git_commit=_git_commit(Path(__file__).parent),
        calibration_file={"path": str(config), "sha256": _sha256(config)},
        product_file={"path": info["product_file"], "sha256": _sha256(info["product_file"])},
        datasets=datasets,
        excluded=info["excluded"],
        converged=result.converged,
        diagnostics=result.diagnostics,
        summary=result.table(),
        acceptance=info["acceptance"],
        seconds=info["seconds"],
        medians=dict(zip(result.names, np.median(keep, axis=0).tolist(), strict=True)),
    )
    atomic_write(path, lambda fh: fh.write(buf.getvalue()))
    write_json(path.with_suffix(".json"), provenance)
    return path
