"""Scenarios: what is infused, into whom, by which route, reported when — one type for the file and the run.

A scenario file names its species, cell product and route set; :meth:`Scenario.load`
resolves those names while validating (``"human"`` becomes a
:class:`~biodist.config.species.Species`), so the file's schema and the resolved scenario
are one class. :meth:`Scenario.with_values` returns a validated copy with dotted keys
changed (the same keys as ``--set``), checking only what changed.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ..errors import ConfigError
from .base import ConfigModel, FloatList
from .cell import CellProduct
from .files import find_config, find_scenario, read_toml
from .keys import get, parse_overrides, set_in, split, updated
from .limits import MAX_TIME_H
from .messages import format_value, validate
from .routes import ROUTES, RouteConfig
from .species import LUNG, Species
from .uncertainty import Distribution

__all__ = ["DEFAULT_HETEROGENEITY", "DEFAULT_TIMES_H", "SUBCONFIGS", "Scenario"]

#: Report times used when a scenario gives none (h).
DEFAULT_TIMES_H = (0.25, 1.0, 6.0, 24.0, 72.0, 168.0)
#: Default cell model: see the README, "Size heterogeneity", for why.
DEFAULT_HETEROGENEITY = "none"
#: Longest infusion accepted (min): one day.
MAX_INFUSION_MINUTES = 24 * 60.0
#: Scenario keys that name a sub-config, and its class.
SUBCONFIGS: dict[str, type] = {"species": Species, "cell": CellProduct, "routes": RouteConfig}
#: The two ways of giving the dose.
_DOSE_KEYS = ("dose_cells", "dose_cells_per_kg")
#: Keys the loader fills in; not settable.
_DERIVED = ("sources",)
Route = Literal[ROUTES]


def _group_overrides(overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Split ``--set`` keys into the scenario's own and each sub-config's (prefix removed)."""
    groups: dict[str, dict[str, Any]] = {"scenario": {}, **{k: {} for k in SUBCONFIGS}}
    for key, value in overrides.items():
        head, _, rest = key.partition(".")
        if head in SUBCONFIGS and rest:
            groups[head][rest] = value
        else:
            groups["scenario"][key] = value
    return groups


@lru_cache(maxsize=64)
def _path(text: str) -> Path:
    return Path(text)


