"""Where a sweep keeps its chunks: one Parquet file per chunk, written atomically, and a manifest.

Layout of an output folder::

    DIR/manifest.json            spec fingerprint, points, chunk size, chunks done
    DIR/.lock                    held by the sweep that is writing (released by the OS when it dies)
    DIR/data/chunk-00000.parquet one file per chunk, each written atomically
    DIR/run.json                 record of the run (and Sobol indices for a sobol design)

A chunk is either wholly on disk or absent, so an interrupted sweep (even by SIGKILL)
leaves no partial or duplicated rows; resuming computes only the missing chunks.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ...atomic import atomic_write, write_json
from ...errors import ConfigError

__all__ = ["DATA", "MANIFEST", "ChunkStore"]

DATA = "data"
MANIFEST = "manifest.json"
LOCK = ".lock"


def _check_chunk(path: Path) -> None:
    """Refuse a chunk file that is not a whole Parquet file (only damage from outside can make one)."""
    import pyarrow.parquet as pq

    try:
        pq.ParquetFile(path).metadata  # noqa: B018 - reading the footer is the check
    except Exception:
        raise ConfigError(
            f"{path}: damaged (not a whole Parquet file); delete it and --resume to compute it again"
        ) from None


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
        self.given = str(out)  # as the user wrote it, for messages
        # what the kernel will reach (symlinks and '..' resolved), so that a dangling link makes its target folder
        self.out = Path(os.path.realpath(out))
        self.n_chunks = n_chunks

    def path(self, i: int) -> Path:
        """File of chunk ``i``."""
        return self.out / DATA / f"chunk-{i:05d}.parquet"

    def done(self) -> set[int]:
        """Chunks wholly on disk."""
        return {i for i in range(self.n_chunks) if self.path(i).is_file()}

    def __enter__(self) -> ChunkStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.unlock()

    def _lock(self) -> None:
        """Hold an exclusive lock on the folder (released by the OS if this process dies)."""
        import fcntl

        self.out.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.out / LOCK, "w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock_file.close()
            self._lock_file = None
            raise self._busy() from None

    def _busy(self) -> ConfigError:
        return ConfigError(
            f"--out {self.given}: another sweep is writing into this folder; wait for it to finish, or choose another"
        )

    def _locked_by_another(self) -> bool:
        """Whether another process holds the folder's lock (tried without waiting, released at once)."""
        import fcntl

        try:
            with open(self.out / LOCK, "rb") as fh:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    return True
                fcntl.flock(fh, fcntl.LOCK_UN)
        except OSError:  # no lock file: no sweep has started here
            return False
        return False

    def unlock(self) -> None:
        """Release the folder's lock."""
        if getattr(self, "_lock_file", None) is not None:
            self._lock_file.close()
            self._lock_file = None

    def check(self, fingerprint: str, resume: bool) -> set[int]:
        """Open the folder for this sweep and return the chunks already done.

        It locks the folder and refuses another sweep's folder, a used one without ``resume``, stray or
        damaged files; what a killed writer left (``.tmp`` files) is removed.
        """
        if os.path.islink(self.out):
            raise ConfigError(f"--out {self.given}: is a symlink that does not resolve (a loop); give a folder")
        if self.out.exists() and not self.out.is_dir():
            raise ConfigError(f"--out {self.given}: exists and is not a folder")
        manifest = self.out / MANIFEST
        if not manifest.exists() and self.out.exists() and not self._fresh():
            if self._locked_by_another():  # a sweep starting in it right now (its manifest not yet written)
                raise self._busy()
            raise ConfigError(f"--out {self.given}: exists and is not empty; choose a new folder")
        self._lock()  # from here on, no other sweep changes the folder
        if manifest.exists():
            try:
                old = json.loads(manifest.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                old = None
            if not isinstance(old, dict) or not isinstance(old.get("fingerprint"), str):
                raise ConfigError(
                    f"{manifest}: damaged (not a sweep manifest); this folder's state is lost, use a new --out"
                )
            nothing_done = not any((self.out / DATA).glob("chunk-*.parquet"))
            if not resume and not (nothing_done and old["fingerprint"] == fingerprint):
                raise ConfigError(
                    f"--out {self.given}: holds a sweep already; add --resume to finish it, or choose another folder"
                )
            if old["fingerprint"] != fingerprint:
                raise ConfigError(
                    f"--out {self.given}: holds a different sweep (fingerprint {old['fingerprint']} != "
                    f"{fingerprint}); choose another folder"
                )
        (self.out / DATA).mkdir(parents=True, exist_ok=True)
        for tmp in (self.out / DATA).glob(".*.tmp"):  # left by a killed writer; never part of the dataset
            tmp.unlink()
        ours = {self.path(i).name for i in range(self.n_chunks)}
        for path in (self.out / DATA).iterdir():
            if path.name not in ours:
                raise ConfigError(
                    f"{path}: not a chunk of this sweep ({self.n_chunks} chunks); remove it, or choose another folder"
                )
        done = self.done()
        for i in sorted(done):
            _check_chunk(self.path(i))
        return done

    def _fresh(self) -> bool:
        """Nothing in the folder but what a sweep starting in it makes first (its lock, an empty data/)."""
        for p in self.out.iterdir():
            if p.name == LOCK or (p.name == DATA and p.is_dir() and not any(p.iterdir())):
                continue
            return False
        return True

    def write(self, i: int, payload: bytes) -> None:
        """Store chunk ``i`` (Parquet bytes) atomically."""
        atomic_write(self.path(i), lambda fh: fh.write(payload))

    def write_manifest(self, record: dict[str, Any]) -> None:
        """Record the sweep's fingerprint and progress."""
        write_json(self.out / MANIFEST, record)

    def files(self) -> list[Path]:
        """The chunk files on disk, in order."""
        files = sorted((self.out / DATA).glob("chunk-*.parquet"))
        if not files:
            raise ConfigError(f"{self.out}: no sweep chunks in {self.out / DATA}")
        return files

    def rows(self) -> int:
        """How many rows the chunks hold (from their footers: no row is read)."""
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(f).metadata.num_rows for f in self.files())

    def read(self, filters: list[tuple[str, str, Any]] | None = None, columns: list[str] | None = None) -> Any:
        """The sweep's rows as one pandas DataFrame, ordered by point.

        ``filters`` (pyarrow's ``[(column, op, value), ...]``) and ``columns`` select while reading,
        chunk by chunk, so that only what is asked for is ever held.
        """
        import pandas as pd

        parts = [pd.read_parquet(f, filters=filters, columns=columns) for f in self.files()]
        return pd.concat(parts, ignore_index=True)
