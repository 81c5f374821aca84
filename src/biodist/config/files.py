"""Config files: reading TOML, and finding a config by name beside a scenario or among the shipped ones."""

from __future__ import annotations

import copy
import functools
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .limits import CONFIG_NAME_PATTERN

__all__ = ["KINDS", "available", "bundled_config_dir", "find_config", "find_scenario", "read_toml"]

#: Kinds of named configs and the folder holding each.
KINDS = {
    "species": "species",
    "cell": "cells",
    "routes": "routes",
    "validation": "validation",
    "sweep": "sweeps",
    "tracer": "tracers",
}


def bundled_config_dir() -> Path:
    """Folder of the configs shipped with biodist (``configs/``)."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "configs", here.parents[1] / "configs"):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"{here}: the bundled configs folder is missing; reinstall biodist")


def available(folder: str, base: Path | None = None) -> list[str]:
    """Names of the configs in a folder (``"species"``, ``"cells"``; ``""``: scenarios), shipped and beside ``base``."""
    dirs = [bundled_config_dir() / folder] + ([base / folder] if base is not None else [])
    names = {p.stem for d in dirs if d.is_dir() for p in d.glob("*.toml")}
    return sorted(n for n in names if re.fullmatch(CONFIG_NAME_PATTERN, n) and ".." not in n)


@functools.lru_cache(maxsize=512)
def _parsed(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    """A file's TOML, parsed once per version of the file (keyed by its modification time and size)."""
    return tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))  # utf-8-sig: tolerate a byte-order mark


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file (a fresh copy each time), turning every failure into a one-line ConfigError.

    A file is parsed once per version (its path, modification time and size): a calibration loads the same
    species, cell and tracer files thousands of times.
    """
    path = Path(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(path)
        return copy.deepcopy(_parsed(str(path.resolve()), info.st_mtime_ns, info.st_size))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a .toml file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: malformed TOML: not UTF-8 text") from None
    except RecursionError:
        raise ConfigError(f"{path}: malformed TOML: arrays or tables nested too deeply") from None


def _is_bare_name(text: str) -> bool:
    return bool(text) and "/" not in text and "\\" not in text and not text.endswith(".toml")


def find_config(kind: str, name: Any, base: Path | None = None, where: str = "") -> Path:
    """The file of a named config of ``kind`` (``"species"``, ``"cell"``, ``"routes"``).

    A name ending in ``.toml`` is a path (relative to ``base``); a bare name is looked
    up in ``base/<folder>/`` first, then among the shipped configs. ``where`` prefixes
    the message (the scenario file and key that named it).
    """
    folder = KINDS[kind]
    prefix = where or f"{kind} = {name!r}"
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{prefix}: must be a name or a .toml path")
    if not name.endswith(".toml") and (not re.fullmatch(CONFIG_NAME_PATTERN, name) or ".." in name):
        raise ConfigError(
            f"{prefix}: a name is letters, digits, '_', '-' and '.' without path separators "
            "(a file is a path ending in .toml); "
            f"allowed names: {', '.join(available(folder, base)) or 'none found'}"
        )
    if name.endswith(".toml"):
        path = Path(name)
        return path if path.is_absolute() or base is None else base / path
    for root in ([base / folder] if base is not None else []) + [bundled_config_dir() / folder]:
        candidate = root / f"{name}.toml"
        if candidate.is_file():
            return candidate
    allowed = ", ".join(available(folder, base)) or "none found"
    raise ConfigError(f"{prefix}: unknown {kind}; allowed: {allowed}")


def find_scenario(source: str | Path) -> Path:
    """A scenario file: a path as given, else a shipped scenario by name (``human_msc_iv``) from any folder."""
    path = Path(source)
    if path.exists() or not _is_bare_name(str(source)):
        return path
    candidate = bundled_config_dir() / f"{source}.toml"
    if candidate.is_file():
        return candidate
    allowed = ", ".join(available("")) or "none found"
    raise ConfigError(f"{source}: no such file, and not a shipped scenario; shipped scenarios: {allowed}")
