"""The silence ladder: when a quiet lead is due for its next re-engagement.

A lead climbs one rung at a time: with a ladder of 24 h, 48 h, 72 h a lead silent for five
days who was never contacted gets rung 1 first, not rung 3, so the first message it sees is
the gentle one. Any new activity puts it back at the bottom (level 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

DEFAULT_LADDER_HOURS = (24, 48, 72)


@dataclass(frozen=True)
class Ladder:
    """Rung thresholds in hours of silence, strictly increasing."""

    hours: tuple[int, ...] = DEFAULT_LADDER_HOURS

    def __post_init__(self) -> None:
        if not self.hours:
            raise ValueError("a silence ladder needs at least one rung")
        if any(h <= 0 for h in self.hours):
            raise ValueError("silence ladder rungs must be positive hours")
        if any(b <= a for a, b in zip(self.hours, self.hours[1:], strict=False)):
            raise ValueError("silence ladder rungs must be strictly increasing")

    @classmethod
    def parse(cls, hours: Sequence[int]) -> Ladder:
        return cls(tuple(int(h) for h in hours))

    @property
    def top(self) -> int:
        return len(self.hours)

    def threshold(self, rung: int) -> timedelta:
        """How long a lead must be silent to reach `rung` (1-based)."""
        return timedelta(hours=self.hours[rung - 1])


def reached_rung(ladder: Ladder, silent_for: timedelta) -> int:
    """The highest rung whose threshold `silent_for` has crossed (0 when none)."""
    return sum(1 for rung in range(1, ladder.top + 1) if silent_for >= ladder.threshold(rung))


def next_rung(ladder: Ladder, silent_for: timedelta, last_rung: int | None) -> int | None:
    """The rung a lead has reached and not yet been contacted at, or None."""
    current = last_rung or 0
    if current >= ladder.top:
        return None
    candidate = current + 1
    return candidate if silent_for >= ladder.threshold(candidate) else None


def days_silent(silent_for: timedelta) -> float:
    return round(silent_for.total_seconds() / 86400, 1)
