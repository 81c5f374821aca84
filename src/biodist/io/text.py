"""Plain-text summaries and tables of results (pure string functions: what the command line prints)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..config import LUNG
from ..model import ARTERIAL
from ..results import BAND, QUANTILES, SimulationResult, format_cells, format_percent

if TYPE_CHECKING:  # pragma: no cover
    from ..results import CalibrationResult, CompareResult, FitResult, MonteCarloResult, ValidationResult

__all__ = [
    "calibration_table",
    "compare_table",
    "fit_table",
    "format_cells",
    "format_percent",
    "interval_table",
    "mc_table",
    "summary_line",
    "sweep_lines",
    "table",
    "target_line",
    "validation_table",
]


def summary_line(result: SimulationResult) -> str:
    """The one-line first-pass summary."""
    fp = result.first_pass
    dose = result.dose_cells
    viable = result.scenario.cell.viable_fraction
    lung = fp[LUNG]
    cells = f"{dose:,.0f} cells" if viable == 1.0 else f"{dose * viable:,.0f} viable cells (of {dose:,.0f} infused)"
    return (
        f"{format_percent(lung)} of {cells} lodged in the lungs on first pass; "
        f"{format_percent(1.0 - lung)} reached the arterial circulation"
    )


def target_line(result: SimulationResult) -> str:
    """Where the target stands: first pass, peak over the report times, last value."""
    target = result.target
    t_peak, n_peak = result.peak(target)
    last = result.cells(target)[-1]
    return (
        f"target {target}: {format_percent(result.first_pass.get(target, 0.0))} of viable cells on first pass; "
        f"expected {format_cells(n_peak)} cells at {t_peak:g} h (largest over report times), "
        f"{format_cells(last)} at {result.times_h[-1]:g} h"
    )


def _columns(header: list[str], rows: list[tuple[str, list[str]]]) -> list[str]:
    """Lay out a header and (name, cells) rows: names left-aligned, cells right-aligned."""
    name_w = max(len(header[0]), *(len(r[0]) for r in rows))
    col_w = [max(len(c), *(len(r[1][j]) for r in rows)) for j, c in enumerate(header[1:])]

    def line(name: str, cells: list[str]) -> str:
        return "  ".join([name.ljust(name_w), *(c.rjust(w) for c, w in zip(cells, col_w, strict=True))])

    return [line(header[0], header[1:]), *(line(n, c) for n, c in rows)]


def table(result: SimulationResult) -> str:
    """Compartments × report times: expected cells and % of dose; ``*`` marks the target."""
    sc = result.scenario
    how = "bolus" if sc.infusion_minutes == 0 else f"infusion over {sc.infusion_minutes:g} min"
    head = (
        f"Expected viable cells (and % of dose) - {sc.name}: {sc.species.name}, {sc.cell.name}, "
        f"{sc.route} {how}, {result.dose_cells:,.0f} cells"
    )
    cols = [f"{t:g} h" for t in result.times_h]
    rows = []
    for i, comp in enumerate(result.compartments):
        mark = "*" if comp == result.target else " "
        cells = [
            f"{format_cells(n)} ({format_percent(f)})"
            for n, f in zip(result.counts[i], result.fraction_of_dose[i], strict=True)
        ]
        rows.append((f"{mark} {comp}", cells))
    lines = [head, *_columns(["  compartment", *cols], rows)]
    total = float(result.counts[:, -1].sum())
    lines.append(
        f"* target. 'cleared': cells no longer viable (incl. non-viable at infusion). "
        f"All compartments at {result.times_h[-1]:g} h: {format_cells(total)} cells = cells administered by then."
    )
    lines.append(f"{ARTERIAL} and venous_blood are circulating cells; organ rows are cells lodged in that bed.")
    return "\n".join(lines)


def _by_time(result: SimulationResult, rows: list[tuple[str, list[str]]]) -> list[str]:
    """Rows (name, one cell per report time) under a header of the report times; ``*`` marks the target."""
    marked = [(f"{'*' if name == result.target else ' '} {name}", cells) for name, cells in rows]
    return _columns(["  compartment", *(f"{t:g} h" for t in result.times_h)], marked)


def interval_table(result: SimulationResult) -> str:
    """The posterior interval of the expected cells, compartments × report times."""
    iv = result.interval
    lo_q, hi_q = (1 - iv["level"]) / 2, (1 + iv["level"]) / 2
    head = (
        f"{iv['level']:.0%} interval of the expected cells over the calibrated posterior ({lo_q:.0%}-{hi_q:.0%} of "
        f"{iv['draws']} draws of {', '.join(iv['drawn'])}; {iv['posterior']})"
    )
    rows = [
        (comp, [f"{format_cells(a)}-{format_cells(b)}" for a, b in zip(iv["low"][i], iv["high"][i], strict=True)])
        for i, comp in enumerate(result.compartments)
    ]
    lines = [head, *_by_time(result, rows)]
    if iv["held"]:
        lines.append(f"held at the scenario's value (set, not drawn): {', '.join(iv['held'])}")
    lines.append(
        "the parameter uncertainty the validation library leaves, for the mean of many subjects; one subject's "
        "count adds counting noise (mc --uncertainty), a new study's reading adds the between-study spread"
    )
    return "\n".join(lines)


def readout_table(result: SimulationResult, name: str) -> str:
    """One readout (``--readout``) by row and report time: cell equivalents and % of dose; ``*`` marks the target."""
    sc = result.scenario
    rows = result.readouts[name]
    units = "viable cells" if name in ("cells", "bli") else f"{name} signal, cell equivalents"
    head = (
        f"What {name} sees ({units}; and % of dose) - {sc.name}: {sc.species.name}, {sc.cell.name}, "
        f"{sc.route}, {result.dose_cells:,.0f} cells"
    )
    body = [
        (row, [f"{format_cells(v)} ({format_percent(v / result.dose_cells)})" for v in values])
        for row, values in rows.items()
    ]
    lines = [head, *_by_time(result, body)]
    if "free_tracer" in rows:
        lines.append(
            "free_tracer: tracer out of its cells, in blood; excreted, decayed, degraded: what has left the body "
            "(rows add up to the dose)."
        )
    return "\n".join(lines)


def _share(fraction: float) -> str:
    """A fraction as a percentage, or "no" when it is undefined (nothing to count yet)."""
    return "no" if fraction != fraction else f"{fraction:.2%}"


def _band(mean: float, *quantiles: float) -> str:
    """``mean [q1 · q2 · ...]`` with whole-number quantiles written as integers."""

    def q(x: float) -> str:
        return f"{x:,.0f}" if float(x).is_integer() else format_cells(x)

    return f"{format_cells(mean)} [{' · '.join(q(x) for x in quantiles)}]"


def mc_table(result: MonteCarloResult) -> str:
    """Monte Carlo summary: mean [5 %-95 %] per compartment and time, then the target's histories."""
    sc = result.scenario
    quant = result.quantiles()
    mean = result.mean()
    subjects = "virtual subjects (uncertainty on)" if result.parameters else "fixed parameters"
    lines = [
        f"Monte Carlo - {sc.name}: {result.n_cells:,} cells x {result.replicates} replicates, {result.method}, "
        f"heterogeneity {sc.heterogeneity}, {subjects}, seed {result.seed}",
        "cells: mean [5 % · 50 % · 95 % quantiles over replicates]; * marks the target",
    ]
    names = result.compartments
    ro = result.readout
    if ro is not None:
        quant = dict(zip(QUANTILES, np.quantile(ro.samples, QUANTILES, axis=0, method="inverted_cdf"), strict=True))
        mean, names = ro.samples.mean(axis=0), ro.rows
        spread = "exact" if ro.spread == "exact" else "an upper bound (each cell's tracer counted as one unit)"
        lines[-1] = f"readout {ro.name}: {ro.units}; mean [5 % · 50 % · 95 %]; spread {spread}; * marks the target"
    cols = [f"{t:g} h" for t in result.times_h]
    rows = []
    for i, comp in enumerate(names):
        cells = [_band(mean[i, j], *(quant[q][i, j] for q in QUANTILES)) for j in range(len(cols))]
        rows.append((f"{'*' if comp == result.target else ' '} {comp}", cells))
    lines += _columns(["  compartment", *cols], rows)
    spread = result.spread()
    lines.append("")
    lines.append(
        f"target {result.target}: P(>= 1 cell) = "
        + ", ".join(f"{p:.2f}" for p in result.p_at_least(1))
        + "; SD total / from parameters / counting at the last time: "
        + " / ".join(format_cells(float(spread[k][-1])) for k in ("total", "parameters", "counting"))
    )
    if result.histories:
        arrivals = result.histories["cumulative_arrivals"]
        first = result.histories["first_arrival_h"]
        reached = np.isfinite(first)
        when = f"median {np.median(first[reached]):.3g} h in" if reached.any() else "none in"
        lines.append(
            f"cells that ever lodged in {result.target} by {result.times_h[-1]:g} h: "
            + _band(arrivals[:, -1].mean(), *np.quantile(arrivals[:, -1], BAND, method="inverted_cdf"))
            + f"; first arrival: {when} {reached.mean():.0%} of replicates"
        )
        lung = (
            f"lung: {_share(result.first_pass_lung_fraction())} of first transits passed; "
            f"{result.histories['lung_passes_per_cell'].mean():.3g} passes and "
            f"{result.histories['circulating_h_per_cell'].mean() * 3600:.3g} s in blood per cell"
        )
        if sc.heterogeneity == "size":
            all_d, passed_d = result.passer_diameter_um()
            lung += f"; mean diameter {all_d:.1f} um, of cells passing on first transit {passed_d:.1f} um"
        lines.append(lung)
    lines += [f"note: {n}" for n in result.notes]
    lines.append(_throughput(result))
    return "\n".join(lines)


