"""Files: run folders (save, load), the record of a run, text tables, figures as files, SBML.

Above the studies and the plotting: this is where results meet the disk and the terminal.
Import the module you need (``biodist.io.folders``, ``biodist.io.text``, …); ``save`` and
``load`` are also ``biodist.save`` and ``biodist.load``.
"""
