"""Atomic writes: a reader sees the old file (or folder) or the complete new one, never a partial write.

* :func:`atomic_write` writes one file through a temporary sibling and :func:`os.replace`.
* :func:`atomic_folder` assembles a whole folder in a temporary sibling and swaps it into
  place in one step (Linux ``renameat2(RENAME_EXCHANGE)``), so a run killed at any moment
  leaves the previous complete folder or the new complete one. Temporary siblings are named
  after the host and process that made them; those of runs that have ended are removed by the
  next :func:`atomic_folder` on the same folder (a concurrent run's are left alone).

A write that fails for want of space raises :class:`~biodist.errors.OutputError` naming the file.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import socket
import stat
import tempfile
import time
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
    """The process's umask, read without changing it (setting it, even for an instant, is not thread-safe)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # pragma: no cover - no /proc: the classic way
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


def _host() -> str:
    return socket.gethostname().replace("-", "_").replace(".", "_")[:32] or "host"


def _tag(kind: str) -> str:
    """``biodist-new-HOST-PID-``: who made a temporary sibling (so that only a dead run's leftovers are removed)."""
    return f"{kind}{_host()}-{os.getpid()}-"


def leftovers(folder: Path) -> list[Path]:
    """Temporary siblings of ``folder`` that an :func:`atomic_folder` made (by any run, alive or not)."""
    parent = folder.parent if str(folder.parent) else Path(".")
    if not parent.is_dir():
        return []
    prefix = f".{folder.name}."
    return sorted(
        p for p in parent.iterdir() if p.name.startswith(prefix) and p.name[len(prefix) :].startswith((_NEW, _OLD))
    )


def _owner_dead(path: Path) -> bool:
    """True if the run that made ``path`` has ended (this host: its process is gone; another host: a day old)."""
    rest = path.name.split(_NEW if _NEW in path.name else _OLD, 1)[1]
    host, _, rest = rest.partition("-")
    pid_text = rest.partition("-")[0]
    if host != _host() or not pid_text.isdigit():
        try:
            return time.time() - path.lstat().st_mtime > 86400
        except OSError:
            return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False  # alive


def _remove(path: Path) -> None:
    """Remove a leftover, whatever it is (a folder, a file, a symlink: never what a symlink points to)."""
    try:
        if path.is_symlink() or not path.is_dir():
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path)
    except OSError:
        pass


def _recover(folder: Path) -> None:
    """Undo what a killed run left: an old folder set aside is put back; half-assembled ones are removed.

    Only leftovers of runs that have ended are touched: a concurrent run's folder in the making is left alone.
    """
    stale = [p for p in leftovers(folder) if _owner_dead(p)]
    aside = [p for p in stale if _OLD in p.name and p.is_dir() and not p.is_symlink()]
    if aside and not os.path.lexists(folder):
        os.rename(aside[0], folder)
        stale.remove(aside[0])
    for p in stale:
        _remove(p)


@contextlib.contextmanager
def atomic_folder(folder: str | Path) -> Iterator[Path]:
    """Assemble a folder in a temporary sibling; on success swap it into place whole.

    Yields the temporary folder to write into. If the body raises, the temporary folder is
    removed and ``folder`` is untouched. An existing ``folder`` is replaced as a whole (the
    caller checks first that it holds nothing else worth keeping, and gives a path without
    symlinks: :func:`os.path.realpath`); the new folder keeps the old one's permissions.
    """
    folder = Path(os.path.realpath(folder))
    parent = folder.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _recover(folder)
        tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{folder.name}.{_tag(_NEW)}"))
    except OSError as exc:
        raise _failed(folder, exc) from None
    try:
        _same_mode(tmp, folder)
        yield tmp
        try:
            _swap_in(tmp, folder)
        except OSError as exc:
            raise _failed(folder, exc) from None
    finally:
        _remove(tmp)  # after a swap: the old folder, or nothing


def _same_mode(tmp: Path, folder: Path) -> None:
    """The new folder gets the old one's mode and group (else what a new folder would get)."""
    try:
        old = folder.stat()
    except FileNotFoundError:
        os.chmod(tmp, 0o777 & ~_umask())
        return
    os.chmod(tmp, stat.S_IMODE(old.st_mode))
    with contextlib.suppress(OSError):
        os.chown(tmp, -1, old.st_gid)


def _swap_in(tmp: Path, folder: Path) -> None:
    """Put the assembled ``tmp`` at ``folder``; the old folder, if any, is removed after."""
    _fsync_dir(tmp)
    if not os.path.lexists(folder):
        os.rename(tmp, folder)
    elif not _exchange(tmp, folder):  # after an exchange ``tmp`` holds the old folder (the caller removes it)
        # two renames: for an instant there is no folder; the old one waits aside until the new one is in
        old = tmp.with_name(tmp.name.replace(_NEW, _OLD, 1))
        os.rename(folder, old)
        os.rename(tmp, folder)
        _remove(old)
    _fsync_dir(folder.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
