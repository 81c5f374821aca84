"""Configs that can be named: species, cell products and route sets (``Species.load("rat")``)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

from .base import ConfigModel
from .files import find_config, read_toml
from .keys import parse_overrides, set_in
from .messages import validate

__all__ = ["NamedConfig"]


class NamedConfig(ConfigModel):
    """A config kept in its own file and referred to by name (``configs/<folder>/<name>.toml``)."""

    _kind: ClassVar[str] = ""

    @classmethod
    def load(cls, name: str | Path, overrides: Mapping[str, Any] | None = None, base: Path | None = None) -> Self:
        """Load a shipped config by name (``"rat"``, ``"bm_msc"``), or a ``.toml`` path, with dotted overrides.

        Parameters
        ----------
        name : str or Path
            A bare name (looked up in ``base/<folder>`` and then among the shipped configs) or a path.
        overrides : mapping, optional
            Keys within this file, e.g. ``{"organs.knee.flow_fraction": 1e-3}``.
        base : Path, optional
            Folder to look in before the shipped configs.

        Raises
        ------
        ConfigError
            One line naming the file, key, value and what is allowed.
        """
        return cls.from_file(find_config(cls._kind, str(name), base), overrides)

    @classmethod
    def from_file(cls, path: Path, overrides: Mapping[str, Any] | None = None, prefix: str = "") -> Self:
        """Validate the file at ``path`` with ``overrides`` applied (``prefix`` names them in messages)."""
        overrides = parse_overrides(overrides)
        data = copy.deepcopy(read_toml(path))
        for key, value in overrides.items():
            set_in(data, key, value, cls, path, shown=f"{prefix}{key}")
        return validate(cls, data, path, [f"{prefix}{k}" for k in overrides])