def _throughput(result: MonteCarloResult) -> str:
    """How fast it sampled: cells walked per second (per-cell), replicates per second (aggregated)."""
    took = f"{result.elapsed_s:.2f} s"
    if result.method == "per_cell" and math.isfinite(result.cells_per_second):
        return f"{result.cells_per_second:,.0f} cells walked per second ({took})"
    if result.method != "per_cell" and math.isfinite(result.replicates_per_second):
        return (
            f"{result.replicates_per_second:,.0f} replicates per second ({took}; aggregated: "
            "the cost does not depend on the number of cells)"
        )
    return f"({took})"


def compare_table(cmp: CompareResult) -> str:
    """Routes × report times: expected cells at the target [5 % · 50 % · 95 %], then the dose split at one time."""
    sc = cmp.scenario
    lines = [
        f"Routes compared - {sc.name}: {sc.dose_cells:,.0f} {sc.cell.name} cells into {sc.species.name}, "
        f"target {sc.target}; {cmp.replicates} Monte Carlo replicates (seed {cmp.seed})"
        + (", virtual subjects" if cmp.uncertainty else ""),
        f"{'cells' if cmp.readout == 'cells' else cmp.readout + ' (cell equivalents)'} at the {sc.target} "
        "(its bed, plus depot and engrafted cells for direct injection): expected [5 % · 50 % · 95 %]",
    ]
    rows = []
    for name, r in cmp.routes.items():
        q = r.shown_quantiles
        cells = [_band(r.shown_mean[j], *(q[k][j] for k in QUANTILES)) for j in range(len(cmp.times_h))]
        rows.append((f"  {name}", cells))
    lines += _columns(["  route", *(f"{t:g} h" for t in cmp.times_h)], rows)
    j = cmp.time_index
    lines.append("")
    what = "% of the dose" if cmp.readout == "cells" else f"% of the dose's {cmp.readout}; cleared: left the body"
    lines.append(f"where the {'dose' if cmp.readout == 'cells' else cmp.readout} is at {cmp.times_h[j]:g} h ({what}):")
    groups = list(next(iter(cmp.routes.values())).shown_split(j))
    split_rows = [(f"  {n}", [format_percent(r.shown_split(j)[g]) for g in groups]) for n, r in cmp.routes.items()]
    lines += _columns(["  route", *groups], split_rows)
    return "\n".join(lines)


