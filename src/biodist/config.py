"""Reading configs: TOML files, ``--set`` overrides, and one-line errors.

All user input enters here. A scenario file names a species and a cell
product; each is looked up first beside the scenario (``species/NAME.toml``,
``cells/NAME.toml``), then among the configs shipped with biodist. Overrides
are dotted paths that follow the TOML structure: scenario keys as they are
(``dose_cells``), species keys under ``species.`` and cell-product keys under
``cell.``. Every failure raises :class:`~biodist.errors.ConfigError` with one
line naming the file, the key, the value and what is allowed.
"""

from __future__ import annotations

import copy
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .cells import CellProduct
from .errors import ConfigError
from .physiology import Species
from .routes import RouteConfig
from .scenario import Scenario, ScenarioFile

__all__ = [
    "apply_values",
    "available",
    "bundled_config_dir",
    "load_scenario",
    "parse_override",
    "parse_overrides",
    "read_toml",
    "scenario_from_record",
]

#: Scenario keys that name a sub-config, and the folder holding those configs.
_SUBCONFIGS = {"species": ("species", Species), "cell": ("cells", CellProduct), "routes": ("routes", RouteConfig)}
#: Keys of a scenario file that are two ways of giving the dose.
_DOSE_KEYS = ("dose_cells", "dose_cells_per_kg")


def bundled_config_dir() -> Path:
    """Folder of the configs shipped with biodist (``configs/``)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "configs", here.parents[1] / "configs"):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"{here}: the bundled configs folder is missing; reinstall biodist")


def available(kind: str, base: Path | None = None) -> list[str]:
    """Names of the configs of one kind (``"species"`` or ``"cells"``)."""
    dirs = [bundled_config_dir() / kind] + ([base / kind] if base is not None else [])
    return sorted({p.stem for d in dirs if d.is_dir() for p in d.glob("*.toml")})


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a one-line ConfigError."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))  # utf-8-sig: tolerate a byte-order mark
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a .toml file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: malformed TOML: not UTF-8 text") from None


# ---------------------------------------------------------------------------
# overrides
# ---------------------------------------------------------------------------
def parse_override(text: str) -> tuple[str, Any]:
    """Parse one ``KEY=VALUE``; the value is read as TOML, else kept as a string.

    Examples
    --------
    >>> parse_override("cell.lung_pass_fraction=0.03")
    ('cell.lung_pass_fraction', 0.03)
    >>> parse_override("cell=adipose_msc")
    ('cell', 'adipose_msc')
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE with a dotted KEY, e.g. dose_cells=2e6")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def parse_overrides(items: Iterable[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """Turn ``["K=V", ...]`` (or a mapping) into an ordered ``{key: value}``."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return dict(items)
    return dict(parse_override(item) for item in items)


