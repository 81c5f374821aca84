"""A calibration's files: the posterior (NetCDF for ArviZ, Parquet for everyone), the predictive checks, and back.

``posterior.nc`` is ArviZ ``InferenceData`` (groups ``posterior`` — walkers as chains — ``prior`` and
``sample_stats``), readable with ``arviz.from_netcdf``. ``posterior.parquet`` holds the same draws as a
table: ``group`` (``posterior`` or ``prior``), ``chain``, ``draw`` and one column per quantity.
``predictive.csv`` is one row per measurement check.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from ..results import CalibrationResult
from ..studies.calibration.sampler import inference_data

__all__ = ["POSTERIOR_FILES", "posterior_frame", "read_samples", "write_posterior"]

#: The files :func:`write_posterior` writes besides the summary table and ``run.json``.
POSTERIOR_FILES = ("posterior.nc", "posterior.parquet", "predictive.csv")


def posterior_frame(result: CalibrationResult):
    """Posterior and prior draws as one table (see the module docstring)."""
    import pandas as pd

    w, n, k = result.samples.shape
    post = pd.DataFrame(result.samples.reshape(-1, k), columns=result.names)
    post.insert(0, "draw", np.tile(np.arange(n), w))
    post.insert(0, "chain", np.repeat(np.arange(w), n))
    post.insert(0, "group", "posterior")
    prior = pd.DataFrame(result.prior, columns=result.names)
    prior.insert(0, "draw", np.arange(len(prior)))
    prior.insert(0, "chain", 0)
    prior.insert(0, "group", "prior")
    return pd.concat([post, prior], ignore_index=True)


def write_posterior(folder: Path, result: CalibrationResult) -> list[Path]:
    """Write :data:`POSTERIOR_FILES` into ``folder`` (each atomically); returns them."""
    import pandas as pd

    out = []
    nc = Path(folder) / "posterior.nc"
    tmp = nc.with_name(".posterior.nc.tmp")
    inference_data(result.names, result.samples, result.prior).to_netcdf(str(tmp), engine="h5netcdf")
    tmp.replace(nc)
    out.append(nc)
    buf = io.BytesIO()
    posterior_frame(result).to_parquet(buf, index=False)
    out.append(atomic_write(Path(folder) / "posterior.parquet", lambda fh: fh.write(buf.getvalue())))
    text = pd.DataFrame(result.predictive).to_csv(index=False, float_format="%.6g").encode()
    out.append(atomic_write(Path(folder) / "predictive.csv", lambda fh: fh.write(text)))
    return out


def read_samples(path: Path, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Posterior samples (chains, draws, K) and prior draws (n, K) from a ``posterior.parquet``."""
    import pandas as pd

    frame = pd.read_parquet(path)
    post = frame[frame.group == "posterior"].sort_values(["chain", "draw"])
    chains = int(post.chain.max()) + 1
    samples = post[names].to_numpy(dtype=float).reshape(chains, -1, len(names))
    prior = frame[frame.group == "prior"].sort_values("draw")[names].to_numpy(dtype=float)
    return samples, prior
