"""The base of every config model: numbers must be numbers, and finite unless a field allows infinity."""

from __future__ import annotations

import math
import types
import typing
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

__all__ = ["ConfigModel"]


def _is_numeric(annotation: Any) -> bool:
    if annotation in (float, int):
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_is_numeric(a) for a in typing.get_args(annotation))
    return False


class ConfigModel(BaseModel):
    """Frozen, unknown keys refused; numeric fields refuse booleans, strings and (unless listed) inf/nan.

    TOML has real numbers, so a quoted ``"0.02"`` or ``true`` where a number belongs is
    a mistake to report, not to coerce. Fields named in ``_infinite_ok`` accept ``inf``
    (half-lives: "never").
    """

    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="strings")
    _infinite_ok: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is None or not _is_numeric(field.annotation):
            return value
        if isinstance(value, bool | str):
            raise ValueError(f"expected a number, got {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            if math.isnan(value) or info.field_name not in cls._infinite_ok:
                raise ValueError("must be a finite number")
        return value
