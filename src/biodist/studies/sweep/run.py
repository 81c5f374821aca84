"""Parameter sweeps: chunked evaluation on any executor, resumable Parquet output.

Chunk boundaries depend on the spec alone, and every point is computed the same way
whichever executor runs it, so a seed gives identical datasets locally and on a cluster.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import warnings
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...config import Scenario
from ...config.keys import assign
from ...errors import ConfigError, LongRunNotice
from ...model import compile_model
from ...solvers.budget import check_cost
from .cost import sweep_cost
from .executors import executor_for, in_flight_limit
from .fast import batch_points
from .sensitivity import sensitivity_label
from .spec import SweepSpec, design_points, load_spec_file
from .store import ChunkStore

__all__ = ["SweepRun", "evaluate_chunk", "prepare", "read_dataset", "run_sweep"]


@dataclass(frozen=True)
class SweepRun:
    """A prepared sweep: spec, base scenario, all points and their chunking."""

    spec: SweepSpec
    scenario: Scenario
    points: np.ndarray

    @property
    def n_chunks(self) -> int:
        """Number of chunks."""
        return -(-len(self.points) // self.spec.chunk_points)

    @property
    def fingerprint(self) -> str:
        """Hash of the spec and the resolved base scenario: resuming is refused if either changed.

        The scenario's keys added in 0.2 (``description``, ``dose_cells_per_kg``) are left out, so that a sweep
        started by 0.1 can be resumed: they do not change what a point computes. So is a cell's
        ``release_per_h`` (0.3) while it releases nothing, which is what a cell without it did, and the species'
        ``label`` parameters and ``bli_attenuation``: a sweep's rows are viable cells, which neither changes;
        nor do the declared ``uncertainty`` distributions (of the scenario, species or product): a sweep sets its
        parameters itself.
        """
        exclude: dict = {
            "description": True,
            "dose_cells_per_kg": True,
            "uncertainty": True,
            "species": {"label": True, "bli_attenuation": True, "uncertainty": True},
            "cell": {"uncertainty": True},
        }
        if not any(self.scenario.cell.release_per_h.values()):
            exclude["cell"]["release_per_h"] = True
        text = self.spec.fingerprint() + self.scenario.model_dump_json(exclude=exclude)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def chunk(self, i: int) -> tuple[int, np.ndarray]:
        """First point index and points of chunk ``i``."""
        start = i * self.spec.chunk_points
        return start, self.points[start : start + self.spec.chunk_points]

    def manifest(self, done: set[int]) -> dict[str, Any]:
        """The manifest's content."""
        return {
            "fingerprint": self.fingerprint,
            "points": len(self.points),
            "chunk_points": self.spec.chunk_points,
            "chunks": self.n_chunks,
            "done": sorted(done),
        }


def prepare(spec_path: str | Path) -> SweepRun:
    """Load the spec and base scenario, check every key and the corners of every range, make the points."""
    spec_path = Path(spec_path)
    spec = load_spec_file(spec_path)
    scenario = Scenario.load(
        (spec_path.parent / spec.scenario) if not Path(spec.scenario).is_absolute() else spec.scenario
    )
    lows = {k: float(np.min(p.grid() if p.values is not None else [p.low])) for k, p in spec.parameters.items()}
    highs = {k: float(np.max(p.grid() if p.values is not None else [p.high])) for k, p in spec.parameters.items()}
    for corner in (lows, highs):  # every key must be settable, and both corners valid (e.g. rest >= 0)
        try:
            scenario.with_values(corner)
        except ConfigError as exc:
            raise ConfigError(f"{spec_path}: parameters: {exc}") from None
    names = set(compile_model(scenario).compartments)
    unknown = [c for c in spec.outputs.compartments if c not in names]
    if unknown:
        allowed = ", ".join(sorted(names))
        raise ConfigError(f"{spec_path}: outputs.compartments: {unknown[0]!r} is not a compartment; allowed: {allowed}")
    if spec.design == "sobol":
        sensitivity_label(spec, spec_path)  # a bad sensitivity_output fails now, not after the sweep
    return SweepRun(spec, scenario, design_points(spec))


