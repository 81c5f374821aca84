"""Parameter sweeps: chunked evaluation, local process pool or Dask cluster, resumable Parquet output.

Layout of an output folder::

    DIR/manifest.json           spec fingerprint, points, chunk size, chunks done
    DIR/data/chunk-00000.parquet one file per chunk, each written atomically
    DIR/run.json                record of the run (and Sobol indices for a sobol design)

A chunk is either wholly on disk or absent, so an interrupted sweep (even by
SIGKILL) leaves no partial or duplicated rows; ``--resume`` computes only the
missing chunks. Chunk boundaries depend on the spec alone, and every point is
computed the same way whichever executor runs it, so a seed gives identical
datasets locally and on a cluster.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .batch import batch_points, set_unchecked
from .config import apply_values, load_scenario
from .errors import ConfigError
from .outputs import atomic_write, write_json
from .scenario import Scenario
from .sweep_spec import SweepSpec, design_points, load_spec_file

__all__ = ["SweepRun", "analyze_sobol", "evaluate_chunk", "prepare", "read_dataset", "run_sweep", "sobol_indices"]

DATA = "data"
MANIFEST = "manifest.json"


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
        """Hash of the spec and the resolved base scenario: resuming is refused if either changed."""
        import hashlib

        text = self.spec.fingerprint() + self.scenario.model_dump_json()
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def chunk(self, i: int) -> tuple[int, np.ndarray]:
        """First point index and points of chunk ``i``."""
        start = i * self.spec.chunk_points
        return start, self.points[start : start + self.spec.chunk_points]


def prepare(spec_path: str | Path) -> SweepRun:
    """Load the spec and base scenario, check every key and the corners of every range, make the points."""
    spec_path = Path(spec_path)
    spec = load_spec_file(spec_path)
    scenario = load_scenario(
        (spec_path.parent / spec.scenario) if not Path(spec.scenario).is_absolute() else spec.scenario
    )
    lows = {k: float(np.min(p.grid() if p.values is not None else [p.low])) for k, p in spec.parameters.items()}
    highs = {k: float(np.max(p.grid() if p.values is not None else [p.high])) for k, p in spec.parameters.items()}
    for corner in (lows, highs):  # every key must be settable, and both corners valid (e.g. rest >= 0)
        try:
            apply_values(scenario, corner)
        except ConfigError as exc:
            raise ConfigError(f"{spec_path}: parameters: {exc}") from None
    from .model import compile_model

    names = set(compile_model(scenario).compartments)
    unknown = [c for c in spec.outputs.compartments if c not in names]
    if unknown:
        allowed = ", ".join(sorted(names))
        raise ConfigError(f"{spec_path}: outputs.compartments: {unknown[0]!r} is not a compartment; allowed: {allowed}")
    if spec.design == "sobol":
        _sensitivity_label(spec, spec_path)  # a bad sensitivity_output fails now, not after the sweep
    return SweepRun(spec, scenario, design_points(spec))


def _sensitivity_label(spec: SweepSpec, where: Path | str = "sensitivity_output") -> tuple[str, str, float, str]:
    """Parse ``COMPARTMENT@TIME_H:STATISTIC`` and check it is one of the sweep's outputs."""
    out = spec.outputs
    label = spec.sensitivity_output or f"{out.compartments[0]}@{out.times_h[0]:g}:{out.statistics[0]}"
    try:
        comp, rest = label.split("@")
        time_txt, stat = rest.split(":")
        t = float(time_txt)
    except ValueError:
        raise ConfigError(
            f"{where}: sensitivity_output = {label!r}: expected COMPARTMENT@TIME_H:STATISTIC, e.g. knee@24:mean"
        ) from None
    if comp not in out.compartments or t not in out.times_h or stat not in out.statistics:
        raise ConfigError(f"{where}: sensitivity_output = {label!r}: not among the sweep's outputs")
    return label, comp, t, stat


