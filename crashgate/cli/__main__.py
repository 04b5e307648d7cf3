"""``python -m crashgate.cli``: the same as the ``crashgate`` command."""
import sys

from crashgate.cli import main

sys.exit(main())
