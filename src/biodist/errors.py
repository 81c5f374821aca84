"""Exceptions and warnings raised by biodist.

Every error a user can cause by what they wrote (a config file, a ``--set``
override, an API argument) is a :class:`ConfigError`: its message is one line
naming the file, the key, the value and what is allowed. The command line turns
any :class:`BiodistError` into that line on standard error and exit code 2.
"""

from __future__ import annotations

__all__ = [
    "BiodistError",
    "BiodistWarning",
    "ConfigError",
    "LongRunNotice",
    "OutputError",
    "SolverError",
]


class BiodistError(Exception):
    """Base class of all errors biodist raises on purpose."""


class ConfigError(BiodistError, ValueError):
    """Invalid user input: a config file, a ``--set`` override or an argument.

    Parameters
    ----------
    message : str
        One line: file, key, value and what is allowed.
    """


class SolverError(BiodistError, RuntimeError):
    """A numerical method failed (e.g. ``solve_ivp`` did not converge)."""


class BiodistWarning(UserWarning):
    """Base class of biodist's warnings."""


class OutputError(BiodistError, OSError):
    """An output could not be written (no space, no permission); the message names the file."""


class LongRunNotice(BiodistWarning):
    """A run about to start will take a while: its estimated time and memory (said before it starts)."""
