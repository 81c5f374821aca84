"""A shipped posterior: calibrated parameter draws of a cell product (``configs/posteriors/<product>.parquet``).

Written by ``biodist calibrate --export-posterior`` (``make posterior``); its sidecar ``<product>.json``
records how (command, commit, the calibration, product and dataset files with their SHA-256).
:func:`find_posterior` returns the posterior of a scenario's cell product, or ``None`` when there is
none or when the product file changed since it was calibrated (then the draws describe another file).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .files import bundled_config_dir
from .keys import get

__all__ = ["FOLDER", "Posterior", "find_posterior"]

#: Folder of shipped posteriors (beside ``cells/``).
FOLDER = "posteriors"
#: Calibrated quantities that are not ``--set`` keys of the model.
NOT_KEYS = ("between_study_sd",)


@dataclass(frozen=True)
class Posterior:
    """Posterior draws (n, K) of a product's calibrated ``--set`` keys, and where they came from.

    ``extra``: the calibrated quantities that are not keys (``between_study_sd``), row by row with ``draws``.
    """

    product: str
    path: Path
    keys: tuple[str, ...]
    draws: np.ndarray
    provenance: dict[str, Any]
    extra: dict[str, np.ndarray] | None = None

    def sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``n`` joint draws (rows resampled with replacement): key → values."""
        rows = rng.integers(0, len(self.draws), n)
        return {k: self.draws[rows, d] for d, k in enumerate(self.keys)}

    def median(self) -> dict[str, float]:
        """Posterior median of each key."""
        return dict(zip(self.keys, np.median(self.draws, axis=0).tolist(), strict=True))

    def held(self, scenario: Any) -> tuple[str, ...]:
        """Keys whose value in the scenario is not its product file's (set by the user): held, not drawn."""
        from .cell import CellProduct

        product = CellProduct.from_file(Path(scenario.sources["cell"]))
        return tuple(k for k in self.keys if get(scenario, k) != get(product, k.removeprefix("cell.")))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=16)
def _read(path: str, mtime: int) -> tuple[tuple[str, ...], np.ndarray, dict[str, np.ndarray], str]:
    import pandas as pd

    frame = pd.read_parquet(path)
    keys = tuple(c for c in frame.columns if c not in NOT_KEYS)
    extra = {c: frame[c].to_numpy(dtype=float) for c in frame.columns if c in NOT_KEYS}
    text = Path(path).with_suffix(".json").read_text(encoding="utf-8")
    return keys, frame[list(keys)].to_numpy(dtype=float), extra, text


def find_posterior(scenario: Any) -> tuple[Posterior | None, str]:
    """The shipped posterior of the scenario's cell product (its file's stem), or ``None`` and why there is none.

    Looked for in the scenario's folder, then among the shipped configs. A posterior calibrated against
    another version of the product file (its SHA-256 differs) is not used: the draws describe another file.
    """
    cell_file = scenario.sources.get("cell")
    if not cell_file:
        return None, "the scenario's cell product has no file"
    stem = Path(cell_file).stem
    folders = [bundled_config_dir() / FOLDER]
    if scenario.folder is not None:
        folders.insert(0, scenario.folder / FOLDER)
    for folder in folders:
        path = folder / f"{stem}.parquet"
        if path.is_file() and path.with_suffix(".json").is_file():
            keys, draws, extra, text = _read(str(path), path.stat().st_mtime_ns)
            provenance = json.loads(text)
            if provenance.get("product_file", {}).get("sha256") != _sha256(Path(cell_file)):
                return None, (
                    f"{path} was calibrated against another version of {cell_file}; calibrate again "
                    "(make posterior) to use it"
                )
            return Posterior(stem, path, keys, draws, provenance, extra), ""
    return None, f"no calibrated posterior for the cell product {stem!r} ({FOLDER}/{stem}.parquet)"