def _restore_floats(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _restore_floats(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_restore_floats(v) for v in obj]
    if obj in ("Infinity", "-Infinity"):
        return float(obj.replace("Infinity", "inf"))
    return obj


class Scenario(ConfigModel):
    """A scenario: the file's keys, with species, cell product and routes resolved.

    Attributes
    ----------
    name, description : str
        Labels for titles and records (``name`` defaults to the file name).
    species : Species
        Physiology (named in the file: ``"human"``, ``"rat"``, ``"mouse"`` or a ``.toml`` path).
    cell : CellProduct
        Cell product (``"bm_msc"``, …).
    routes : RouteConfig
        Route parameters (territories, depots; default ``"default"``).
    route : {"iv", "intra_arterial", "direct"}
        Route of administration.
    target : str
        Organ of interest (marked in tables, first in summaries).
    target_injury : float
        Homing factor on the target's per-pass lodging probability (capped at 1).
    target_perfusion : float
        Factor on the target's blood flow; the difference comes from ``rest``.
    dose_cells : float
        Cells infused (viable and not); derived from ``dose_cells_per_kg`` when that is given.
    dose_cells_per_kg : float or None
        The dose per kg of body weight, if the scenario gives it that way.
    infusion_minutes : float
        Duration of a constant-rate infusion (min); 0 is a bolus.
    times_h : tuple of float
        Report times (h), increasing, without repeats.
    heterogeneity : {"none", "size"}
        ``"none"``: every cell lodges with the product's per-bed probabilities;
        ``"size"``: lodging follows each cell's diameter.
    uncertainty : dict of str to Distribution
        Distributions of uncertain parameters, keyed by ``--set`` key, that the scenario itself declares;
        they add to (and for the same key replace) those of its species and cell product: see
        :meth:`uncertain_parameters`.
    sources : dict of str to str
        Files the scenario was read from (``scenario``, ``species``, ``cell``, ``routes``).
    """

    name: str = ""
    description: str = ""
    species: Species
    cell: CellProduct
    routes: RouteConfig
    route: Route = "iv"
    target: str
    target_injury: float = Field(default=1.0, ge=0.0, le=1e3)
    target_perfusion: float = Field(default=1.0, ge=0.0, le=1e3)
    dose_cells: float = Field(gt=0.0, le=1e15)
    dose_cells_per_kg: float | None = Field(default=None, gt=0.0, le=1e15)
    infusion_minutes: float = Field(default=0.0, ge=0.0, le=MAX_INFUSION_MINUTES)
    times_h: FloatList = DEFAULT_TIMES_H
    heterogeneity: Literal["size", "none"] = DEFAULT_HETEROGENEITY
    uncertainty: dict[str, Distribution] = Field(default_factory=dict)
    sources: dict[str, str] = Field(default_factory=dict)

    # ---- resolving names while validating ------------------------------------------
    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, data: Any, info: ValidationInfo) -> Any:
        """Turn the names of species, cell and routes into configs; derive a per-kg dose."""
        if not isinstance(data, dict):
            return data
        ctx = info.context or {}
        base, file = ctx.get("base"), ctx.get("file", "scenario")
        groups = ctx.get("overrides") or {}
        data = dict(data)
        sources = dict(data.get("sources") or {})
        data.setdefault("routes", "default")
        for key, kind in SUBCONFIGS.items():
            name = data.get(key)
            if isinstance(name, str):
                path = find_config(key, name, base, where=f"{file}: {key} = {format_value(name)}")
                data[key] = kind.from_file(path, groups.get(key), prefix=f"{key}.")
                sources[key] = str(path)
        data["sources"] = sources
        per_kg, species = data.get("dose_cells_per_kg"), data.get("species")
        weight = species.body_weight_kg if isinstance(species, Species) else None
        if isinstance(species, dict):  # a species being changed: its new weight (checked when it is validated)
            weight = species.get("body_weight_kg")
        number = (int, float)
        if isinstance(per_kg, number) and isinstance(weight, number) and not isinstance(per_kg, bool):
            data["dose_cells"] = per_kg * weight
        return data

    @field_validator("times_h")
    @classmethod
    def _times(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) == 0:
            raise ValueError("give at least one report time (h)")
        for t in v:
            if not (math.isfinite(t) and 0 <= t <= MAX_TIME_H):
                raise ValueError(f"report times must lie within [0, {MAX_TIME_H:g}] h (got {t})")
        return tuple(sorted(set(float(t) for t in v)))

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        organs = self.species.organ_names
        if self.target not in organs:
            raise ValueError(
                f"target = {self.target!r}: not an organ of species {self.species.name!r}; allowed: {', '.join(organs)}"
            )
        problem = self.cell.retention_problem(self.species.systemic_organs)
        if problem is not None:
            raise ConfigError(f"{self.sources.get('cell', 'cell')}: {problem}")
        if self.route == "intra_arterial":
            territory = self.routes.territories.get(self.target)
            if territory is None:
                raise ValueError(
                    f"route = 'intra_arterial': no arterial territory for target {self.target!r}; "
                    f"targets with one: {', '.join(self.routes.territories) or 'none configured'}"
                )
            bad = [b for b in territory.beds if b not in self.species.systemic_organs]
            if bad:
                raise ValueError(f"routes.territories.{self.target}.beds: {bad[0]!r} is not a systemic organ")
        if self.route == "direct" and self.target not in self.routes.depots:
            raise ValueError(
                f"route = 'direct': target {self.target!r} has no injection depot; "
                f"targets with one: {', '.join(self.routes.depots) or 'none configured'}"
            )
        if self.target_perfusion != 1.0:
            if self.target == LUNG:
                raise ValueError("target_perfusion: the lung takes all venous return; leave it at 1 for the lung")
            self.effective_species()  # raises when rest would go negative
        return self

    # ---- loading and changing ------------------------------------------------------
    @classmethod
    def load(cls, source: str | Path, overrides: Iterable[str] | Mapping[str, Any] | None = None) -> Scenario:
        """Load and validate a scenario file (or a shipped scenario by name) with optional overrides.

        Parameters
        ----------
        source : str or Path
            A scenario TOML file, or the name of a shipped one (``"human_msc_iv"``), from any folder.
        overrides : mapping or iterable of "KEY=VALUE", optional
            Dotted keys following the TOML structure: scenario keys as written
            (``dose_cells``, ``target``, ``species``…), species keys under
            ``species.`` (``species.organs.knee.flow_fraction``), cell-product keys
            under ``cell.`` (``cell.lung_pass_fraction``), route keys under ``routes.``.

        Returns
        -------
        Scenario

        Raises
        ------
        ConfigError
            One line naming the file, key, value and what is allowed.

        Examples
        --------
        >>> sc = Scenario.load("human_msc_iv", {"cell.lung_pass_fraction": 0.015})  # doctest: +SKIP
        """
        path = find_scenario(source)
        groups = _group_overrides(parse_overrides(overrides))
        raw = read_toml(path)
        for key in _DERIVED:
            if key in raw:
                raise ConfigError(f"{path}: {key}: is filled in by biodist; remove it from the file")
        data = copy.deepcopy(raw)
        hint = ", ".join(f"{k}.*" for k in SUBCONFIGS)
        for key, value in groups["scenario"].items():
            if key in _DOSE_KEYS:  # setting one way of giving the dose replaces the other
                for other in _DOSE_KEYS:
                    data.pop(other, None)
            set_in(data, key, value, cls, path, tables_hint=hint)
        if (data.get("dose_cells") is None) == (data.get("dose_cells_per_kg") is None):
            raise ConfigError(
                f"{path}: dose_cells / dose_cells_per_kg: give exactly one of them "
                f"(got dose_cells = {data.get('dose_cells')}, dose_cells_per_kg = {data.get('dose_cells_per_kg')})"
            )
        data.setdefault("name", path.stem)
        data["sources"] = {"scenario": str(path)}
        context = {"base": path.parent, "file": path, "overrides": groups}
        scenario = validate(cls, data, path, list(groups["scenario"]), context)
        scenario._check_uncertainty()
        return scenario

    def _file(self) -> Path:
        return _path(self.sources.get("scenario", "<scenario>"))

    @property
    def folder(self) -> Path | None:
        """The folder of the scenario's file (looked in first for its species, cells, routes, tracers), if any."""
        file = self.sources.get("scenario")
        return Path(file).parent if file else None

    def _file_of(self, key: str) -> Path:
        head = key.partition(".")[0]
        if head in SUBCONFIGS and "." in key and head in self.sources:
            return _path(self.sources[head])
        return self._file()

    def _locate(self, loc: list[str]) -> tuple[Path, list[str]]:
        if loc[0] in SUBCONFIGS and loc[0] in self.sources:  # a sub-config's own key, or the whole sub-config
            return _path(self.sources[loc[0]]), loc[1:]
        return self._file(), loc

    def with_values(self, values: Mapping[str, Any]) -> Scenario:
        """A validated copy with dotted keys set, as ``--set`` would set them.

        Only the parts that change are validated again, so this is cheap enough to call in a loop.

        Parameters
        ----------
        values : mapping of str to value
            E.g. ``{"cell.lung_pass_fraction": 0.03, "species.organs.knee.flow_fraction": 1e-3}``.
            A name for ``species``, ``cell`` or ``routes`` loads that config.

        Raises
        ------
        ConfigError
            The same one-line message as the command line.

        Examples
        --------
        >>> sc = Scenario.load("human_msc_iv")  # doctest: +SKIP
        >>> sc.with_values({"cell.lung_pass_fraction": 0.015}).cell.lung_pass_fraction  # doctest: +SKIP
        0.015
        """
        values = dict(values)
        names = {k: v for k, v in values.items() if k in SUBCONFIGS and isinstance(v, str)}
        if names and any(k.partition(".")[0] in names and "." in k for k in values):
            # "species=mouse" with "species.body_weight_kg=...": load the named config first, then change it
            return self.with_values(names).with_values({k: v for k, v in values.items() if k not in names})
        settable = [k for k in type(self).model_fields if k not in _DERIVED]
        for key in values:
            head = split(key)[0]
            if head not in settable:
                raise ConfigError(f"{self._file()}: --set {key}: unknown key {head!r}; allowed: {', '.join(settable)}")
        data = updated(self, values, self._file_of)
        if "dose_cells" in values:
            data["dose_cells_per_kg"] = None
        context = {"base": self._file().parent, "file": self._file()}
        scenario = validate(type(self), data, self._file(), list(values), context, self._locate)
        if "uncertainty" in values:
            scenario._check_uncertainty()
        return scenario

    def replace(self, **changes: object) -> Scenario:
        """A validated copy with keys changed: :meth:`with_values` (top-level names, or dotted keys via ``**{...}``)."""
        return self.with_values(changes)

    @classmethod
    def from_record(cls, record: Mapping[str, Any], file: str | Path) -> Scenario:
        """The resolved scenario stored in a ``run.json`` record (``"Infinity"`` half-lives restored)."""
        if not isinstance(record, Mapping) or "scenario" not in record:
            raise ConfigError(f"{file}: no 'scenario' in this record; is it a biodist run.json?")
        data = _restore_floats(record["scenario"])
        species = data.get("species") if isinstance(data, dict) else None
        if isinstance(species, dict) and "label" not in species:
            # records written before the label model: take the [label] table of the shipped species
            try:
                species["label"] = read_toml(find_config("species", species.get("name")))["label"]
            except (ConfigError, KeyError):
                pass
        return validate(cls, data, Path(file))

    def uncertain_parameters(self) -> dict[str, Distribution]:
        """Every declared distribution, keyed by ``--set`` key: the species', the cell product's, the scenario's.

        Ranges live with the configs they describe, so ``--set species=rat`` draws rat physiology; a scenario's
        own ``[uncertainty]`` adds keys or replaces a declared one.
        """
        declared = {f"species.{k}": d for k, d in self.species.uncertainty.items()}
        declared |= {f"cell.{k}": d for k, d in self.cell.uncertainty.items()}
        return declared | dict(self.uncertainty)

    def _check_uncertainty(self) -> None:
        """Every uncertain key must name a number of this scenario (its draws are validated when they are made)."""
        for key in self.uncertain_parameters():
            try:
                updated(self, {key: 0.0}, self._file_of)  # the key exists (else: one line with what is allowed)
            except ConfigError as exc:
                file = self._file_of(key)
                raise ConfigError(
                    f"{self._file()}: uncertainty.{key!r}: " + str(exc).replace(f"{file}: --set {key}: ", "")
                ) from None
            value = get(self, key)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ConfigError(
                    f"{self._file()}: uncertainty.{key!r}: not a number of this scenario (its value: "
                    f"{format_value(value) if value is not None else 'no such key'}); give a --set key of a number"
                )

    def check_uncertainty_support(self) -> None:
        """The ends of each uncertain parameter's support must be values its key may take here.

        Checked when subjects are drawn (``--uncertainty``), not when the scenario is loaded: a
        human scenario's ranges need not fit ``--set species=mouse`` until they are used.
        """
        for key, dist in self.uncertain_parameters().items():
            for bound in ("low", "high"):
                corner = getattr(dist, bound)
                if corner is None:
                    continue
                try:
                    self.with_values({key: corner})
                except ConfigError as exc:
                    reason = str(exc).split(": ", 1)[-1]
                    raise ConfigError(
                        f"{self._file()}: uncertainty.{key!r}: {bound} = {format_value(corner)} is not a value this "
                        f"key may take ({reason})"
                    ) from None

    # ---- derived quantities ----------------------------------------------------------
    def effective_species(self) -> Species:
        """The species with the target's flow scaled by ``target_perfusion`` (taken from or given to ``rest``)."""
        if self.target_perfusion == 1.0 or self.target == LUNG:
            return self.species
        old = self.species.flow_fraction(self.target)
        new = old * self.target_perfusion
        if new - old > self.species.rest_flow_fraction + 1e-12:
            raise ValueError(
                f"target_perfusion = {self.target_perfusion}: raises {self.target}'s flow fraction from {old:.4g} to "
                f"{new:.4g}, more than rest's {self.species.rest_flow_fraction:.4g}; rest must stay >= 0"
            )
        organs = dict(self.species.organs)
        organs[self.target] = organs[self.target].model_copy(update={"flow_fraction": new})
        return self.species.model_copy(update={"organs": organs})

    @property
    def infusion_h(self) -> float:
        """Infusion duration in hours (0 for a bolus)."""
        return self.infusion_minutes / 60.0

    @property
    def viable_dose_cells(self) -> float:
        """Cells alive at administration."""
        return self.dose_cells * self.cell.viable_fraction
