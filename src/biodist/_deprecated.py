"""Module paths from before issue 9, kept working for one release with a DeprecationWarning.

``from biodist.compare import compare`` and friends still work: each old flat module is
registered in ``sys.modules`` as a light stand-in that forwards attribute look-ups to the
new module. Registering them up front means importing an old path never rebinds the new
top-level functions (``biodist.compare`` stays the function).
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from typing import Any

__all__ = ["MOVED", "RENAMED", "install"]

#: Old module → the new modules that hold its names (searched in order).
MOVED: dict[str, tuple[str, ...]] = {
    "batch": ("biodist.studies.sweep.fast", "biodist.config.keys"),
    "cells": ("biodist.config.cell",),
    "chain": ("biodist.solvers.montecarlo.tables",),
    "compare": ("biodist.studies.compare", "biodist.results.compare"),
    "expected": ("biodist.solvers.expected",),
    "fit": ("biodist.studies.fit", "biodist.results.fit"),
    "heterogeneity": ("biodist.model.size", "biodist.model"),
    "label": ("biodist.model.label",),
    "mc_result": ("biodist.results.montecarlo",),
    "montecarlo": ("biodist.solvers.montecarlo",),
    "ode": ("biodist.solvers.linear",),
    "outputs": ("biodist.io.atomic", "biodist.io.record"),
    "physiology": ("biodist.config.species",),
    "replot": ("biodist.io.figures",),
    "report": ("biodist.io.text",),
    "routes": ("biodist.config.routes",),
    "sbml": ("biodist.io.sbml",),
    "scenario": ("biodist.config.scenario",),
    "sweep": ("biodist.studies.sweep",),
    "sweep_spec": ("biodist.studies.sweep.spec",),
    "uncertainty": ("biodist.config.uncertainty",),
    "validation": ("biodist.studies.validate",),
    "writers": ("biodist.io.figures",),
}


#: Names that changed as well as moved: (old module, old name) → (new module, new name).
RENAMED = {
    ("batch", "set_unchecked"): ("biodist.config.keys", "assign"),
    ("heterogeneity", "compile_classes"): ("biodist.model", "compile_model"),
}


def _forwarder(old: str, targets: tuple[str, ...]) -> types.ModuleType:
    module = types.ModuleType(f"biodist.{old}", f"Deprecated: moved to {', '.join(targets)}.")

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if (old, name) in RENAMED:
            target, new = RENAMED[(old, name)]
            warnings.warn(
                f"biodist.{old}.{name} is now {target}.{new}; the old name goes in the next release",
                DeprecationWarning,
                stacklevel=2,
            )
            return getattr(importlib.import_module(target), new)
        for target in targets:
            value = getattr(importlib.import_module(target), name, _MISSING)
            if value is not _MISSING:
                warnings.warn(
                    f"biodist.{old}.{name} has moved to {target}.{name}; the old path goes in the next release",
                    DeprecationWarning,
                    stacklevel=2,
                )
                return value
        raise AttributeError(f"module 'biodist.{old}' has no attribute {name!r} (it moved to {', '.join(targets)})")

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    return module


_MISSING = object()


def install() -> None:
    """Register the stand-ins (cheap: no new module is imported)."""
    for old, targets in MOVED.items():
        sys.modules.setdefault(f"biodist.{old}", _forwarder(old, targets))
