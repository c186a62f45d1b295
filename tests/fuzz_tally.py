"""How many generated inputs each fuzz test tried, per target: `python -m bench.fuzz` runs the fuzz
tests with larger counts (`FUZZ_SCALE`) and publishes these tallies."""

from __future__ import annotations

import os
from collections import Counter

TRIED: Counter[str] = Counter()


def examples(base: int) -> int:
    """The suite's example count, times `FUZZ_SCALE` when the bench asks for more."""
    return base * int(os.environ.get("FUZZ_SCALE", "1"))


def tried(target: str) -> None:
    TRIED[target] += 1
