"""Command line: ``biodist simulate | mc | compare | sweep | validate | fit | export-sbml | plot``.

Thin by design: parse arguments, call the API, print or write, choose the exit code.
Every :class:`~biodist.errors.BiodistError` becomes one line on standard error and exit
code 2. Only argparse is imported before a command runs; each command imports what it needs.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from ..errors import BiodistError, BiodistWarning, LongRunNotice
from .parser import build_parser

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for bad input)."""
    from .commands import COMMANDS

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():  # restores the caller's filters and display afterwards
        warnings.simplefilter("always", LongRunNotice)  # a cost said before the run, never an error
        warnings.showwarning = _shower(warnings.showwarning)
        return _run(COMMANDS[args.command], args, ["biodist", *argv])


def _run(command: Any, args: Any, argv: list[str]) -> int:
    try:
        return command(args, argv)
    except BiodistError as exc:
        print(f"biodist: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed: stop quietly
        sys.stdout = open(os.devnull, "w")
        return 1
    except OSError as exc:  # e.g. --out on a read-only path
        print(f"biodist: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2


def _shower(other: Any) -> Any:
    """Show biodist's warnings as one line on standard error, at once (a run's cost before it starts)."""

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, BiodistWarning):
            kind = "note" if issubclass(category, LongRunNotice) else "warning"
            print(f"biodist: {kind}: {message}", file=sys.stderr, flush=True)
        else:
            other(message, category, *args, **kwargs)

    return show