def evaluate_chunk(
    scenario: Scenario, names: list[str], start: int, points: np.ndarray, outputs: dict, seed: int
) -> bytes:
    """Evaluate one chunk; returns its rows as Parquet bytes.

    Columns: ``point``, one per parameter, ``compartment``, ``time_h``, ``statistic``, ``cells``.
    """
    import pandas as pd

    times = np.asarray(outputs["times_h"], dtype=float)
    comps = list(outputs["compartments"])
    stats = outputs["statistics"]
    labels = compile_model(scenario).compartments
    idx = [labels.index(c) for c in comps]
    values: dict[str, np.ndarray] = {}
    if "mean" in stats:
        dose_col = names.index("dose_cells") if "dose_cells" in names else None
        dose = points[:, dose_col] if dose_col is not None else np.full(len(points), scenario.dose_cells)
        values["mean"] = batch_points(scenario, names, points, times)[:, idx, :] * dose[:, None, None]
    quantile_stats = [s for s in stats if s != "mean"]
    if quantile_stats:
        from ...results import monte_carlo

        qs = [float(s[1:]) for s in quantile_stats]
        sampled = np.empty((len(points), len(qs), len(comps), len(times)))
        for j, row in enumerate(points):
            sc = assign(scenario, dict(zip(names, map(float, row), strict=True))).with_values(
                {"times_h": tuple(times.tolist())}
            )
            with warnings.catch_warnings():  # the sweep said (and checked) its cost before it started
                warnings.simplefilter("ignore", LongRunNotice)
                res = monte_carlo(
                    sc,
                    replicates=outputs["replicates"],
                    seed=seed * 1_000_003 + start + j,
                    method="aggregated",
                    allow_long=True,
                )
            sampled[j] = np.quantile(res.counts[:, idx, :], qs, axis=0, method="inverted_cdf")
        for k, s in enumerate(quantile_stats):
            values[s] = sampled[:, k]
    frames = []
    n, c, t = len(points), len(comps), len(times)
    for stat in stats:
        frame = {"point": np.repeat(np.arange(start, start + n), c * t)}
        for d, name in enumerate(names):
            frame[name] = np.repeat(points[:, d], c * t)
        frame["compartment"] = np.tile(np.repeat(comps, t), n)
        frame["time_h"] = np.tile(times, n * c)
        frame["statistic"] = stat
        frame["cells"] = values[stat].ravel()
        frames.append(pd.DataFrame(frame))
    buf = io.BytesIO()
    pd.concat(frames, ignore_index=True).to_parquet(buf, index=False)
    return buf.getvalue()


def run_sweep(
    spec_path: str | Path,
    out: str | Path,
    resume: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    allow_long: bool = False,
) -> SweepRun:
    """Run (or finish) a sweep into ``out``.

    Parameters
    ----------
    spec_path : path
        Sweep spec (TOML).
    out : path
        Output folder (new, or an interrupted one with ``resume=True``).
    resume : bool
        Compute only the chunks not yet on disk.
    workers : int, optional
        Local worker processes (default: all cores); ignored when ``executor`` is given.
    scheduler : str, optional
        ``tcp://HOST:PORT`` of a Dask distributed scheduler: run there instead.
    progress : callable, optional
        Called with (chunks done, chunks in all) after each chunk.
    executor : concurrent.futures.Executor, optional
        Where to run the chunks (e.g. ``ProcessPoolExecutor(4)`` or ``Client(addr).get_executor()``);
        left running for the caller to shut down.
    allow_long : bool
        Run even if the estimate (said before the run starts) is longer than
        :data:`~biodist.solvers.budget.LONG_RUN_S` (``--yes``).

    Returns
    -------
    SweepRun
    """
    run = prepare(spec_path)
    out = Path(out)
    new = not out.exists()
    with ChunkStore(out, run.n_chunks) as store:
        done = store.check(run.fingerprint, resume)
        own = executor is None
        try:  # refused before anything was computed: leave no empty folder behind
            pool = executor_for(workers, scheduler) if own else executor
            try:
                _check_budget(run, store, done, _workers(pool), allow_long)
            except ConfigError:
                if own:
                    pool.shutdown(wait=False)
                raise
        except ConfigError:
            if new:
                shutil.rmtree(out, ignore_errors=True)
            raise
        ok = False
        try:
            _run_chunks(run, store, done, pool, scheduler, progress)
            ok = True
        finally:  # after a failure, do not wait for chunks in flight (a cluster without workers never returns them)
            if own:
                pool.shutdown(wait=ok, cancel_futures=True)
    return run


