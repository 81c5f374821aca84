"""``python -m biodist``: the command line."""

from .cli import main

raise SystemExit(main())