def _model_at(model: type[BaseModel], parts: list[str]) -> type[BaseModel] | None:
    """The pydantic model holding the key ``parts[-1]``; ``None`` for a free mapping."""
    current: Any = model
    for part in parts[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
        # unwrap Optional[...] / X | None
        if typing.get_origin(current) in (typing.Union, types.UnionType):
            models = [a for a in typing.get_args(current) if isinstance(a, type) and issubclass(a, BaseModel)]
            current = models[0] if models else current
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _apply(data: dict[str, Any], key: str, parts: list[str], value: Any, model: type[BaseModel], file: Path) -> None:
    """Set ``data[parts...] = value``, refusing keys the schema does not know."""
    node = data
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if not isinstance(child, dict):
            tables = sorted(k for k, v in node.items() if isinstance(v, dict))
            if model is ScenarioFile and depth == 0:
                tables = [f"{k}.*" for k in _SUBCONFIGS]
            where = ".".join(parts[: depth + 1])
            allowed = ", ".join(tables) or "none (no tables here)"
            raise ConfigError(f"{file}: --set {key}: {where!r} is not a table of this file; tables: {allowed}")
        node = child
    leaf = parts[-1]
    if leaf not in node and isinstance(value, dict):
        raise ConfigError(f"{file}: --set {key}: {leaf!r} does not exist; --set changes values, it cannot add tables")
    if leaf not in node:
        holder = _model_at(model, parts)
        if holder is not None and leaf not in holder.model_fields:
            allowed = ", ".join(sorted(set(holder.model_fields) | set(node)))
            raise ConfigError(f"{file}: --set {key}: unknown key {leaf!r}; allowed: {allowed}")
    node[leaf] = value


# ---------------------------------------------------------------------------
# validation errors → one line
# ---------------------------------------------------------------------------
def _format_value(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _validation_message(exc: ValidationError, file: Path, model: type[BaseModel], overridden: list[str]) -> str:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    key = ".".join(f'"{p}"' if "." in p else p for p in loc)  # TOML quoting for dotted table names
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        line = f"{file}: {key}: required key is missing"
    elif err["type"] == "extra_forbidden":
        holder = _model_at(model, loc)
        allowed = ", ".join(holder.model_fields) if holder is not None else "see the README"
        line = f"{file}: {key}: unknown key; allowed: {allowed}"
    elif not loc:
        line = f"{file}: {msg}"
    elif isinstance(err.get("input"), dict):  # a whole table failed its own check: the message names the keys
        line = f"{file}: {key}: {msg}"
    else:
        line = f"{file}: {key} = {_format_value(err.get('input'))}: {msg[:1].lower()}{msg[1:]}"
    if overridden:
        line += f" (after --set {', '.join(overridden)})"
    return line


def _validate(model: type[BaseModel], data: Mapping[str, Any], file: Path, overridden: list[str]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_validation_message(exc, file, model, overridden)) from None


# ---------------------------------------------------------------------------
# scenario loading
# ---------------------------------------------------------------------------
def _find_subconfig(scenario_file: Path, key: str, name: Any) -> Path:
    folder, _ = _SUBCONFIGS[key]
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{scenario_file}: {key} = {_format_value(name)}: must be a name or a .toml path")
    if name.endswith(".toml"):
        path = Path(name)
        return path if path.is_absolute() else scenario_file.parent / path
    for base in (scenario_file.parent / folder, bundled_config_dir() / folder):
        candidate = base / f"{name}.toml"
        if candidate.is_file():
            return candidate
    allowed = ", ".join(available(folder, scenario_file.parent)) or "none found"
    raise ConfigError(f"{scenario_file}: {key} = {name!r}: unknown {key}; allowed: {allowed}")


def _split_overrides(overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {"scenario": {}, **{k: {} for k in _SUBCONFIGS}}
    for key, value in overrides.items():
        head, _, rest = key.partition(".")
        if head in _SUBCONFIGS and rest:
            groups[head][rest] = value
        else:
            groups["scenario"][key] = value
    return groups


def _load_subconfig(scenario_file: Path, key: str, name: Any, overrides: Mapping[str, Any]) -> Any:
    path = _find_subconfig(scenario_file, key, name)
    _, model = _SUBCONFIGS[key]
    data = read_toml(path)
    for sub_key, value in overrides.items():
        _apply(data, f"{key}.{sub_key}", sub_key.split("."), value, model, path)
    return path, _validate(model, data, path, [f"{key}.{k}" for k in overrides])


def load_scenario(path: str | Path, overrides: Iterable[str] | Mapping[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario file with optional overrides.

    Parameters
    ----------
    path : str or Path
        Scenario TOML file.
    overrides : mapping or iterable of "KEY=VALUE", optional
        Dotted keys following the TOML structure: scenario keys as written
        (``dose_cells``, ``target``, ``species``…), species keys under
        ``species.`` (``species.organs.knee.flow_fraction``) and cell-product
        keys under ``cell.`` (``cell.lung_pass_fraction``).

    Returns
    -------
    Scenario
        The resolved scenario.

    Raises
    ------
    ConfigError
        One line naming the file, key, value and what is allowed.
    """
    path = Path(path)
    groups = _split_overrides(parse_overrides(overrides))
    raw = read_toml(path)
    data = copy.deepcopy(raw)
    for key, value in groups["scenario"].items():
        if key in _DOSE_KEYS:  # setting one way of giving the dose replaces the other
            for other in _DOSE_KEYS:
                data.pop(other, None)
        _apply(data, key, key.split("."), value, ScenarioFile, path)
    spec = _validate(ScenarioFile, data, path, list(groups["scenario"]))

    species_path, species = _load_subconfig(path, "species", spec.species, groups["species"])
    cell_path, cell = _load_subconfig(path, "cell", spec.cell, groups["cell"])
    routes_path, routes = _load_subconfig(path, "routes", spec.routes, groups["routes"])

    problem = cell.retention_problem(species.systemic_organs)
    if problem is not None:
        raise ConfigError(f"{cell_path}: {problem}")

    dose = spec.dose_cells if spec.dose_cells is not None else spec.dose_cells_per_kg * species.body_weight_kg
    resolved = {
        "name": spec.name or path.stem,
        "species": species,
        "cell": cell,
        "routes": routes,
        "route": spec.route,
        "target": spec.target,
        "target_injury": spec.target_injury,
        "target_perfusion": spec.target_perfusion,
        "dose_cells": dose,
        "infusion_minutes": spec.infusion_minutes,
        "times_h": spec.times_h,
        "heterogeneity": spec.heterogeneity,
        "uncertainty": spec.uncertainty,
        "sources": {
            "scenario": str(path),
            "species": str(species_path),
            "cell": str(cell_path),
            "routes": str(routes_path),
        },
    }
    scenario = _validate(Scenario, resolved, path, list(groups["scenario"]))
    for key, dist in scenario.uncertainty.items():  # every uncertain key must be a settable number
        centre = next(v for v in (dist.median, dist.mean, dist.low) if v is not None)
        try:
            apply_values(scenario, {key: centre})
        except ConfigError as exc:
            raise ConfigError(f"{path}: uncertainty.{key!r}: {exc}".replace(f"{path}: --set {key}: ", "")) from None
    return scenario


def apply_values(scenario: Scenario, values: Mapping[str, Any]) -> Scenario:
    """A validated copy of a resolved scenario with dotted keys set (as ``--set`` does).

    Used for the parameter draws of uncertainty runs and sweeps: keys follow the
    same paths, e.g. ``cell.lung_pass_fraction`` or ``species.organs.knee.flow_fraction``.
    """
    file = Path(scenario.sources.get("scenario", "<scenario>"))
    data = scenario.model_dump()
    for key, value in values.items():
        parts = key.split(".")
        if parts[0] not in Scenario.model_fields or parts[0] in ("sources", "uncertainty"):
            allowed = ", ".join(k for k in Scenario.model_fields if k not in ("sources", "uncertainty"))
            raise ConfigError(f"{file}: --set {key}: unknown key {parts[0]!r}; allowed: {allowed}")
        _apply(data, key, parts, value, Scenario, file)
    return _validate(Scenario, data, file, list(values))


def _restore_floats(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _restore_floats(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_restore_floats(v) for v in obj]
    if obj in ("Infinity", "-Infinity"):
        return float(obj.replace("Infinity", "inf"))
    return obj


def scenario_from_record(record: Mapping[str, Any], file: str | Path) -> Scenario:
    """The resolved scenario stored in a ``run.json`` record (half-lives written as ``"Infinity"`` restored)."""
    if "scenario" not in record:
        raise ConfigError(f"{file}: no 'scenario' in this record; is it a biodist run.json?")
    data = _restore_floats(record["scenario"])
    species = data.get("species", {})
    if isinstance(species, dict) and "label" not in species and species.get("name") in available("species"):
        # records written before the label model: take the [label] table of the shipped species
        species["label"] = read_toml(bundled_config_dir() / "species" / f"{species['name']}.toml")["label"]
    return _validate(Scenario, data, Path(file), [])
