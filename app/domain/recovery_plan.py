"""The plan of a tenant's default recovery campaign, one `send` node per rung of its ladder.

The silence scan, not a timer in the plan, moves a lead up the ladder: a rung's enrollment
ends (`done`) once the gap to the next rung passes without a reply, and the scan enrolls the
lead at the next rung only when its silence has crossed that rung's threshold. So the plan
says what each rung sends and when it stops; it never schedules the next rung itself, which
would contact a lead twice for the same silence (once by the timer, once by the scan).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.domain.outreach import SMS_RUNG

PLAN_VERSION = 1
STOP_NODE = "stop"
DONE_NODE = "done"

TONES = ("a gentle check-in", "a helpful nudge with something new", "a last, no-pressure note")
"""What each rung's message is for; rungs past the third reuse the last tone."""

STOP_EVENTS = ("replied", "unsubscribed", "bounced")


def rung_node(rung: int) -> str:
    """The node id of a rung: the scanner, writer and sender all key on it (`rung-<n>`)."""
    return f"rung-{rung}"


def recovery_plan(
    ladder_hours: Sequence[int],
    *,
    timezone: str = "UTC",
    quiet_hours: tuple[int, int] = (21, 8),
    send_window: tuple[int, int] = (8, 20),
) -> dict[str, Any]:
    """A plan (DESIGN.md §6) with one send node per rung, for a new recovery campaign."""
    hours = [int(h) for h in ladder_hours]
    nodes = [_send_node(rung, hours) for rung in range(1, len(hours) + 1)]
    nodes += [{"id": DONE_NODE, "kind": "stop"}, {"id": STOP_NODE, "kind": "stop"}]
    return {
        "version": PLAN_VERSION,
        "timezone": timezone,
        "quiet_hours": {"start": quiet_hours[0], "end": quiet_hours[1]},
        "send_window": {"start": send_window[0], "end": send_window[1]},
        "start": rung_node(1),
        "climb": "silence_scan",
        "ladder_hours": hours,
        "nodes": nodes,
    }


def _send_node(rung: int, hours: list[int]) -> dict[str, Any]:
    """A rung waits for a reply until the next rung's threshold; the last waits as long as the
    whole ladder took, since no later message will ask again."""
    gap = hours[rung] - hours[rung - 1] if rung < len(hours) else hours[-1]
    transitions: list[dict[str, str]] = [{"on": event, "to": STOP_NODE} for event in STOP_EVENTS]
    transitions.append({"on": "no_reply", "to": DONE_NODE, "after": f"PT{gap}H"})
    return {
        "id": rung_node(rung),
        "kind": "send",
        "rung": rung,
        "after_silence": f"PT{hours[rung - 1]}H",
        "channel": "sms" if rung == SMS_RUNG else "email",
        "fallback_channel": "email",
        "purpose": TONES[min(rung, len(TONES)) - 1],
        "transitions": transitions,
    }
