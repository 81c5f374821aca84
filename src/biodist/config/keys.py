"""Dotted keys: the one place where ``cell.lung_pass_fraction`` or ``species.organs.knee.flow_fraction`` is read.

A key follows the TOML structure of the scenario, species, cell and routes files. The
same functions serve ``--set`` on the command line, :meth:`Scenario.with_values`,
sweeps, fits and uncertainty draws:

* :func:`parse_override` / :func:`parse_overrides` — ``"KEY=VALUE"`` text → ``(key, value)``;
* :func:`set_in` — set a key in TOML data (plain dicts), refusing keys the schema does not know;
* :func:`updated` — the same checks on a validated object, returning a shallow copy-on-write
  tree (unchanged branches are the original, already validated objects) ready to validate;
* :func:`assign` — set keys on a validated object *without* validation (the batched fast
  path, where values are arrays);
* :func:`get` — read a key.
"""

from __future__ import annotations

import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import ConfigError

__all__ = [
    "assign",
    "get",
    "parse_override",
    "parse_overrides",
    "schema_at",
    "set_in",
    "split",
    "updated",
]


class _Leaf:
    """A value in an update tree (so that a dict value is not mistaken for a branch)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def split(key: str) -> list[str]:
    """The parts of a dotted key; a key with an empty part is refused."""
    return list(_split(key))


@lru_cache(maxsize=1024)
def _split(key: str) -> tuple[str, ...]:
    parts = tuple(key.split("."))
    if not key or any(not p for p in parts):
        raise ConfigError(f"--set {key!r}: expected a dotted key such as cell.lung_pass_fraction")
    return parts


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


def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        return models[0] if models else annotation
    return annotation


def schema_at(model: type[BaseModel], parts: list[str]) -> type[BaseModel] | None:
    """The pydantic model that holds the key ``parts[-1]``; ``None`` inside a free mapping."""
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
        current = _unwrap_optional(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


# ---------------------------------------------------------------------------
# walking dicts and validated objects alike
# ---------------------------------------------------------------------------
def _is_table(node: Any) -> bool:
    return isinstance(node, dict | BaseModel)


def _children(node: Any) -> Mapping[str, Any]:
    if isinstance(node, BaseModel):
        return {name: getattr(node, name) for name in type(node).model_fields}
    return node


_MISSING = object()


def _child(node: Any, part: str) -> Any:
    """``node[part]`` for a table (dict or model), or ``_MISSING``."""
    if isinstance(node, BaseModel):
        return getattr(node, part) if part in type(node).model_fields else _MISSING
    return node.get(part, _MISSING) if isinstance(node, dict) else _MISSING


def _check(root: Any, key: str, parts: list[str], value: Any, schema: type[BaseModel], file: Path, what: str) -> None:
    """Refuse a key that names no table on its way, an unknown leaf, or a new table (``key``: as shown)."""
    node = root
    for depth, part in enumerate(parts[:-1]):
        child = _child(node, part)
        if not _is_table(child):
            tables = sorted(k for k, v in _children(node).items() if _is_table(v))
            where = ".".join(parts[: depth + 1])
            allowed = ", ".join(tables) or "none (no tables here)"
            if depth == 0 and what:
                allowed = what
            raise ConfigError(f"{file}: --set {key}: {where!r} is not a table of this file; tables: {allowed}")
        node = child
    leaf = parts[-1]
    if _child(node, leaf) is not _MISSING:
        return
    if isinstance(value, dict):
        raise ConfigError(f"{file}: --set {key}: {leaf!r} does not exist; --set changes values, it cannot add tables")
    holder = type(node) if isinstance(node, BaseModel) else schema_at(schema, parts)
    if holder is not None and leaf not in holder.model_fields:
        allowed = ", ".join(sorted(set(holder.model_fields) | set(_children(node))))
        raise ConfigError(f"{file}: --set {key}: unknown key {leaf!r}; allowed: {allowed}")


def set_in(
    data: dict[str, Any],
    key: str,
    value: Any,
    schema: type[BaseModel],
    file: Path,
    tables_hint: str = "",
    shown: str = "",
) -> None:
    """Set ``key`` in TOML ``data`` (nested dicts, changed in place), refusing keys the schema does not know.

    ``tables_hint`` replaces the list of tables in the message when the first part is unknown;
    ``shown`` is the key as the user wrote it (e.g. with its ``cell.`` prefix), default ``key``.
    """
    parts = split(key)
    _check(data, shown or key, parts, value, schema, file, tables_hint)
    node = data
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def _tree(values: Mapping[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in values.items():
        *path, leaf = split(key)
        node = tree
        for depth, part in enumerate(path):
            nxt = node.setdefault(part, {})
            if isinstance(nxt, _Leaf):
                raise ConfigError(_both(key, ".".join(path[: depth + 1])))
            node = nxt
        if isinstance(node.get(leaf), dict):
            raise ConfigError(_both(key, key))
        node[leaf] = _Leaf(value)
    return tree


def _both(key: str, whole: str) -> str:
    return (
        f"--set {key}: {whole!r} is set as a whole and a key inside it is set too; "
        "give one of them (or change the whole first, then the key)"
    )


def _apply(node: Any, tree: Mapping[str, Any], copy: bool) -> Any:
    """``node`` with the tree applied: a shallow dict (``copy=False``) or a ``model_copy`` (``copy=True``)."""
    children = dict(_children(node))
    for part, sub in tree.items():
        children[part] = sub.value if isinstance(sub, _Leaf) else _apply(children[part], sub, copy)
    if copy and isinstance(node, BaseModel):
        return node.model_copy(update=children)  # a ConfigModel copy is marked unchecked
    return children


def updated(
    obj: BaseModel, values: Mapping[str, Any], file_of: typing.Callable[[str], Path], tables_hint: str = ""
) -> dict[str, Any]:
    """A shallow tree of ``obj`` with ``values`` set, ready for ``model_validate`` (checked like :func:`set_in`).

    Branches that do not change stay the validated objects they were (pydantic does not
    validate them again), so the cost is that of the branches that change.
    ``file_of(key)`` names the file a key belongs to (for the messages).
    """
    for key, value in values.items():
        _check(obj, key, split(key), value, type(obj), file_of(key), tables_hint)
    return _apply(obj, _tree(values), copy=False)


def assign(obj: BaseModel, values: Mapping[str, Any]) -> Any:
    """A copy of ``obj`` with dotted keys set **without** validation (values may be arrays).

    For the batched paths (sweep chunks, fits) whose values were checked once, at their corners.
    """
    return _apply(obj, _tree(values), copy=True)


def get(obj: Any, key: str) -> Any:
    """The value at a dotted key."""
    node = obj
    for part in split(key):
        children = _children(node) if _is_table(node) else {}
        if part not in children:
            raise ConfigError(f"{key}: unknown key {part!r}")
        node = children[part]
    return node
