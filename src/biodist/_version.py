"""The package version, read from the installed metadata once, on first use."""

from __future__ import annotations

from functools import cache

__all__ = ["version"]


@cache
def version() -> str:
    """Biodist's version (``0+unknown`` when running from a source tree that is not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _metadata_version

    try:
        return _metadata_version("biodist")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"
