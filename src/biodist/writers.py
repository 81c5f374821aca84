"""Files and figures for ``--out`` folders (the command line's writing side; the API returns objects)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from .expected import simulate
from .outputs import atomic_write, run_record, write_json

__all__ = ["draw_compare", "draw_simulate", "savefig", "use_agg", "write_compare", "write_mc", "write_simulate"]

#: Points of the log-spaced grid used for time-course figures.
_PLOT_POINTS = 241


def savefig(path: Path, fig: Any) -> None:
    """Save a figure as PNG, atomically, and close it."""
    import matplotlib.pyplot as plt

    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=120))
    plt.close(fig)


def use_agg() -> None:
    """Select the non-interactive backend (files only, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")


def write_simulate(out: Path, result: Any, command: list[str]) -> list[Path]:
    """``simulate --out``: cells.csv, time_course.png, run.json."""
    use_agg()

    csv = result.to_dataframe().to_csv(index=False, float_format="%.10g").encode()
    atomic_write(out / "cells.csv", lambda fh: fh.write(csv))
    figures = draw_simulate(out, result.scenario, result.times_h)
    write_json(out / "run.json", run_record(result.scenario, command, kind="simulate", result=result.to_dict()))
    return [out / "cells.csv", *figures, out / "run.json"]


def draw_simulate(out: Path, scenario: Any, times_h: np.ndarray) -> list[Path]:
    """The time-course figure, from the scenario on a dense log-spaced grid."""
    from .plotting import plot_time_course

    t_end = max(float(times_h.max()), 1e-2)
    grid = np.unique(np.concatenate([np.geomspace(1e-3, t_end, _PLOT_POINTS), times_h]))
    savefig(out / "time_course.png", plot_time_course(simulate(scenario, times_h=grid)))
    return [out / "time_course.png"]


def draw_compare(out: Path, cmp: Any) -> list[Path]:
    """The three compare figures."""
    import matplotlib.pyplot as plt

    from .plotting import plot_compare_bars, plot_compare_time_course, plot_dose_split

    written = []
    for name, draw in (
        ("compare_time_course.png", plot_compare_time_course),
        ("compare_bars.png", plot_compare_bars),
        ("dose_split.png", plot_dose_split),
    ):
        ax = draw(cmp)
        savefig(out / name, ax.figure)
        plt.close(ax.figure)
        written.append(out / name)
    return written


def write_compare(out: Path, cmp: Any, command: list[str]) -> list[Path]:
    """``compare --out``: figures, compare.csv, run.json."""
    import pandas as pd

    use_agg()
    frames = [r.ode.to_dataframe().assign(route=name) for name, r in cmp.routes.items()]
    table = pd.concat(frames)[["route", "compartment", "time_h", "cells", "fraction_of_dose"]]
    csv = table.to_csv(index=False, float_format="%.10g").encode()
    atomic_write(out / "compare.csv", lambda fh: fh.write(csv))
    figures = draw_compare(out, cmp)
    extra = {
        "kind": "compare",
        "routes": list(cmp.routes),
        "time_h": cmp.time_h,
        "replicates": cmp.replicates,
        "seed": cmp.seed,
        "uncertainty": cmp.uncertainty,
        "result": cmp.to_dict(),
    }
    write_json(out / "run.json", run_record(cmp.scenario, command, **extra))
    return [*figures, out / "compare.csv", out / "run.json"]


def write_mc(out: Path, result: Any, command: list[str]) -> list[Path]:
    """``mc --out``: target_histogram.png, counts.parquet, run.json."""
    use_agg()
    from .plotting import plot_target_histograms

    buf = io.BytesIO()
    result.to_dataframe().to_parquet(buf, index=False)
    atomic_write(out / "counts.parquet", lambda fh: fh.write(buf.getvalue()))
    savefig(out / "target_histogram.png", plot_target_histograms(result))
    write_json(
        out / "run.json", run_record(result.scenario, command, kind="mc", seed=result.seed, result=result.to_dict())
    )
    return [out / "target_histogram.png", out / "counts.parquet", out / "run.json"]