def evaluate_chunk(
    scenario: Scenario, names: list[str], start: int, points: np.ndarray, outputs: dict, seed: int
) -> bytes:
    """Evaluate one chunk; returns its rows as Parquet bytes.

    Columns: ``point``, one per parameter, ``compartment``, ``time_h``, ``statistic``, ``cells``.
    """
    import pandas as pd

    times = np.asarray(outputs["times_h"], dtype=float)
    comps = outputs["compartments"]
    stats = outputs["statistics"]
    values: dict[str, np.ndarray] = {}
    if "mean" in stats:
        from .model import compile_model

        labels = compile_model(scenario).compartments
        idx = [labels.index(c) for c in comps]
        dose_col = names.index("dose_cells") if "dose_cells" in names else None
        dose = points[:, dose_col] if dose_col is not None else np.full(len(points), scenario.dose_cells)
        values["mean"] = batch_points(scenario, names, points, times)[:, idx, :] * dose[:, None, None]
    quantile_stats = [s for s in stats if s != "mean"]
    if quantile_stats:
        from .montecarlo import monte_carlo

        scenarios = [set_unchecked(scenario, dict(zip(names, map(float, row), strict=True))) for row in points]
        qs = [float(s[1:]) for s in quantile_stats]
        sampled = np.empty((len(scenarios), len(qs), len(comps), len(times)))
        for j, sc in enumerate(scenarios):
            sc = sc.replace(times_h=tuple(times))
            res = monte_carlo(
                sc, replicates=outputs["replicates"], seed=seed * 1_000_003 + start + j, method="aggregated"
            )
            idx = [res.index(c) for c in comps]
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


def _chunk_path(out: Path, i: int) -> Path:
    return out / DATA / f"chunk-{i:05d}.parquet"


def _done_chunks(out: Path, n_chunks: int) -> set[int]:
    return {i for i in range(n_chunks) if _chunk_path(out, i).is_file()}


def _start(run: SweepRun, out: Path, resume: bool) -> set[int]:
    """Check or create the manifest; return the chunks already on disk."""
    manifest = out / MANIFEST
    fingerprint = run.fingerprint
    if manifest.exists():
        try:
            old = json.loads(manifest.read_text())
        except json.JSONDecodeError:
            raise ConfigError(
                f"{manifest}: not valid JSON; this folder's sweep state is damaged, use a new --out"
            ) from None
        nothing_done = not any((out / DATA).glob("chunk-*.parquet"))
        if not resume and not (nothing_done and old.get("fingerprint") == fingerprint):
            raise ConfigError(
                f"--out {out}: holds a sweep already; add --resume to finish it, or choose another folder"
            )
        if old.get("fingerprint") != fingerprint:
            raise ConfigError(
                f"--out {out}: holds a different sweep (fingerprint {old.get('fingerprint')} != {fingerprint}); "
                "choose another folder"
            )
    elif out.exists() and any(out.iterdir()):
        raise ConfigError(f"--out {out}: exists and is not empty; choose a new folder")
    (out / DATA).mkdir(parents=True, exist_ok=True)
    for tmp in (out / DATA).glob(".*.tmp"):  # left by a killed writer; never part of the dataset
        tmp.unlink()
    done = _done_chunks(out, run.n_chunks)
    _write_manifest(run, out, done)
    return done


def _write_manifest(run: SweepRun, out: Path, done: set[int]) -> None:
    write_json(
        out / MANIFEST,
        {
            "fingerprint": run.fingerprint,
            "points": len(run.points),
            "chunk_points": run.spec.chunk_points,
            "chunks": run.n_chunks,
            "done": sorted(done),
        },
    )


def _local_executor(workers: int) -> Callable[[Callable, list[tuple]], Iterable[tuple[int, bytes]]]:
    def execute(fn: Callable, tasks: list[tuple]) -> Iterable[tuple[int, bytes]]:
        if workers <= 1:
            for i, args in tasks:
                yield i, fn(*args)
            return
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # fork: workers start in milliseconds with biodist already imported. The parent has started no
        # numba threads (only Monte Carlo statistics use them, inside the workers), so forking is safe.
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            futures = {pool.submit(fn, *args): i for i, args in tasks}
            for future in as_completed(futures):
                yield futures[future], future.result()

    return execute


