"""Command line: ``biodist simulate | mc | compare | sweep | validate | fit | export-sbml | plot``.

Thin by design: parse arguments, call the API, print or write, choose the exit
code. Every :class:`~biodist.errors.BiodistError` becomes one line on standard
error and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__, writers
from .config import load_scenario
from .errors import BiodistError, ConfigError
from .expected import simulate
from .outputs import atomic_write, run_record, write_json
from .report import compare_table, mc_table, summary_line, table, target_line, validation_table

__all__ = ["main"]


def _positive_int(text: str) -> int:
    try:
        value = int(float(text)) if float(text).is_integer() else None
    except ValueError:
        value = None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be an integer >= 1")
    return value


def _common(p: argparse.ArgumentParser, out_help: str) -> None:
    p.add_argument("scenario", type=Path, help="scenario TOML file, e.g. configs/human_msc_iv.toml")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value: dotted path as in the TOML files (dose_cells=2e6, "
        "cell.lung_pass_fraction=0.03, species.organs.knee.flow_fraction=1e-3, cell=adipose_msc); repeatable",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--out", type=Path, metavar="DIR", help=out_help)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``biodist: error: ...``) and exit code 2."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _sampling(p: argparse.ArgumentParser, replicates: int) -> None:
    """The Monte Carlo options shared by mc and compare."""
    p.add_argument(
        "--replicates", type=_positive_int, default=replicates, help=f"Monte Carlo replicates (default {replicates})"
    )
    p.add_argument("--seed", type=int, default=None, help="seed (default: fresh entropy, printed and recorded)")
    p.add_argument(
        "--uncertainty",
        action="store_true",
        help="each replicate is a virtual subject drawing the scenario's [uncertainty] parameters",
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="biodist",
        description="Where infused therapeutic cells go, and how many reach the target tissue.",
    )
    parser.add_argument("--version", action="version", version=f"biodist {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    sim = sub.add_parser(
        "simulate",
        help="expected cell counts per compartment over time (exact solution of the circulation model)",
        description="Expected viable cells per compartment at the scenario's report times.",
    )
    _common(sim, "write cells.csv, time_course.png and run.json here")
    sim.add_argument(
        "--method",
        choices=("exact", "solve_ivp"),
        default="exact",
        help="exact linear solution (default) or stiff numerical integration (independent check)",
    )
    mc = sub.add_parser(
        "mc",
        help="Monte Carlo: how many cells, how sure (counts, quantiles, per-cell histories, virtual subjects)",
        description="Sample cell counts per compartment over replicates; quantiles, P(target >= k), "
        "cumulative arrivals at the target and the first arrival.",
    )
    _common(mc, "write target_histogram.png, counts.parquet and run.json here")
    _sampling(mc, replicates=100)
    mc.add_argument("--cells", type=_positive_int, default=None, help="cells per replicate (default: the dose)")
    mc.add_argument(
        "--method",
        choices=("per_cell", "aggregated"),
        default="per_cell",
        help="per_cell: walk every cell, with histories (default); aggregated: exact counts, cost independent of N",
    )
    cmp = sub.add_parser(
        "compare",
        help="compare routes (iv, intra_arterial, direct): cells at the target over time, bars, where the dose goes",
        description="Solve and sample the scenario once per route and show the cells at the target side by side.",
    )
    _common(cmp, "write compare_time_course.png, compare_bars.png, dose_split.png, compare.csv and run.json here")
    cmp.add_argument("--routes", default="iv,intra_arterial,direct", help="comma-separated routes (default: all three)")
    cmp.add_argument("--time-h", type=float, default=None, help="time of the bar chart and dose split (h; default 24)")
    _sampling(cmp, replicates=200)
    sw = sub.add_parser(
        "sweep",
        help="parameter sweep (grid, Latin hypercube, Sobol) into a resumable Parquet dataset",
        description="Evaluate a sweep spec chunk by chunk, locally or on a Dask cluster; resume after a crash.",
    )
    sw.add_argument("spec", type=Path, help="sweep spec TOML, e.g. configs/sweeps/pass_fraction.toml")
    sw.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="output folder (data/, manifest.json, run.json)"
    )
    sw.add_argument("--resume", action="store_true", help="finish an interrupted sweep: compute only missing chunks")
    sw.add_argument("--workers", type=_positive_int, default=None, help="local worker processes (default: all cores)")
    sw.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT", help="run on this Dask scheduler")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.add_argument("--json", action="store_true", help="print the run record (and Sobol indices) as JSON")
    sb = sub.add_parser(
        "export-sbml",
        help="write the compiled model as SBML Level 3 (for COPASI, libRoadRunner, Tellurium)",
        description="Write the scenario's compiled circulation model as SBML L3V2: one species per compartment "
        "(cells), time in hours, named rate parameters, the dose as initial amounts or an infusion input.",
    )
    sb.add_argument("scenario", type=Path, help="scenario TOML file")
    sb.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="SBML file to write")
    sb.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="as in simulate")
    val = sub.add_parser(
        "validate",
        help="run every published-data check in configs/validation and report pass/miss",
        description="Simulate every validation dataset with the default parameters; measured vs simulated, "
        "cells compared with viable cells and imaging with label. Exit 0 when it ran (1 with --strict on a miss).",
    )
    val.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    val.add_argument("--out", type=Path, metavar="DIR", help="write validation.png, validation.csv and run.json here")
    val.add_argument("--strict", action="store_true", help="exit 1 when any measurement is missed")
    val.add_argument(
        "--datasets", type=Path, default=None, metavar="DIR", help="folder of datasets (default: the shipped ones)"
    )
    ft = sub.add_parser(
        "fit",
        help="fit parameters to measured % of dose (log least squares) with 95 % intervals",
        description="Fit --set keys to a CSV of measured % of dose (columns organ, time_h, pct_dose, optional "
        "measures = cells | label); warns when parameters are not identifiable; writes a fitted cell config.",
    )
    ft.add_argument("data", type=Path, help="CSV: organ, time_h, pct_dose[, measures]")
    ft.add_argument(
        "--params", required=True, help="comma-separated --set keys, e.g. cell.lung_pass_fraction,cell.lung_half_life_h"
    )
    ft.add_argument("--scenario", type=Path, default=None, help="scenario (default: configs/human_msc_iv.toml)")
    ft.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="as in simulate")
    ft.add_argument("--json", action="store_true", help="print one JSON object")
    ft.add_argument("--out", type=Path, metavar="DIR", help="write fitted_cell.toml, fit.json and run.json here")
    plot = sub.add_parser(
        "plot",
        help="redraw the figures of a saved result folder (from its run.json and tables)",
        description="Redraw the figures of a folder written by simulate, mc or compare --out.",
    )
    plot.add_argument("result_dir", type=Path, help="a folder written with --out")
    return parser


def _emit(args: argparse.Namespace, result: Any, text: Callable[[], str], write: Callable, command: list[str]) -> None:
    print(json.dumps(result.to_dict(), allow_nan=False) if args.json else text())
    if args.out is not None:
        written = write(args.out, result, command)
        if not args.json:
            print(f"\nwrote {', '.join(str(p) for p in written)}")


def _check_out(out: Path | None) -> None:
    """Refuse an output path that cannot be a folder before any work is done."""
    if out is not None and out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder; give a folder to write the results into")


def _simulate(args: argparse.Namespace, command: list[str]) -> int:
    _check_out(args.out)
    result = simulate(load_scenario(args.scenario, args.overrides), method=args.method)
    _emit(
        args,
        result,
        lambda: "\n".join([summary_line(result), target_line(result), "", table(result)]),
        writers.write_simulate,
        command,
    )
    return 0


def _progress(total: int, enabled: bool) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """A tqdm bar on a terminal, shown only if the run lasts more than 2 s."""
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="cell", unit_scale=True, delay=2.0, file=sys.stderr, leave=False)
    return bar.update, bar.close


def _mc(args: argparse.Namespace, command: list[str]) -> int:
    from .montecarlo import monte_carlo

    _check_out(args.out)
    scenario = load_scenario(args.scenario, args.overrides)
    n_cells = args.cells if args.cells is not None else round(scenario.dose_cells)
    update, close = _progress(n_cells * args.replicates, sys.stderr.isatty() and args.method == "per_cell")
    try:
        result = monte_carlo(
            scenario,
            n_cells=n_cells,
            replicates=args.replicates,
            seed=args.seed,
            method=args.method,
            uncertainty=args.uncertainty,
            progress=update,
        )
    finally:
        close()
    _emit(args, result, lambda: mc_table(result), writers.write_mc, command)
    return 0


def _compare(args: argparse.Namespace, command: list[str]) -> int:
    from .compare import compare

    _check_out(args.out)
    scenario = load_scenario(args.scenario, args.overrides)
    routes = [r.strip() for r in args.routes.split(",") if r.strip()]
    result = compare(scenario, routes, args.time_h, args.replicates, args.seed, args.uncertainty)
    print(json.dumps(result.to_dict(), allow_nan=False) if args.json else compare_table(result))
    if args.out is not None:
        written = writers.write_compare(args.out, result, command)
        if not args.json:
            print(f"\nwrote {', '.join(str(p) for p in written)}")
    return 0


def _plot(args: argparse.Namespace, command: list[str]) -> int:
    from .replot import redraw

    writers.use_agg()
    written = redraw(args.result_dir)
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


def _sweep(args: argparse.Namespace, command: list[str]) -> int:
    from .sweep import read_dataset, run_sweep, sobol_indices

    bar = None
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit="chunk", file=sys.stderr, leave=False)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.n = done
            bar.refresh()

    try:
        run = run_sweep(args.spec, args.out, args.resume, args.workers, args.scheduler, progress)
    finally:
        if bar is not None:
            bar.close()
    frame = read_dataset(args.out)
    record: dict[str, Any] = {
        "kind": "sweep",
        "spec": run.spec.model_dump(mode="json"),
        "points": len(run.points),
        "rows": len(frame),
        "dataset": str(args.out / "data"),
    }
    if run.spec.design == "sobol":
        record["sobol"] = sobol_indices(run, frame)
        writers.use_agg()
        from .plotting import plot_sobol

        writers.savefig(args.out / "sobol.png", plot_sobol(record["sobol"]).figure)
    write_json(args.out / "run.json", run_record(run.scenario, command, **record))
    if args.json:
        print(json.dumps(record, allow_nan=False))
        return 0
    name = run.spec.name or args.spec.stem
    print(f"{name}: {len(run.points):,} points, {len(frame):,} rows in {args.out / 'data'}")
    if "sobol" in record:
        sob = record["sobol"]
        print(f"Sobol indices of {sob['output']} (95 % CI), ranked by total effect:")
        ranked = sorted(sob["parameters"].items(), key=lambda kv: -kv[1]["ST"])
        for name, ix in ranked:
            print(f"  {name:<40} S1 {ix['S1']:6.3f} ± {ix['S1_conf']:.3f}   ST {ix['ST']:6.3f} ± {ix['ST_conf']:.3f}")
    return 0


def _export_sbml(args: argparse.Namespace, command: list[str]) -> int:
    from .sbml import to_sbml

    if args.output.is_dir():
        raise ConfigError(f"-o {args.output}: is a folder; give a file name such as model.xml")
    xml = to_sbml(load_scenario(args.scenario, args.overrides)).encode()
    atomic_write(args.output, lambda fh: fh.write(xml))
    print(f"wrote {args.output}")
    return 0


def _validate_cmd(args: argparse.Namespace, command: list[str]) -> int:
    from .config import bundled_config_dir
    from .validation import evaluate, load_datasets

    _check_out(args.out)
    folder = args.datasets or bundled_config_dir() / "validation"
    rows = [row for path, data in load_datasets(folder) for row in evaluate(path, data)]
    if not rows:
        raise ConfigError(f"{folder}: no validation datasets (*.toml) found")
    missed = [r["id"] for r in rows if not r["pass"]]
    if args.json:
        print(json.dumps({"results": rows, "passed": len(rows) - len(missed), "missed": missed}, allow_nan=False))
    else:
        print(validation_table(rows))
    if args.out is not None:
        import pandas as pd

        writers.use_agg()
        from .plotting import plot_validation

        csv = pd.DataFrame(rows).to_csv(index=False).encode()
        atomic_write(args.out / "validation.csv", lambda fh: fh.write(csv))
        writers.savefig(args.out / "validation.png", plot_validation(rows).figure)
        write_json(args.out / "run.json", {"kind": "validate", "command": command, "results": rows})
    return 1 if (args.strict and missed) else 0


def _fit(args: argparse.Namespace, command: list[str]) -> int:
    import warnings

    import tomli_w

    from .config import bundled_config_dir
    from .fit import NonIdentifiableWarning, fit, read_data

    _check_out(args.out)
    scenario_path = args.scenario or bundled_config_dir().parent / "configs" / "human_msc_iv.toml"
    if not scenario_path.exists():
        scenario_path = bundled_config_dir() / "human_msc_iv.toml"
    scenario = load_scenario(scenario_path, args.overrides)
    params = [p.strip() for p in args.params.split(",") if p.strip()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NonIdentifiableWarning)
        result = fit(scenario, read_data(args.data), params)
    for w in caught:
        print(f"biodist: warning: {w.message}", file=sys.stderr)
    record = result.to_dict()
    if args.json:
        print(json.dumps(record, allow_nan=False))
    else:
        print(
            f"fit of {', '.join(params)} to {result.n_data} measurements of {args.data} (log-residual SD "
            f"{result.residual_sd_log:.3g}):"
        )
        for name, est, lo, hi in zip(result.params, result.estimate, result.low, result.high, strict=True):
            print(f"  {name:<40} {est:.4g}   95 % CI [{lo:.4g}, {hi:.4g}]")
    if args.out is not None:
        cell = scenario.cell.model_dump()
        for name, est in zip(result.params, result.estimate, strict=True):
            if name.startswith("cell."):
                node = cell
                *path, leaf = name.split(".")[1:]
                for part in path:
                    node = node[part]
                node[leaf] = float(est)
        cell["description"] = f"{cell.get('description', '')} — fitted to {args.data.name} by biodist fit".strip()
        text = f"# Written by biodist fit ({' '.join(command)}); fitted: {', '.join(params)}\n" + tomli_w.dumps(cell)
        atomic_write(args.out / "fitted_cell.toml", lambda fh: fh.write(text.encode()))
        write_json(args.out / "fit.json", record)
        write_json(
            args.out / "run.json",
            run_record(scenario, command, kind="fit", result=record),
        )
    return 0


_COMMANDS = {
    "simulate": _simulate,
    "mc": _mc,
    "compare": _compare,
    "sweep": _sweep,
    "export-sbml": _export_sbml,
    "validate": _validate_cmd,
    "fit": _fit,
    "plot": _plot,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args, ["biodist", *argv])
    except BiodistError as exc:
        print(f"biodist: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed: stop quietly
        sys.stdout = open(os.devnull, "w")
        return 1
    except OSError as exc:  # e.g. --out on a read-only path
        print(f"biodist: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
