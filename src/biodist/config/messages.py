"""Validation errors as one line: file, key, value and what is allowed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError
from .keys import schema_at

__all__ = ["format_value", "validate"]

M = TypeVar("M", bound=BaseModel)

#: pydantic error types whose message biodist words itself.
_TYPE_MESSAGES = {
    "float_type": "expected a number, got {kind}",
    "int_type": "expected an integer, got {kind}",
    "string_type": "expected a string, got {kind}",
    "bool_type": "expected true or false, got {kind}",
    "finite_number": "must be a finite number",
}
#: Where a key's file is another one: the sub-configs of a scenario.
Locate = Callable[[list[str]], tuple[Path, list[str]]]


def format_value(value: Any) -> str:
    """A value as it would be written in TOML-ish text (strings quoted)."""
    return repr(value) if isinstance(value, str) else str(value)


def _message(err: Mapping[str, Any], file: Path, model: type[BaseModel], locate: Locate | None) -> str:
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ConfigError):  # raised by a validator that already wrote the whole line
        return str(cause)
    loc = [str(p) for p in err["loc"]]
    if locate is not None and loc:
        file, loc = locate(loc)
    key = ".".join(f'"{p}"' if "." in p else p for p in loc)  # TOML quoting for dotted table names
    msg = err["msg"].removeprefix("Value error, ")
    kind = type(err.get("input")).__name__
    if err["type"] in _TYPE_MESSAGES:
        msg = _TYPE_MESSAGES[err["type"]].format(kind=kind)
    if err["type"] == "missing":
        return f"{file}: {key}: required key is missing"
    if err["type"] == "extra_forbidden":
        holder = schema_at(model, [str(p) for p in err["loc"]])
        allowed = ", ".join(holder.model_fields) if holder is not None else "see the README"
        return f"{file}: {key}: unknown key; allowed: {allowed}"
    if not loc:
        return f"{file}: {msg}"
    if isinstance(err.get("input"), dict | BaseModel):  # a whole table failed its own check: the message names the keys
        return f"{file}: {key}: {msg}"
    return f"{file}: {key} = {format_value(err.get('input'))}: {msg[:1].lower()}{msg[1:]}"


def validate(
    model: type[M],
    data: Any,
    file: Path,
    overridden: list[str] | tuple[str, ...] = (),
    context: dict[str, Any] | None = None,
    locate: Locate | None = None,
) -> M:
    """``model.model_validate(data)``, a failure turned into one :class:`ConfigError` line.

    Parameters
    ----------
    model : pydantic model class
    data : mapping
    file : Path
        The file the data came from (named in the message).
    overridden : list of str
        ``--set`` keys applied to the data: named as ``(after --set KEY, ...)``.
    context : dict, optional
        pydantic validation context.
    locate : callable, optional
        Maps an error location to the file that holds it and the key within that file.
    """
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        line = _message(exc.errors()[0], file, model, locate)
        if overridden and "(after --set" not in line:
            line += f" (after --set {', '.join(overridden)})"
        raise ConfigError(line) from None
