"""The base of every config model: strict numbers, finite unless a field says otherwise, unknown keys refused.

TOML has real numbers, so a quoted ``"0.02"`` or ``true`` where a number belongs is a
mistake to report, not to coerce — at the top level and inside lists and tables alike.
The checks run in pydantic-core (strict mode), not in Python validators, so validating
a whole scenario costs tens of microseconds.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

__all__ = ["ConfigModel", "FloatList", "FloatPair", "Infinite", "StrictFloat"]

#: A number (int or float, never bool or str).
StrictFloat = Annotated[float, Strict()]
#: A TOML array of numbers (a list in the file, a tuple once validated).
FloatList = Annotated[tuple[StrictFloat, ...], Strict(False)]
#: A TOML array of exactly two numbers.
FloatPair = Annotated[tuple[StrictFloat, StrictFloat], Strict(False)]


def Infinite(**constraints: float) -> object:
    """A field that also accepts ``inf`` (half-lives: "never"); NaN is still refused by its bounds."""
    return Field(allow_inf_nan=True, **constraints)


class ConfigModel(BaseModel):
    """Frozen, unknown keys refused, numbers strict and finite.

    Fields declared with :func:`Infinite` accept ``inf``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False, ser_json_inf_nan="strings")
