"""Where a sweep keeps its chunks: one Parquet file per chunk, written atomically, and a manifest.

Layout of an output folder::

    DIR/manifest.json            spec fingerprint, points, chunk size, chunks done
    DIR/data/chunk-00000.parquet one file per chunk, each written atomically
    DIR/run.json                 record of the run (and Sobol indices for a sobol design)

A chunk is either wholly on disk or absent, so an interrupted sweep (even by SIGKILL)
leaves no partial or duplicated rows; resuming computes only the missing chunks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...atomic import atomic_write, write_json
from ...errors import ConfigError

__all__ = ["DATA", "MANIFEST", "ChunkStore"]

DATA = "data"
MANIFEST = "manifest.json"


class ChunkStore:
    """The chunks of one sweep in one folder.

    Parameters
    ----------
    out : path
        The sweep's output folder.
    n_chunks : int
        How many chunks the sweep has.
    """

    def __init__(self, out: str | Path, n_chunks: int = 0) -> None:
        self.out = Path(out)
        self.n_chunks = n_chunks

    def path(self, i: int) -> Path:
        """File of chunk ``i``."""
        return self.out / DATA / f"chunk-{i:05d}.parquet"

    def done(self) -> set[int]:
        """Chunks wholly on disk."""
        return {i for i in range(self.n_chunks) if self.path(i).is_file()}

    def check(self, fingerprint: str, resume: bool) -> set[int]:
        """Open the folder for this sweep: refuse another sweep's folder or a used one without ``resume``.

        Returns the chunks already done (after removing what a killed writer left behind).
        """
        manifest = self.out / MANIFEST
        if manifest.exists():
            try:
                old = json.loads(manifest.read_text())
            except json.JSONDecodeError:
                raise ConfigError(
                    f"{manifest}: not valid JSON; this folder's sweep state is damaged, use a new --out"
                ) from None
            nothing_done = not any((self.out / DATA).glob("chunk-*.parquet"))
            if not resume and not (nothing_done and old.get("fingerprint") == fingerprint):
                raise ConfigError(
                    f"--out {self.out}: holds a sweep already; add --resume to finish it, or choose another folder"
                )
            if old.get("fingerprint") != fingerprint:
                raise ConfigError(
                    f"--out {self.out}: holds a different sweep (fingerprint {old.get('fingerprint')} != "
                    f"{fingerprint}); choose another folder"
                )
        elif self.out.exists() and any(self.out.iterdir()):
            raise ConfigError(f"--out {self.out}: exists and is not empty; choose a new folder")
        (self.out / DATA).mkdir(parents=True, exist_ok=True)
        for tmp in (self.out / DATA).glob(".*.tmp"):  # left by a killed writer; never part of the dataset
            tmp.unlink()
        return self.done()

    def write(self, i: int, payload: bytes) -> None:
        """Store chunk ``i`` (Parquet bytes) atomically."""
        atomic_write(self.path(i), lambda fh: fh.write(payload))

    def write_manifest(self, record: dict[str, Any]) -> None:
        """Record the sweep's fingerprint and progress."""
        write_json(self.out / MANIFEST, record)

    def read(self) -> Any:
        """The sweep's rows as one pandas DataFrame, ordered by point."""
        import pandas as pd

        files = sorted((self.out / DATA).glob("chunk-*.parquet"))
        if not files:
            raise ConfigError(f"{self.out}: no sweep chunks in {self.out / DATA}")
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
