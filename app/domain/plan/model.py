"""The plan of a campaign as typed values: what each node does and where each event leads.

The JSON (version 2) these are read from, node by node:

    {"version": 2, "timezone": "America/Chicago",
     "quiet_hours": {"start": 21, "end": 8}, "send_window": {"start": 8, "end": 20},
     "start": "rung-1",
     "nodes": [
       {"id": "rung-1", "kind": "send", "channels": ["email", "sms"], "brief": "a gentle check-in",
        "variants": [{"name": "A", "weight": 1}, {"name": "B", "weight": 1, "template": "tpl-7"}],
        "next": "wait-1"},
       {"id": "wait-1", "kind": "wait", "duration": "PT24H", "next": "vip?",
        "transitions": [{"on": "replied", "to": "stop"}]},
       {"id": "vip?", "kind": "branch",
        "cases": [{"if": {"field": "deal_value", "op": ">=", "value": 5000}, "to": "call-me"}],
        "else": "rung-2"},
       {"id": "call-me", "kind": "send", "channels": ["sms"], "template": "tpl-9",
        "transitions": [{"on": "clicked", "to": "stop", "within": "P2D"},
                        {"on": "no_click", "to": "stop", "after": "P2D"}]},
       {"id": "stop", "kind": "stop", "result": "stopped"}, ...]}

- `send` sends one message on the first of its `channels` the lead can be reached on, then
  either moves on at once (`next`) or waits at the node for its timer transitions
  (`no_open`/`no_click`/`no_reply` with `after`); never both.
- `wait` waits `duration` (counted from the last message out, when that is later than its
  arrival), then moves to `next`.
- `branch` moves at once to the first case whose condition holds (`conditions.py`), else `else`.
- `stop` ends the enrollment, `completed` (default) or `stopped`.
Event transitions (`delivered`, `opened`, `clicked`, `replied`, `bounced`, `unsubscribed`,
`converted`, optionally `within` a duration of the node's clock) apply at the node the
enrollment is at. A reply, an unsubscribe or a conversion that the node does not route stops
the enrollment; an unsubscribe may only lead to a stop node. Any node may carry a `label`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import ClassVar

from app.domain.plan.conditions import Condition

PLAN_VERSION = 2
NODE_KINDS = ("send", "wait", "branch", "stop")
CHANNELS = ("email", "sms")
EVENTS = ("delivered", "opened", "clicked", "replied", "bounced", "unsubscribed", "converted")
TIMERS = ("no_open", "no_click", "no_reply")
WAIT_TIMER = "wait"
"""The timer kind of a wait node (the other kinds are the timer transitions')."""
STOPPING_EVENTS = ("replied", "unsubscribed", "converted")
"""Events that stop an enrollment at a node that does not route them."""
RESULTS = ("completed", "stopped")
SATISFIED_BY: dict[str, frozenset[str]] = {
    "no_open": frozenset({"opened", "clicked"}),
    "no_click": frozenset({"clicked"}),
    "no_reply": frozenset({"replied"}),
}
"""The events that answer a timer: a no_open timer is moot once the lead opened (or clicked)."""


@dataclass(frozen=True)
class HourRange:
    """Local hours: a send window [start, end) with start < end, or quiet hours that may wrap midnight."""

    start: int
    end: int


@dataclass(frozen=True)
class Transition:
    on: str
    to: str
    within: timedelta | None = None
    after: timedelta | None = None

    @property
    def is_timer(self) -> bool:
        return self.on in TIMERS


@dataclass(frozen=True)
class Variant:
    name: str
    weight: float
    template: str | None = None
    brief: str | None = None


@dataclass(frozen=True)
class SendNode:
    kind: ClassVar[str] = "send"
    id: str
    channels: tuple[str, ...]
    template: str | None = None
    brief: str | None = None
    variants: tuple[Variant, ...] = ()
    next: str | None = None
    transitions: tuple[Transition, ...] = ()
    rung: int | None = None
    label: str | None = None

    @property
    def timers(self) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if t.is_timer)


@dataclass(frozen=True)
class WaitNode:
    kind: ClassVar[str] = "wait"
    id: str
    duration: timedelta
    next: str
    transitions: tuple[Transition, ...] = ()
    label: str | None = None


@dataclass(frozen=True)
class Case:
    condition: Condition
    to: str


@dataclass(frozen=True)
class BranchNode:
    kind: ClassVar[str] = "branch"
    id: str
    cases: tuple[Case, ...]
    otherwise: str
    label: str | None = None
    transitions: ClassVar[tuple[Transition, ...]] = ()


@dataclass(frozen=True)
class StopNode:
    kind: ClassVar[str] = "stop"
    id: str
    result: str = "completed"
    label: str | None = None
    transitions: ClassVar[tuple[Transition, ...]] = ()


Node = SendNode | WaitNode | BranchNode | StopNode


@dataclass(frozen=True)
class Plan:
    """A valid plan: every target exists, every node is reachable, every loop waits."""

    version: int
    timezone: str
    quiet_hours: HourRange
    send_window: HourRange
    start: str
    nodes: tuple[Node, ...]
    by_id: Mapping[str, Node] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {node.id: node for node in self.nodes})

    def node(self, node_id: str) -> Node:
        return self.by_id[node_id]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a plan, at the JSON path of the value to fix."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"
