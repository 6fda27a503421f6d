"""How many hypothesis examples the oracle-comparison tests run.

``make test`` runs the full counts; ``make check`` (the fast loop) sets
``HOTCORE_EXAMPLES_SCALE`` to run a fraction of them, never fewer than 20.
"""

from __future__ import annotations

import os

SCALE = float(os.environ.get("HOTCORE_EXAMPLES_SCALE", "1"))


def examples(count: int) -> int:
    """``count`` examples, scaled for the fast loop."""
    return max(20, round(count * SCALE))
