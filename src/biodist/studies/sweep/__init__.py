"""Sweeps: designs (grid, Latin hypercube, Sobol), the batched fast path, executors, a resumable store, Sobol."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

from .executors import InlineExecutor, dask_executor, executor_for, process_pool
from .fast import batch_fractions, batch_points, simulate_points
from .run import SweepRun, evaluate_chunk, prepare, read_dataset, run_sweep
from .sensitivity import analyze_sobol, sensitivity_label, sobol_indices
from .spec import STATISTICS, Outputs, Parameter, SweepSpec, design_points, load_spec_file
from .store import ChunkStore

__all__ = [
    "STATISTICS",
    "ChunkStore",
    "InlineExecutor",
    "Outputs",
    "Parameter",
    "SweepRun",
    "SweepSpec",
    "analyze_sobol",
    "batch_fractions",
    "batch_points",
    "dask_executor",
    "design_points",
    "evaluate_chunk",
    "executor_for",
    "load_spec_file",
    "prepare",
    "process_pool",
    "read_dataset",
    "run_sweep",
    "sensitivity_label",
    "simulate_points",
    "sobol_indices",
    "sweep",
]


def sweep(
    spec: str | Path,
    out: str | Path,
    executor: Executor | None = None,
    resume: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SweepRun:
    """Run a sweep spec into the folder ``out`` (see :func:`run_sweep`); read the rows with :func:`read_dataset`.

    Parameters
    ----------
    spec : path
        Sweep spec (TOML), e.g. ``configs/sweeps/pass_fraction.toml``.
    out : path
        Output folder.
    executor : concurrent.futures.Executor, optional
        Where chunks run; default: a local process pool over all cores.
    resume : bool
        Finish an interrupted sweep.
    progress : callable, optional
        Called with (chunks done, chunks in all).
    """
    return run_sweep(spec, out, resume=resume, progress=progress, executor=executor)
