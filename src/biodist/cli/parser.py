"""The command line's arguments: one parser, every command and option (no science here)."""

from __future__ import annotations

import argparse
import typing
from pathlib import Path

__all__ = ["build_parser"]


class _Version(argparse.Action):
    """``--version``: the version is read from the package metadata only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: typing.Any) -> None:
        super().__init__(option_strings, dest=dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: typing.Any, **kwargs: typing.Any) -> None:
        from .._version import version

        print(f"biodist {version()}")
        parser.exit(0)


#: Largest count accepted for --cells and --replicates (the dose's own limit).
MAX_COUNT = 10**15


def _positive_int(text: str) -> int:
    """An integer in [1, MAX_COUNT], written as digits or as an integral float (``1e6``)."""
    try:
        value = int(text)
    except ValueError:
        try:
            number = float(text)
            value = int(number) if number.is_integer() else None
        except (ValueError, OverflowError):
            value = None
    if value is None or not 1 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{text!r}: must be an integer from 1 to {MAX_COUNT:.0e}")
    return value


def _seed(text: str) -> int:
    """A seed: an integer >= 0 (any size: it feeds numpy's SeedSequence)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be an integer >= 0")
    return value


def _common(p: argparse.ArgumentParser, out_help: str) -> None:
    p.add_argument(
        "scenario", type=Path, help="scenario TOML file, or a shipped scenario's name (human_msc_iv, human_knee, ...)"
    )
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
    p.add_argument("--seed", type=_seed, default=None, help="seed (default: fresh entropy, printed and recorded)")
    p.add_argument(
        "--uncertainty",
        action="store_true",
        help="each replicate is a virtual subject drawing its parameters: the product's calibrated keys from its "
        "posterior (configs/posteriors/), the others from the [uncertainty] tables",
    )
    p.add_argument(
        "--uncertainty-from",
        choices=("posterior", "ranges"),
        default="posterior",
        help="with --uncertainty: the calibrated posterior where one applies (default), or the declared ranges only",
    )
    _yes(p)


def _readout(p: argparse.ArgumentParser, more: str) -> None:
    p.add_argument(
        "--readout",
        default="cells",
        metavar="NAME",
        help=f"what the table and figures show: cells (default), bli, label, dna, 111In, 99mTc, 18F-FDG, 51Cr {more}",
    )


def _yes(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--yes",
        action="store_true",
        help="run even when the estimate (said before the run) exceeds two minutes",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``biodist`` parser with every subcommand."""
    parser = _Parser(
        prog="biodist",
        description="Where infused therapeutic cells go, and how many reach the target tissue.",
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    sim = sub.add_parser(
        "simulate",
        help="expected cell counts per compartment over time (exact solution of the circulation model)",
        description="Expected viable cells per compartment at the scenario's report times.",
    )
    _common(sim, "write cells.csv, time_course.png and run.json here")
    _readout(sim, "(--json and run.json carry every readout)")
    sim.add_argument(
        "--method",
        choices=("exact", "solve_ivp"),
        default="exact",
        help="exact linear solution (default) or stiff numerical integration (independent check)",
    )
    sim.add_argument(
        "--interval",
        type=float,
        default=None,
        metavar="LEVEL",
        help="also the central interval of the expected counts over the calibrated posterior (0.9: 5-95 %%)",
    )
    mc = sub.add_parser(
        "mc",
        help="Monte Carlo: how many cells, how sure (counts, quantiles, per-cell histories, virtual subjects)",
        description="Sample cell counts per compartment over replicates; quantiles, P(target >= k), "
        "cumulative arrivals at the target and the first arrival.",
    )
    _common(mc, "write target_histogram.png, counts.parquet and run.json here")
    _readout(mc, "(sampled one unit of tracer per cell: exact mean; --json carries it as 'readout')")
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
    _readout(cmp, "(--json carries it per route as 'readout')")
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
    _yes(sw)
    sw.add_argument("--json", action="store_true", help="print the run record (and Sobol indices) as JSON")
    sb = sub.add_parser(
        "export-sbml",
        help="write the compiled model as SBML Level 3 (for COPASI, libRoadRunner, Tellurium)",
        description="Write the scenario's compiled circulation model as SBML L3V2: one species per compartment "
        "(cells), time in hours, named rate parameters, the dose as initial amounts or an infusion input.",
    )
    sb.add_argument("scenario", type=Path, help="scenario TOML file, or a shipped scenario's name")
    sb.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="SBML file to write")
    sb.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="as in simulate")
    val = sub.add_parser(
        "validate",
        help="run every published-data check in configs/validation and report pass/miss",
        description="Simulate every validation dataset with the default parameters; measured vs simulated, "
        "each compared with the readout of its assay (cells, dna, 111In, 18F-FDG...). "
        "Exit 0 when it ran (1 with --strict on a miss).",
    )
    val.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    val.add_argument("--out", type=Path, metavar="DIR", help="write validation.png, validation.csv and run.json here")
    val.add_argument("--strict", action="store_true", help="exit 1 when any measurement is missed")
    val.add_argument(
        "--datasets", type=Path, default=None, metavar="DIR", help="folder of datasets (default: the shipped ones)"
    )
    ft = sub.add_parser(
        "fit",
        help="fit parameters to measured %% of dose (log least squares) with 95 %% intervals",
        description="Fit --set keys to a CSV of measured % of dose (columns organ, time_h, pct_dose, optional "
        "measures = the assay's readout: cells, label, dna, 111In, 99mTc, 18F-FDG, 51Cr...); warns when parameters "
        "are not identifiable; writes a fitted cell config.",
    )
    ft.add_argument("data", type=Path, help="CSV: organ, time_h, pct_dose (0: below detection), measures, lod_pct_dose")
    ft.add_argument(
        "--params", required=True, help="comma-separated --set keys, e.g. cell.lung_pass_fraction,cell.lung_half_life_h"
    )
    ft.add_argument("--scenario", type=Path, default=None, help="scenario file or name (default: human_msc_iv)")
    ft.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="as in simulate")
    ft.add_argument("--json", action="store_true", help="print one JSON object")
    ft.add_argument("--out", type=Path, metavar="DIR", help="write fitted_cell.toml, fit.json and run.json here")
    cal = sub.add_parser(
        "calibrate",
        help="Bayesian calibration of a cell product against the validation library (emcee), with diagnostics",
        description="Sample the posterior of the product's kinetic parameters given every validation measurement "
        "that runs it, each through its assay's readout; report medians and 90 %% intervals beside the priors, "
        "correlations, R-hat and ESS, and where a new study's reading of each measurement would fall.",
    )
    cal.add_argument(
        "config",
        type=Path,
        nargs="?",
        default=None,
        help="calibration file (default: configs/calibration/bm_msc.toml, the default product)",
    )
    cal.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write posterior.nc, posterior.parquet, predictive.csv, summary.csv, corner.png, predictive.png, "
        "run.json here",
    )
    cal.add_argument(
        "--leave-out",
        action="append",
        default=[],
        metavar="STUDY",
        help="keep a study (dataset name, e.g. lee2009) out of the fit and check it (repeatable)",
    )
    cal.add_argument(
        "--cross-validate",
        action="store_true",
        help="leave out every study in turn (PSIS; a refit where Pareto k > 0.7) and report the coverage",
    )
    cal.add_argument("--walkers", type=_positive_int, default=None, help="walkers (default: the file's)")
    cal.add_argument("--steps", type=_positive_int, default=None, help="steps per walker (default: the file's)")
    cal.add_argument("--burn", type=int, default=None, help="steps discarded as burn-in (default: the file's)")
    cal.add_argument("--seed", type=_seed, default=None, help="seed (default: the file's)")
    cal.add_argument("--workers", type=_positive_int, default=None, help="processes (default: 2 where available)")
    cal.add_argument(
        "--export-posterior",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the thinned posterior with its provenance (how configs/posteriors/ is made)",
    )
    cal.add_argument("--quiet", action="store_true", help="no progress lines")
    cal.add_argument("--json", action="store_true", help="print one JSON object")
    plot = sub.add_parser(
        "plot",
        help="redraw the figures of a saved result folder (from its run.json and tables)",
        description="Redraw the figures of a folder written by simulate, mc or compare --out.",
    )
    plot.add_argument("result_dir", type=Path, help="a folder written with --out")
    return parser
