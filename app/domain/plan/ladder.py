"""The tenant's silence ladder as a plan of this language, and version 1 plans brought up to it.

Version 1 (`app/domain/recovery_plan.py`) let the silence scan climb the ladder: a rung's
plan only said what to send and when to give up. Here the plan climbs: the scan enrolls a
lead once its silence crosses the first threshold (24 h by default), rung 1 goes out, and
each later rung follows after a wait of the ladder's gap (48 - 24 = 24 h, then 72 - 48), so
rung n goes out as the lead's silence crosses threshold n. After the last rung the lead is
given as long as the whole ladder took to answer (as version 1 did), then the enrollment
completes. A reply, a click, a conversion, an unsubscribe or a bounce stops it at any point.

Each rung's channels are ordered as the ladder prefers (rung 2 by SMS, the others by email)
and fall back to the other channel, so a lead with only a phone still gets rungs 1 and 3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.domain.outreach import SMS_RUNG
from app.domain.plan.model import PLAN_VERSION, Plan, Problem
from app.domain.plan.parse import parse_plan
from app.domain.recovery_plan import DONE_NODE, STOP_NODE, TONES, rung_node
from app.domain.silence import Ladder

ENDING_EVENTS = ("replied", "clicked", "converted", "unsubscribed", "bounced")
"""What ends a recovery at any rung: the lead answered, bought, opted out, or cannot be reached."""


def wait_node(rung: int) -> str:
    """The node where a lead waits after rung `rung`'s message (`wait-<n>`)."""
    return f"wait-{rung}"


def default_recovery_plan_json(
    ladder_hours: Sequence[int],
    timezone: str = "UTC",
    quiet_hours: tuple[int, int] = (21, 8),
    send_window: tuple[int, int] = (8, 20),
) -> dict[str, Any]:
    """The JSON of the tenant's default recovery plan for its ladder (raises ValueError for a bad ladder)."""
    hours = Ladder.parse(ladder_hours).hours
    nodes: list[dict[str, Any]] = []
    for rung in range(1, len(hours) + 1):
        gap = hours[rung] - hours[rung - 1] if rung < len(hours) else hours[-1]
        after = rung_node(rung + 1) if rung < len(hours) else DONE_NODE
        nodes += [_rung(rung), _wait(rung, gap, after)]
    nodes += [{"id": DONE_NODE, "kind": "stop", "result": "completed"}]
    nodes += [{"id": STOP_NODE, "kind": "stop", "result": "stopped"}]
    return {
        "version": PLAN_VERSION,
        "timezone": timezone,
        "quiet_hours": {"start": quiet_hours[0], "end": quiet_hours[1]},
        "send_window": {"start": send_window[0], "end": send_window[1]},
        "start": rung_node(1),
        "nodes": nodes,
    }


def _rung(rung: int) -> dict[str, Any]:
    return {
        "id": rung_node(rung),
        "kind": "send",
        "rung": rung,
        "channels": ["sms", "email"] if rung == SMS_RUNG else ["email", "sms"],
        "brief": TONES[min(rung, len(TONES)) - 1],
        "next": wait_node(rung),
    }


def _wait(rung: int, gap_hours: int, then: str) -> dict[str, Any]:
    return {
        "id": wait_node(rung),
        "kind": "wait",
        "duration": f"PT{gap_hours}H",
        "next": then,
        "transitions": [{"on": event, "to": STOP_NODE} for event in ENDING_EVENTS],
    }


def default_recovery_plan(
    ladder_hours: Sequence[int],
    timezone: str = "UTC",
    quiet_hours: tuple[int, int] = (21, 8),
    send_window: tuple[int, int] = (8, 20),
) -> Plan:
    """The tenant's default recovery plan; raises ValueError when its ladder, zone or hours are bad."""
    parsed = parse_plan(default_recovery_plan_json(ladder_hours, timezone, quiet_hours, send_window))
    if isinstance(parsed, Plan):
        return parsed
    raise ValueError("; ".join(str(problem) for problem in parsed))


def load_plan(data: Any) -> Plan | list[Problem]:
    """A stored plan of either version, parsed (version 1 upgraded first; paths name the upgraded JSON)."""
    if isinstance(data, Mapping) and data.get("version") == 1:
        return parse_plan(upgrade_v1(data))
    return parse_plan(data)


def upgrade_v1(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The version 2 JSON of a version 1 plan.

    A silence-ladder plan (`climb: silence_scan`) becomes the default plan of its ladder, zone
    and hours. Any other version 1 plan keeps its nodes, with `channel` + `fallback_channel`
    as `channels` and `purpose` as `brief`, and starts at its first node when its `start` names
    none (the demo's plans wrote a date there). What still does not fit is left for
    `parse_plan` to report.
    """
    if plan.get("version") != 1:
        raise ValueError(f"upgrade_v1 takes a version 1 plan, got version {plan.get('version')!r}")
    ladder = _ladder_of(plan)
    if ladder is not None:
        quiet, window = _pair(plan.get("quiet_hours"), (21, 8)), _pair(plan.get("send_window"), (8, 20))
        return default_recovery_plan_json(ladder, str(plan.get("timezone") or "UTC"), quiet, window)
    nodes = [_node_v2(node) for node in plan.get("nodes") or []]
    ids = [node.get("id") for node in nodes if isinstance(node, dict)]
    upgraded = {key: value for key, value in plan.items() if key not in ("climb", "ladder_hours")}
    upgraded.update(version=PLAN_VERSION, nodes=nodes)
    if plan.get("start") not in ids and ids:
        upgraded["start"] = ids[0]
    return upgraded


def _ladder_of(plan: Mapping[str, Any]) -> tuple[int, ...] | None:
    if plan.get("climb") != "silence_scan":
        return None
    try:
        return Ladder.parse(plan.get("ladder_hours") or ()).hours
    except (TypeError, ValueError):
        return None


def _pair(raw: Any, default: tuple[int, int]) -> tuple[int, int]:
    if isinstance(raw, Mapping) and isinstance(raw.get("start"), int) and isinstance(raw.get("end"), int):
        return (raw["start"], raw["end"])
    return default


def _node_v2(node: Any) -> Any:
    if not isinstance(node, Mapping) or node.get("kind") != "send":
        return node
    upgraded = {key: value for key, value in node.items() if key not in _V1_SEND_KEYS}
    if "channels" not in node:
        wanted = [node.get("channel"), node.get("fallback_channel")]
        upgraded["channels"] = list(dict.fromkeys(channel for channel in wanted if channel))
    if "brief" not in node and node.get("purpose"):
        upgraded["brief"] = node["purpose"]
    return upgraded


_V1_SEND_KEYS = ("channel", "fallback_channel", "purpose", "after_silence")
