"""Studies built on the model: compare (routes), sweep (designs, executors, resumable store), fit, validate.

Each module holds one study and the function of the same name (``biodist.compare``,
``biodist.sweep``, ``biodist.fit``, ``biodist.validate``).
"""
