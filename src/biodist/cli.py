"""Command line: ``biodist simulate SCENARIO [--set KEY=VALUE]... [--json] [--out DIR]``.

Thin by design: parse arguments, call the API, print or write, choose the exit
code. Every :class:`~biodist.errors.BiodistError` becomes one line on standard
error and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import __version__
from .config import load_scenario
from .errors import BiodistError
from .outputs import atomic_write, run_record, write_json
from .report import summary_line, table, target_line
from .simulate import simulate

__all__ = ["main"]

#: Points of the log-spaced grid used for time-course figures.
_PLOT_POINTS = 241


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="biodist",
        description="Where infused therapeutic cells go, and how many reach the target tissue.",
    )
    parser.add_argument("--version", action="version", version=f"biodist {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sim = sub.add_parser(
        "simulate",
        help="expected cell counts per compartment over time (exact solution of the circulation model)",
        description="Expected viable cells per compartment at the scenario's report times.",
    )
    sim.add_argument("scenario", type=Path, help="scenario TOML file, e.g. configs/human_msc_iv.toml")
    sim.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value: dotted path as in the TOML files (dose_cells=2e6, "
        "cell.lung_pass_fraction=0.03, species.organs.knee.flow_fraction=1e-3, cell=adipose_msc); repeatable",
    )
    sim.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    sim.add_argument("--out", type=Path, metavar="DIR", help="write cells.csv, time_course.png and run.json here")
    sim.add_argument(
        "--method",
        choices=("exact", "solve_ivp"),
        default="exact",
        help="exact linear solution (default) or stiff numerical integration (independent check)",
    )
    return parser


def _write_outputs(out: Path, result, command: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import plot_time_course

    csv = result.to_dataframe().to_csv(index=False, float_format="%.10g").encode()
    atomic_write(out / "cells.csv", lambda fh: fh.write(csv))
    t_end = max(float(result.times_h.max()), 1e-2)
    grid = np.unique(np.concatenate([np.geomspace(1e-3, t_end, _PLOT_POINTS), result.times_h]))
    fig = plot_time_course(simulate(result.scenario, times_h=grid))
    atomic_write(out / "time_course.png", lambda fh: fig.savefig(fh, format="png", dpi=120))
    plt.close(fig)
    write_json(out / "run.json", run_record(result.scenario, command, result=result.to_dict()))


def _simulate(args: argparse.Namespace, command: list[str]) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    result = simulate(scenario, method=args.method)
    if args.json:
        print(json.dumps(result.to_dict(), allow_nan=False))
    else:
        print(summary_line(result))
        print(target_line(result))
        print()
        print(table(result))
    if args.out is not None:
        _write_outputs(args.out, result, command)
        if not args.json:
            print(f"\nwrote {args.out / 'cells.csv'}, {args.out / 'time_course.png'}, {args.out / 'run.json'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    try:
        return _simulate(args, ["biodist", *argv])
    except BiodistError as exc:
        print(f"biodist: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. --out on a read-only path
        print(f"biodist: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
