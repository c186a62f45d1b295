"""What the interpreter reads and writes: an enrollment's state, the events it hears, the actions it asks for.

All frozen values, so a step is a pure function and a state can be stored and replayed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from app.domain.plan.conditions import LeadFacts
from app.domain.plan.model import EVENTS, TIMERS, WAIT_TIMER

IDLE = "idle"
ACTIVE = "active"
COMPLETED = "completed"
STOPPED = "stopped"
TERMINAL = (COMPLETED, STOPPED)
NO_FACTS = LeadFacts()


@dataclass(frozen=True)
class Timer:
    kind: str
    node: str
    due_at: datetime


@dataclass(frozen=True)
class EnrollmentState:
    """Where one lead stands in one plan.

    `entered_at` is when it reached `node`; `clock_from` is when that node's durations start
    counting: the last message's planned time when that is later (a send deferred to the
    morning does not shorten the wait after it). `sent` holds the (node, episode) of every
    send of the current episode; `seen` the events heard at the current node.
    """

    status: str = IDLE
    node: str | None = None
    episode: int = 0
    entered_at: datetime | None = None
    clock_from: datetime | None = None
    seen: frozenset[str] = frozenset()
    sent: frozenset[tuple[str, int]] = frozenset()
    last_send_at: datetime | None = None
    timer: Timer | None = None
    variant: str | None = None
    draw: float = 0.0
    facts: LeadFacts = NO_FACTS

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL


# --- events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolled:
    """The lead starts silence episode `episode` (1 at the first enrollment, +1 at each re-enrollment).

    `draw` is the enrollment's stable point in [0, 1) on every node's variant weights
    (`variant_draw`), so a lead stays in one arm wherever the weights agree. `start` names the
    node to begin at instead of the plan's start (a rep's "Recover now" on a lead already one
    rung up the ladder continues at the next rung); a node the plan lacks means the plan's start.
    """

    facts: LeadFacts
    episode: int = 1
    draw: float = 0.0
    start: str | None = None

    def __post_init__(self) -> None:
        if self.episode < 1 or not 0.0 <= self.draw < 1.0:
            raise ValueError(f"an enrollment needs episode >= 1 and draw in [0, 1), got {self.episode}, {self.draw}")


Reenrolled = Enrolled
"""A new silence episode is an enrollment with the next episode number."""


@dataclass(frozen=True)
class LeadEvent:
    """A provider or lead event at `at`; `episode` is that of the message it concerns, when known.

    `facts`, when given, are the lead as it is now, for any branch the event leads to.
    """

    kind: str
    at: datetime
    episode: int | None = None
    facts: LeadFacts | None = None

    def __post_init__(self) -> None:
        if self.kind not in EVENTS:
            raise ValueError(f"unknown event {self.kind!r} ({', '.join(EVENTS)})")


@dataclass(frozen=True)
class TimerFired:
    kind: str
    node: str
    facts: LeadFacts | None = None

    def __post_init__(self) -> None:
        if self.kind not in (*TIMERS, WAIT_TIMER):
            raise ValueError(f"unknown timer {self.kind!r}")


Event = Enrolled | LeadEvent | TimerFired


def variant_draw(key: str) -> float:
    """A stable point in [0, 1) for an enrollment key such as '<tenant>:<campaign>:<lead>'."""
    digest = hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) / 2**32


# --- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """Send this node's message, not before `not_before`; (node, episode) is its dedupe key."""

    node: str
    channel: str
    variant: str | None
    not_before: datetime
    episode: int
    template: str | None = None
    brief: str | None = None


@dataclass(frozen=True)
class Schedule:
    """Arm the enrollment's one timer; fire `TimerFired(kind, node)` at `due_at`."""

    kind: str
    node: str
    due_at: datetime


@dataclass(frozen=True)
class CancelTimers:
    """Disarm the enrollment's pending timer (a timer that fires is consumed without this)."""


@dataclass(frozen=True)
class Moved:
    """The enrollment moved from one node to another (a campaign_transitions row)."""

    from_node: str | None
    to_node: str
    trigger: str


@dataclass(frozen=True)
class Complete:
    """The plan ran to its end; the sends it already asked for still go."""

    reason: str


@dataclass(frozen=True)
class Stop:
    """The enrollment ends early: it sends nothing more, its queued sends included."""

    reason: str


Action = Send | Schedule | CancelTimers | Moved | Complete | Stop