def _dask_executor(address: str) -> Callable[[Callable, list[tuple]], Iterable[tuple[int, bytes]]]:
    def execute(fn: Callable, tasks: list[tuple]) -> Iterable[tuple[int, bytes]]:
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise ConfigError("--scheduler needs the dask extra: pip install 'biodist[dask]'") from None
        if not address.startswith(("tcp://", "tls://", "inproc://", "ws://", "wss://")):
            raise ConfigError(f"--scheduler {address}: expected an address such as tcp://HOST:PORT")
        try:
            client = Client(address, timeout="3s")
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"--scheduler {address}: cannot connect ({exc})") from None
        with client:
            futures = {client.submit(fn, *args, pure=False): i for i, args in tasks}
            for future in as_completed(futures):
                yield futures[future], future.result()

    return execute


def run_sweep(
    spec_path: str | Path,
    out: str | Path,
    resume: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
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
        Local worker processes (default: all cores).
    scheduler : str, optional
        ``tcp://HOST:PORT`` of a Dask distributed scheduler: run there instead.
    progress : callable, optional
        Called with (chunks done, chunks in all) after each chunk.

    Returns
    -------
    SweepRun
    """
    run = prepare(spec_path)
    out = Path(out)
    done = _start(run, out, resume)
    tasks = []
    outputs = run.spec.outputs.model_dump()
    for i in range(run.n_chunks):
        if i not in done:
            start, pts = run.chunk(i)
            tasks.append((i, (run.scenario, run.spec.names, start, pts, outputs, run.spec.seed)))
    execute = _dask_executor(scheduler) if scheduler else _local_executor(workers or os.cpu_count() or 1)
    if progress is not None:
        progress(len(done), run.n_chunks)
    for i, payload in execute(evaluate_chunk, tasks):
        atomic_write(_chunk_path(out, i), lambda fh, data=payload: fh.write(data))
        done.add(i)
        _write_manifest(run, out, done)
        if progress is not None:
            progress(len(done), run.n_chunks)
    return run


def read_dataset(out: str | Path) -> Any:
    """The sweep's rows as one pandas DataFrame, ordered by point."""
    import pandas as pd

    files = sorted((Path(out) / DATA).glob("chunk-*.parquet"))
    if not files:
        raise ConfigError(f"{out}: no sweep chunks in {Path(out) / DATA}")
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def sobol_indices(run: SweepRun, frame: Any) -> dict[str, Any]:
    """First-order and total Sobol indices (with 95 % intervals) of the spec's ``sensitivity_output``.

    ``"COMPARTMENT@TIME_H:STATISTIC"``; default: the first compartment, time and statistic.
    """
    label, comp, t, stat = _sensitivity_label(run.spec)
    rows = frame[(frame.compartment == comp) & (frame.time_h == t) & (frame.statistic == stat)].sort_values("point")
    if len(rows) != len(run.points):
        raise ConfigError(f"sensitivity_output = {label!r}: the sweep is incomplete; finish it with --resume")
    return {"output": label, "parameters": analyze_sobol(run.spec, rows["cells"].to_numpy())}


def analyze_sobol(spec: SweepSpec, y: np.ndarray) -> dict[str, dict[str, float]]:
    """Sobol indices of outputs ``y`` evaluated at :func:`design_points` of a ``sobol`` spec (SALib, Jansen)."""
    from SALib.analyze import sobol as sobol_analyze

    res = sobol_analyze.analyze(spec.problem(), np.asarray(y, dtype=float), calc_second_order=False, seed=spec.seed)
    return {
        name: {k: float(res[k][i]) for k in ("S1", "S1_conf", "ST", "ST_conf")} for i, name in enumerate(spec.names)
    }
