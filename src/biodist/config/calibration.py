"""What a calibration calibrates: ``configs/calibration/<product>.toml`` (``biodist calibrate``).

The file names the cell product, the folder of validation datasets, the ``--set`` keys to
calibrate (their priors are the product's ``[uncertainty]`` table, which gives each a
source), the error model (each with its reasoning) and the sampler's settings::

    product = "bm_msc"
    datasets = "../validation"
    parameters = ["cell.lung_pass_fraction", "cell.retention_per_pass.default"]

    [error]
    between_study_sd_scale = 1.0   # half-normal prior of the between-study SD (natural-log scale)
    spread_sds = 1.0               # a reported low-high spans this many SD either side of the value
    unreported_coverage = 0.9      # a dataset's tolerance_factor read as this central interval
    min_sd = 0.1                   # no measurement is trusted to better than this (log scale)

    [sampler]
    walkers = 32
    steps = 2500
    burn = 1000
    seed = 1
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from .base import ConfigModel
from .files import read_toml
from .messages import validate

__all__ = ["CalibrationSettings", "ErrorModel", "SamplerSettings"]


class ErrorModel(ConfigModel):
    """How a measurement and the model's prediction of it may differ (see the README, "Calibration")."""

    between_study_sd_scale: float = Field(default=1.0, gt=0.0)
    spread_sds: float = Field(default=1.0, gt=0.0)
    unreported_coverage: float = Field(default=0.9, gt=0.0, lt=1.0)
    min_sd: float = Field(default=0.1, gt=0.0)


class SamplerSettings(ConfigModel):
    """The ensemble sampler's settings (emcee)."""

    walkers: int = Field(default=32, ge=4, le=10_000)
    steps: int = Field(default=2500, ge=10, le=10_000_000)
    burn: int = Field(default=1000, ge=0)
    seed: int = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _check(self) -> SamplerSettings:
        if not self.burn < self.steps:
            raise ValueError(f"burn = {self.burn}, steps = {self.steps}: the burn-in must be shorter than the run")
        return self


class CalibrationSettings(ConfigModel):
    """A calibration: the product, the data, the parameters, the error model, the sampler."""

    product: str
    datasets: str = "../validation"
    parameters: list[str] = Field(min_length=1)
    error: ErrorModel = Field(default_factory=ErrorModel)
    sampler: SamplerSettings = Field(default_factory=SamplerSettings)

    @model_validator(mode="after")
    def _check(self) -> CalibrationSettings:
        repeated = sorted({k for k in self.parameters if self.parameters.count(k) > 1})
        if repeated:
            raise ValueError(f"parameters: {repeated[0]!r} is named twice; name each parameter once")
        for key in self.parameters:
            if not key.startswith("cell."):
                raise ValueError(
                    f"parameters: {key!r}; allowed: keys of the cell product (cell.…), whose [uncertainty] "
                    "table gives the prior"
                )
        return self

    @classmethod
    def load(cls, path: str | Path) -> CalibrationSettings:
        """Read and check a calibration file (one-line errors naming the file and key)."""
        path = Path(path)
        return validate(cls, read_toml(path), path)