def _workers(executor: Executor) -> int:
    return int(getattr(executor, "_max_workers", None) or 1)


#: Bytes a sweep's row takes on disk at the least (its value and point, the rest compresses away).
_MIN_ROW_BYTES = 16


def _check_budget(run: SweepRun, store: ChunkStore, done: set[int], workers: int, allow_long: bool) -> None:
    """Say (and check) what the points still to compute will cost, in time, memory and disk."""
    remaining = len(run.points) - sum(len(run.chunk(i)[1]) for i in done)
    if not remaining:
        return
    out = run.spec.outputs
    need = remaining * len(out.compartments) * len(out.times_h) * len(out.statistics) * _MIN_ROW_BYTES
    free = shutil.disk_usage(store.out).free
    if need > free:
        raise ConfigError(
            f"--out {store.out}: the sweep's rows need at least {need / 1e9:.3g} GB, {free / 1e9:.3g} GB are free; "
            "free space, write elsewhere, or use fewer points"
        )
    cheaper = "use fewer points (values, points or samples), the mean alone, or a cluster (--scheduler)"
    check_cost(sweep_cost(run, remaining, workers), allow_long, cheaper)


def _run_chunks(
    run: SweepRun,
    store: ChunkStore,
    done: set[int],
    pool: Executor,
    scheduler: str | None,
    progress: Callable[[int, int], None] | None,
) -> None:
    store.write_manifest(run.manifest(done))
    outputs = run.spec.outputs.model_dump()
    tasks = [(i, run.chunk(i)) for i in range(run.n_chunks) if i not in done]
    if progress is not None:
        progress(len(done), run.n_chunks)
    pending = iter(tasks)
    in_flight: dict[Any, int] = {}

    def submit_more() -> None:  # a bounded window, so that chunks are written as they finish
        while len(in_flight) < in_flight_limit(pool):
            task = next(pending, None)
            if task is None:
                return
            i, (start, pts) = task
            in_flight[pool.submit(evaluate_chunk, run.scenario, run.spec.names, start, pts, outputs, run.spec.seed)] = i

    submit_more()
    while in_flight:
        finished, _ = wait(in_flight, timeout=_POLL_S, return_when=FIRST_COMPLETED)
        if not finished:
            _check_workers(pool, scheduler)
            continue
        for future in finished:
            i = in_flight.pop(future)
            store.write(i, future.result())
            done.add(i)
            store.write_manifest(run.manifest(done))
            if progress is not None:
                progress(len(done), run.n_chunks)
        submit_more()


#: Seconds between looks at a cluster whose chunks do not come back, and how long it may have no workers.
_POLL_S, _NO_WORKERS_S = 5.0, 60.0


def _check_workers(pool: Executor, scheduler: str | None) -> None:
    """Fail, in one line, when a cluster has had no workers for a while (its chunks would never come back)."""
    idle = getattr(pool, "seconds_without_workers", None)
    if idle is not None and idle() > _NO_WORKERS_S:
        where = f"--scheduler {scheduler}" if scheduler else "the Dask cluster"
        raise ConfigError(
            f"{where}: no workers for {_NO_WORKERS_S:g} s, so no chunk can finish; the finished chunks are kept "
            "(add --resume once the cluster has workers)"
        )


def read_dataset(out: str | Path) -> Any:
    """The sweep's rows as one pandas DataFrame, ordered by point."""
    return ChunkStore(out).read()
