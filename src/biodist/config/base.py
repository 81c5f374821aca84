"""The base of every config model: strict numbers, finite unless a field says otherwise, unknown keys refused.

TOML has real numbers, so a quoted ``"0.02"`` or ``true`` where a number belongs is a
mistake to report, not to coerce — at the top level and inside lists and tables alike.
The checks run in pydantic-core (strict mode), not in Python validators, so validating
a whole scenario costs tens of microseconds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, Strict

__all__ = ["ConfigModel", "FloatList", "FloatPair", "Infinite", "StrictFloat", "checked_once"]

M = TypeVar("M", bound="ConfigModel")

#: A number (int or float, never bool or str).
StrictFloat = Annotated[float, Strict()]
#: A TOML array of numbers (a list in the file, a tuple once validated).
FloatList = Annotated[tuple[StrictFloat, ...], Strict(False)]
#: A TOML array of exactly two numbers.
FloatPair = Annotated[tuple[StrictFloat, StrictFloat], Strict(False)]


def Infinite(**constraints: float) -> object:
    """A field that also accepts ``inf`` (half-lives: "never"); NaN is still refused by its bounds."""
    return Field(allow_inf_nan=True, **constraints)


def checked_once(check: Callable[[M], M]) -> Callable[[M], M]:
    """Run a model's own after-validator once per object, not again each time the object is nested in another.

    pydantic re-runs a nested model's after-validators when an already validated object is
    passed in (as :meth:`Scenario.with_values` does with the parts that did not change).
    A model's own checks depend on its own fields only, and the object is frozen, so once is enough.
    """

    @functools.wraps(check)
    def run(self: M) -> M:
        private = self.__pydantic_private__  # the dict behind _checked (attribute access to it is slow)
        if private is not None and private.get("_checked"):
            return self
        out = check(self)
        self._checked = True
        return out

    return run


class ConfigModel(BaseModel):
    """Frozen, unknown keys refused, numbers strict and finite.

    Fields declared with :func:`Infinite` accept ``inf``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False, ser_json_inf_nan="strings")
    _checked: bool = PrivateAttr(default=False)
    #: Values derived from the fields (the object is frozen), filled on first use by :meth:`_derived`.
    _cache: dict = PrivateAttr(default_factory=dict)

    def model_copy(self: M, *, update: dict | None = None, deep: bool = False) -> M:
        """A copy (pydantic's); with ``update`` its values are unchecked and its derived values are forgotten."""
        copied = super().model_copy(update=update, deep=deep)
        if update:
            private = copied.__pydantic_private__
            private["_checked"] = False  # its values were not checked: validate it when it is next nested
            private["_cache"] = {}
        return copied

    def _derived(self, key: object, make: Callable[[], object]) -> object:
        """``make()`` once per object and key (for values derived from the frozen fields)."""
        cache = self.__pydantic_private__["_cache"]
        if key not in cache:
            cache[key] = make()
        return cache[key]