def validation_table(result: ValidationResult | list[dict]) -> str:
    """Measured vs simulated for every validation target, with pass/miss."""
    rows = result if isinstance(result, list) else result.rows
    header = ["  target", "measures", "measured", "criterion", "simulated", ""]
    body = []
    for r in rows:
        unit = {"half_life_h": " h", "ratio_at_least": " x", "ratio": " x", "pct_dose_per_g": " %/g"}.get(
            r["quantity"], " %"
        )
        if r["quantity"] == "upper_bound_pct_dose":
            span = f"<= {r['high']:.3g}"
        elif r["quantity"] == "ratio_at_least":
            span = f">= {r['low']:.3g}"
        else:
            span = f"{r['low']:.3g}-{r['high']:.3g}"
        body.append(
            (
                f"  {r['id']}",
                [
                    r["measures"],
                    f"{r['measured']:.3g}{unit}",
                    span,
                    f"{r['simulated']:.3g}{unit}",
                    "pass" if r["pass"] else "MISS",
                ],
            )
        )
    n_miss = sum(not r["pass"] for r in rows)
    lines = [f"Validation: {len(rows)} published measurements, {len(rows) - n_miss} pass, {n_miss} missed"]
    lines += _columns(header, body)
    lines.append(
        "% = % of the dose (%/g: per gram of the organ); x = ratio of two organs or of one organ at two times; "
        "measures: the readout of the assay that made the measurement, what the model is read through "
        "(cells: viable cells; dna: qPCR; 111In, 18F-FDG...: the tracer)"
    )
    return "\n".join(lines)


