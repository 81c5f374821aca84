"""Files: run folders (save, load), the record of a run, text tables, figures as files, SBML.

Above the studies and the plotting: this is where results meet the disk and the terminal.
"""

from __future__ import annotations

from .folders import load, read_record, save
from .record import run_record

__all__ = ["load", "read_record", "run_record", "save"]
