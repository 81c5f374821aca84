"""What each command does: load, call the API, print, write — nothing else (the science is below)."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["COMMANDS"]


def _check_out(out: Path | None, kind: str, need_bytes: int | None = None) -> None:
    """Refuse, before any work is done, an output folder that cannot be written (or would lose another result)."""
    if out is not None:
        from ..io.folders import MIN_FREE_BYTES, check_out

        check_out(out, need_bytes or MIN_FREE_BYTES, kind)


def _uncertainty(args: argparse.Namespace) -> bool | str:
    """``--uncertainty`` with ``--uncertainty-from``: False, True (posterior where one applies) or ``"ranges"``."""
    return args.uncertainty and ("ranges" if args.uncertainty_from == "ranges" else True)


def _scenario(args: argparse.Namespace, source: Path | str | None = None) -> Any:
    from ..config import Scenario

    return Scenario.load(source if source is not None else args.scenario, args.overrides)


def _print_json(obj: Any) -> None:
    from ..errors import SolverError

    try:
        text = json.dumps(obj, allow_nan=False)
    except ValueError:  # a non-finite number: never written (each result writes null where a value is undefined)
        raise SolverError("the result holds a number that is not finite; nothing was written") from None
    print(text)


def _emit(
    args: argparse.Namespace,
    result: Any,
    text: Callable[[], str],
    command: list[str],
    also: Callable[[Path], list[Path]] | None = None,
    **save: Any,
) -> None:
    """Print the result (table or JSON) and, with ``--out``, save it with its figures (and what ``also`` writes)."""
    _print_json(result.to_dict()) if args.json else print(text())
    if getattr(args, "out", None) is not None:
        from ..io.folders import save as save_folder

        written = save_folder(result, args.out, figures=True, command=command, also=also, **save)
        if not args.json:
            print(f"\nwrote {', '.join(str(p) for p in written)}")


def _progress(total: int, enabled: bool, unit: str = "cell") -> tuple[Callable[[int], None] | None, Any]:
    """A tqdm bar on a terminal, shown only if the run lasts more than 2 s."""
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total, unit=unit, unit_scale=True, delay=2.0, file=sys.stderr, leave=False)
    return bar.update, bar


def simulate(args: argparse.Namespace, command: list[str]) -> int:
    """``biodist simulate``."""
    from ..config.tracer import check_readout
    from ..io.text import readout_table, summary_line, table, target_line
    from ..results import simulate as run

    _check_out(args.out, "simulate")
    scenario = _scenario(args)
    check_readout(args.readout, scenario.folder)
    result = run(scenario, method=args.method, readouts=("all", args.readout))
    if args.interval is not None:
        from ..results.interval import with_interval

        result = with_interval(result, args.interval)
    shown = table(result) if args.readout == "cells" else readout_table(result, args.readout)
    if result.interval is not None:
        from ..io.text import interval_table

        shown += "\n\n" + interval_table(result)
    text = lambda: "\n".join([summary_line(result), target_line(result), "", shown])  # noqa: E731
    _emit(args, result, text, command)
    return 0


def mc(args: argparse.Namespace, command: list[str]) -> int:
    """``biodist mc``."""
    from ..io.text import mc_table
    from ..results import monte_carlo

    scenario = _scenario(args)
    # the output grows with replicates x compartments x times (table rows, run.json arrays): ~64 bytes each
    cells_rows = args.replicates * (len(scenario.species.organ_names) + 8) * len(scenario.times_h)
    _check_out(args.out, "mc", 16 * 2**20 + 64 * cells_rows * (1 if args.readout == "cells" else 3))
    n_cells = args.cells if args.cells is not None else round(scenario.dose_cells)
    update, bar = _progress(n_cells * args.replicates, sys.stderr.isatty() and args.method == "per_cell")
    try:
        result = monte_carlo(
            scenario,
            n_cells=n_cells,
            replicates=args.replicates,
            seed=args.seed,
            method=args.method,
            uncertainty=_uncertainty(args),
            progress=update,
            allow_long=args.yes,
            readout=args.readout,
        )
    finally:
        if bar is not None:
            bar.close()
    _emit(args, result, lambda: mc_table(result), command)
    return 0


def compare(args: argparse.Namespace, command: list[str]) -> int:
    """``biodist compare``."""
    from ..io.text import compare_table
    from ..studies.compare import compare as run

    _check_out(args.out, "compare")
    routes = [r.strip() for r in args.routes.split(",") if r.strip()]
    scenario = _scenario(args)
    result = run(scenario, routes, args.time_h, args.replicates, args.seed, _uncertainty(args), args.yes, args.readout)
    _emit(args, result, lambda: compare_table(result), command)
    return 0


def plot(args: argparse.Namespace, command: list[str]) -> int:
    """``biodist plot``: redraw the figures of a saved folder."""
    from ..errors import BiodistWarning
    from ..io.figures import write_figures
    from ..io.folders import load

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BiodistWarning)
        result = load(args.result_dir)
    for w in caught:
        print(f"biodist: warning: {w.message}", file=sys.stderr)
    written = write_figures(args.result_dir, result)
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


def sweep(args: argparse.Namespace, command: list[str]) -> int:
    """``biodist sweep``."""
    from ..atomic import write_json
    from ..io.record import run_record
    from ..io.text import sweep_lines
    from ..studies.sweep import run_sweep, sobol_indices
    from ..studies.sweep.store import ChunkStore

    bar = None
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit="chunk", file=sys.stderr, leave=False)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.total, bar.n = total, done
            bar.refresh()

    try:
        run = run_sweep(args.spec, args.out, args.resume, args.workers, args.scheduler, progress, allow_long=args.yes)
    finally:
        if bar is not None:
            bar.close()
    record: dict[str, Any] = {
        "kind": "sweep",
        "spec": run.spec.model_dump(mode="json"),
        "points": len(run.points),
        "rows": ChunkStore(args.out).rows(),
        "dataset": str(args.out / "data"),
    }
    if run.spec.design == "sobol":
        from ..io.figures import savefig, use_agg
        from ..plotting import plot_sobol

        record["sobol"] = sobol_indices(run, args.out)
        use_agg()
        savefig(args.out / "sobol.png", plot_sobol(record["sobol"]).figure)
    write_json(args.out / "run.json", run_record(run.scenario, command, **record))
    _print_json(record) if args.json else print(sweep_lines(run.spec.name or args.spec.stem, record))
    return 0


def export_sbml(args: argparse.Namespace, command: list[str]) -> int:
    """``biodist export-sbml``."""
    from ..atomic import atomic_write
    from ..errors import ConfigError
    from ..io.sbml import to_sbml

    out = args.output
    if str(out) in ("", ".") or out.is_dir():
        raise ConfigError(f"-o {str(out)!r}: is a folder; give a file name such as model.xml")
    if out.exists() and not out.is_file():  # a FIFO or a device: replacing it with a file is never what was meant
        raise ConfigError(f"-o {out}: exists and is not a regular file; give a file name such as model.xml")
    xml = to_sbml(_scenario(args)).encode()
    atomic_write(args.output, lambda fh: fh.write(xml))
    print(f"wrote {args.output}")
    return 0


def validate(args: argparse.Namespace, command: list[str]) -> int:
    """``biodist validate``."""
    from ..io.text import validation_table
    from ..studies.validate import validate as run

    _check_out(args.out, "validate")
    result = run(args.datasets)
    _emit(args, result, lambda: validation_table(result), command)
    return 1 if (args.strict and result.missed) else 0


def fit(args: argparse.Namespace, command: list[str]) -> int:
    """``biodist fit``."""
    from ..errors import BiodistWarning
    from ..io.fitted import write_fitted_cell
    from ..io.text import fit_table
    from ..studies.fit import fit as run
    from ..studies.fit import read_data

    _check_out(args.out, "fit")
    scenario = _scenario(args, args.scenario or "human_msc_iv")
    params = [p.strip() for p in args.params.split(",") if p.strip()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BiodistWarning)
        result = run(scenario, read_data(args.data), params)
    for w in caught:
        print(f"biodist: warning: {w.message}", file=sys.stderr)

    def cell_file(out: Path) -> list[Path]:
        return [write_fitted_cell(out / "fitted_cell.toml", scenario, result, args.data.name, command)]

    _emit(args, result, lambda: fit_table(result, str(args.data)), command, also=cell_file, scenario=scenario)
    return 0


def calibrate(args: argparse.Namespace, command: list[str]) -> int:
    """``biodist calibrate``."""
    from ..io.text import calibration_table
    from ..studies.calibration import calibrate as run
    from ..studies.calibration.sampler import stderr_progress

    _check_out(args.out, "calibrate")
    if args.export_posterior is not None:
        from ..io.posterior import check_export

        check_export(args.export_posterior)
    leave_out = [s.strip() for item in args.leave_out for s in item.split(",")]
    if any(not s for s in leave_out):
        from ..errors import ConfigError

        raise ConfigError(
            f"--leave-out {','.join(args.leave_out)!r}: an empty study name; give dataset names, e.g. lee2009"
        )
    result = run(
        args.config,
        leave_out=leave_out,
        cross_validate=args.cross_validate,
        walkers=args.walkers,
        steps=args.steps,
        burn=args.burn,
        seed=args.seed,
        workers=args.workers,
        progress=None if args.quiet else stderr_progress,
    )
    also = None
    if args.export_posterior is not None:
        from ..io.posterior import export_posterior

        path = export_posterior(args.export_posterior, result, command)
        also_line = f"wrote {path}"
    _emit(args, result, lambda: calibration_table(result), command, also=also)
    if args.export_posterior is not None and not args.json:
        print(also_line)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, list[str]], int]] = {
    "simulate": simulate,
    "mc": mc,
    "compare": compare,
    "sweep": sweep,
    "export-sbml": export_sbml,
    "validate": validate,
    "fit": fit,
    "calibrate": calibrate,
    "plot": plot,
}