def fit_table(result: FitResult, data_name: str) -> str:
    """The fitted values with their 95 % intervals."""
    lines = [
        f"fit of {', '.join(result.params)} to {result.n_data} measurements of {data_name} (log-residual SD "
        f"{result.residual_sd_log:.3g}):"
    ]
    for name, est, lo, hi in zip(result.params, result.estimate, result.low, result.high, strict=True):
        lines.append(f"  {name:<40} {est:.4g}   95 % CI [{lo:.4g}, {hi:.4g}]")
    if result.data:
        d = result.data
        lines += ["", "observed vs predicted (% of the dose, at the estimates):"]
        rows = [
            (f"  {o} {t:g} h", [m, f"{obs:.3g}", f"{pred:.3g}", f"{pred / obs:.2g}x" if obs > 0 else "-"])
            for o, t, m, obs, pred in zip(
                d["organ"], d["time_h"], d["measures"], d["observed_pct_dose"], d["predicted_pct_dose"], strict=True
            )
        ]
        lines += _columns(["  measurement", "measures", "observed", "predicted", "pred/obs"], rows)
    return "\n".join(lines)


def calibration_table(result: CalibrationResult) -> str:
    """Posterior medians and 90 % intervals beside the priors, correlations, diagnostics, predictive checks."""
    info = result.info
    lines = [
        f"calibration of {info.get('product')} against {info.get('measurements')} measurements of "
        f"{len(info.get('studies', []))} studies ({info.get('seconds', 0):.0f} s, acceptance "
        f"{info.get('acceptance', 0):.2f}):"
    ]
    rows = [
        (
            f"  {r['parameter']}",
            [
                f"{r['median']:.3g}",
                f"[{r['q05']:.3g}, {r['q95']:.3g}]",
                f"{r['prior_median']:.3g} [{r['prior_q05']:.3g}, {r['prior_q95']:.3g}]",
                f"{r['width_vs_prior']:.2f}",
                f"{r['r_hat']:.3f}",
                f"{r['ess_bulk']:.0f} / {r['ess_tail']:.0f}",
            ],
        )
        for r in result.table()
    ]
    lines += _columns(
        ["  quantity", "median", "90 % interval", "prior: median [90 %]", "width/prior", "R-hat", "ESS bulk/tail"], rows
    )
    verdict = "converged" if result.converged else "NOT converged: run longer (--steps) before using it"
    lines.append(f"  diagnostics: {verdict} (asked: R-hat < 1.01, ESS >= 400 for every quantity)")
    lines += ["", "strongest posterior correlations (of the logarithms):"]
    lines += [f"  {a} ~ {b}: {r:+.2f}" for a, b, r in result.correlations(3)]
    inside, n = result.coverage(False)
    lines += ["", f"posterior predictive: {inside} of {n} fitted measurements inside their 90 % interval"]
    missed = [r for r in result.predictive if not r["inside"] and not r["held_out"]]
    lines += [f"  outside: {r['study']} {r['id']} ({_predictive_line(r)})" for r in missed]
    held = [r for r in result.predictive if r["held_out"]]
    if held:
        inside, n = result.coverage(True)
        lines += ["", f"left out of the fit: {inside} of {n} measurements inside their 90 % predictive interval:"]
        lines += [f"  {'in ' if r['inside'] else 'OUT'} {r['study']} {r['id']} ({_predictive_line(r)})" for r in held]
    cv = info.get("cross_validation")
    if cv:
        lines.append(
            f"  leave-one-study-out coverage: {cv['inside']} of {cv['of']} ({cv['coverage']:.0%}; nominal 90 %); "
            f"refitted (Pareto k > 0.7): {', '.join(cv['refitted']) or 'none'}"
        )
    for note in info.get("notes", []):
        lines.append(f"note: {note}")
    for ex in info.get("excluded", []):
        lines.append(f"not used: {ex['study']} ({ex['why']})")
    return "\n".join(lines)


def _predictive_line(r: dict) -> str:
    """``reported 2.1 (value); a new study 0.3-4.5``."""
    return f"reported {r['observed']:.3g} ({r['kind']}); a new study {r['q05']:.3g}-{r['q95']:.3g}"


def sweep_lines(name: str, record: dict) -> str:
    """What a sweep wrote, and its Sobol indices ranked by total effect."""
    lines = [f"{name}: {record['points']:,} points, {record['rows']:,} rows in {record['dataset']}"]
    if "sobol" in record:
        sob = record["sobol"]
        lines.append(f"Sobol indices of {sob['output']} (95 % CI), ranked by total effect:")
        for key, ix in sorted(sob["parameters"].items(), key=lambda kv: -kv[1]["ST"]):
            lines.append(
                f"  {key:<40} S1 {ix['S1']:6.3f} ± {ix['S1_conf']:.3f}   ST {ix['ST']:6.3f} ± {ix['ST_conf']:.3f}"
            )
    return "\n".join(lines)
