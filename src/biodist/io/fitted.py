"""A fitted cell product as a config file: the product with the fitted values, ready to use as ``cell = "..."``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..atomic import atomic_write
from ..config import CellProduct, Scenario
from ..config.keys import set_in

__all__ = ["fitted_cell", "write_fitted_cell"]

_PREFIX = "cell."


def fitted_cell(scenario: Scenario, result: Any, data_name: str) -> dict[str, Any]:
    """The scenario's cell product as TOML data, with every fitted ``cell.*`` value set."""
    cell = scenario.cell.model_dump()
    # a distribution's unused fields (a uniform's mean, sd...) are None, which TOML cannot hold
    cell["uncertainty"] = {k: d.model_dump(exclude_none=True) for k, d in scenario.cell.uncertainty.items()}
    for name, est in zip(result.params, result.estimate, strict=True):
        if name.startswith(_PREFIX):
            set_in(cell, name.removeprefix(_PREFIX), float(est), CellProduct, Path(scenario.sources.get("cell", "")))
    cell["description"] = f"{cell.get('description', '')} — fitted to {data_name} by biodist fit".strip()
    return cell


def write_fitted_cell(path: Path, scenario: Scenario, result: Any, data_name: str, command: list[str]) -> Path:
    """Write :func:`fitted_cell` as TOML, atomically, with a header saying how it was made."""
    import tomli_w

    header = f"# Written by biodist fit ({' '.join(command)}); fitted: {', '.join(result.params)}\n"
    text = header + tomli_w.dumps(fitted_cell(scenario, result, data_name))
    return atomic_write(path, lambda fh: fh.write(text.encode()))
