"""Atomic writes: a reader sees the old file (or folder) or the complete new one, never a partial write.

* :func:`atomic_write` writes one file through a temporary sibling and :func:`os.replace`.
* :func:`atomic_folder` assembles a whole folder in a temporary sibling and swaps it into
  place in one step (Linux ``renameat2(RENAME_EXCHANGE)``), so a run killed at any moment
  leaves the previous complete folder or the new complete one. Temporary siblings left by a
  killed run are removed by the next :func:`atomic_folder` on the same folder.

A write that fails for want of space raises :class:`~biodist.errors.OutputError` naming the file.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import OutputError

__all__ = ["atomic_folder", "atomic_write", "leftovers", "write_json"]

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
#: Prefixes of a folder's temporary siblings: ``.<name>.<tag><random>``.
_NEW, _OLD = "biodist-new-", "biodist-old-"


def _failed(path: Path, exc: OSError) -> OutputError:
    """One line naming the file that could not be written, and why."""
    if exc.errno in _FULL:
        return OutputError(
            f"{path}: no space left on the device (nothing was written there); free space, or write elsewhere"
        )
    return OutputError(f"{path}: cannot write ({exc.strerror or exc})")


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], Any]) -> Path:
    """Write a file through a temporary sibling and an atomic rename.

    A reader sees the old file or the complete new one, never a partial write.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _failed(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the permissions a normal file would have
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _failed(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    data = (json.dumps(obj, indent=2, allow_nan=False) + "\n").encode()
    return atomic_write(path, lambda fh: fh.write(data))


# ---------------------------------------------------------------------------
# whole folders
# ---------------------------------------------------------------------------
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2() -> Any:
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # not glibc >= 2.28 (or not Linux)
        return None
    fn.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    fn.restype = ctypes.c_int
    return fn


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step; False where the system cannot (the caller falls back to two renames)."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # a file system without exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def leftovers(folder: Path) -> list[Path]:
    """Temporary siblings of ``folder`` that a killed :func:`atomic_folder` left behind."""
    parent = folder.parent if str(folder.parent) else Path(".")
    if not parent.is_dir():
        return []
    prefix = f".{folder.name}."
    return sorted(
        p for p in parent.iterdir() if p.name.startswith(prefix) and p.name[len(prefix) :].startswith((_NEW, _OLD))
    )


@contextlib.contextmanager
def _locked(parent: Path) -> Iterator[None]:
    """An OS lock on the parent folder (released when the process dies): one swap at a time."""
    fd = os.open(parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _recover(folder: Path) -> None:
    """Undo what a killed swap left: an old folder set aside is put back; half-assembled ones are removed."""
    stale = leftovers(folder)
    aside = [p for p in stale if _OLD in p.name]
    if aside and not folder.exists():
        os.rename(aside[0], folder)
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)


@contextlib.contextmanager
def atomic_folder(folder: str | Path) -> Iterator[Path]:
    """Assemble a folder in a temporary sibling; on success swap it into place whole.

    Yields the temporary folder to write into. If the body raises, the temporary folder is
    removed and ``folder`` is untouched. An existing ``folder`` is replaced as a whole (the
    caller checks first that it holds nothing else worth keeping).
    """
    folder = Path(os.path.abspath(folder))
    parent = folder.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _failed(parent, exc) from None
    with _locked(parent):
        _recover(folder)
        try:
            tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{folder.name}.{_NEW}"))
        except OSError as exc:
            raise _failed(folder, exc) from None
        try:
            os.chmod(tmp, 0o777 & ~_umask())
            yield tmp
            try:
                _swap_in(tmp, folder)
            except OSError as exc:
                raise _failed(folder, exc) from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # after a swap: the old folder, or nothing


def _swap_in(tmp: Path, folder: Path) -> None:
    """Put the assembled ``tmp`` at ``folder``; the old folder, if any, is removed after."""
    _fsync_dir(tmp)
    if not folder.exists():
        os.rename(tmp, folder)
    elif not _exchange(tmp, folder):  # after an exchange ``tmp`` holds the old folder (the caller removes it)
        # two renames: for an instant there is no folder; the old one waits aside until the new one is in
        old = tmp.with_name(tmp.name.replace(_NEW, _OLD))
        os.rename(folder, old)
        os.rename(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(folder.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
