"""What the user writes: species, cell products, routes, uncertainty, scenarios, dotted keys, TOML files.

The lowest layer: it imports nothing else of biodist but :mod:`biodist.errors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .cell import DEFAULT_KEY, CellProduct, half_life_to_rate
from .files import available, bundled_config_dir, find_config, find_scenario, read_toml
from .keys import parse_override, parse_overrides
from .routes import ROUTES, Depot, RouteConfig, Territory
from .scenario import DEFAULT_TIMES_H, Scenario
from .species import LUNG, REST, LabelParams, Organ, Species
from .uncertainty import Distribution, sample_parameters

__all__ = [
    "DEFAULT_KEY",
    "DEFAULT_TIMES_H",
    "LUNG",
    "REST",
    "ROUTES",
    "CellProduct",
    "Depot",
    "Distribution",
    "LabelParams",
    "Organ",
    "RouteConfig",
    "Scenario",
    "Species",
    "Territory",
    "apply_values",
    "available",
    "bundled_config_dir",
    "find_config",
    "find_scenario",
    "half_life_to_rate",
    "load_scenario",
    "parse_override",
    "parse_overrides",
    "read_toml",
    "sample_parameters",
    "scenario_from_record",
]


def load_scenario(path: str | Path, overrides: Iterable[str] | Mapping[str, Any] | None = None) -> Scenario:
    """:meth:`Scenario.load` (kept as a function: the README's first example uses it)."""
    return Scenario.load(path, overrides)


def apply_values(scenario: Scenario, values: Mapping[str, Any]) -> Scenario:
    """:meth:`Scenario.with_values` (the name used before issue 9)."""
    return scenario.with_values(values)


def scenario_from_record(record: Mapping[str, Any], file: str | Path) -> Scenario:
    """:meth:`Scenario.from_record`."""
    return Scenario.from_record(record, file)
