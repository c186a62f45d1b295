"""Hypothesis strategies for valid campaign plans (version 2 JSON) and the leads they run on.

A plan is a random graph of send, wait and branch nodes ending in stop nodes. Edges go
forward (to a later node), which alone makes it acyclic; loops come only from edges that
wait: a wait's `next` or a timer transition may point back to any node up to itself. Every
loop therefore has a wait or a timer on it. Nodes the start cannot reach are dropped (edges
of reachable nodes only point at reachable ones, so the rest stays valid). The hours are
drawn first and a node only lists channels that keep an allowed hour, checked with
`allowed_hour` below, the test's own arithmetic.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from hypothesis import strategies as st

ZONES = (
    "UTC",
    "America/New_York",
    "America/Chicago",
    "Europe/London",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Pacific/Chatham",  # +12:45 / +13:45
)
EVENTS = ("delivered", "opened", "clicked", "replied", "bounced", "unsubscribed", "converted")
TIMERS = ("no_open", "no_click", "no_reply")
STAGES = ("new", "contacted", "qualified", "won")
TAGS = ("vip", "b2b", "press")


def allowed_hour(hour: int, channel: str, window: tuple[int, int], quiet: tuple[int, int]) -> bool:
    """Whether a local `hour` may carry a `channel` message, worked out here from the rules themselves:
    inside the send window [start, end), outside the quiet hours [start, end) (wrapping midnight
    when start > end, none when equal), and SMS only from 08:00 to 21:00."""
    in_window = window[0] <= hour < window[1]
    quiet_start, quiet_end = quiet
    if quiet_start < quiet_end:
        is_quiet = quiet_start <= hour < quiet_end
    elif quiet_start > quiet_end:
        is_quiet = hour >= quiet_start or hour < quiet_end
    else:
        is_quiet = False
    legal = 8 <= hour < 21 if channel == "sms" else True
    return in_window and not is_quiet and legal


def open_channels(window: tuple[int, int], quiet: tuple[int, int]) -> list[str]:
    return [channel for channel in ("email", "sms") if any(allowed_hour(h, channel, window, quiet) for h in range(24))]


@st.composite
def hours(draw: st.DrawFn) -> tuple[tuple[int, int], tuple[int, int]]:
    start = draw(st.integers(0, 23))
    window = (start, draw(st.integers(start + 1, 24)))
    quiet = (draw(st.integers(0, 23)), draw(st.integers(0, 23)))
    return window, quiet


def _duration(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["PT{}H", "PT{}M", "P{}D"])).format(draw(st.integers(1, 96)))


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    field = draw(st.sampled_from(["deal_value", "intent_score", "silent_hours", "stage", "tags", "email_ok", "sms_ok"]))
    if field in ("email_ok", "sms_ok"):
        return {"field": field, "op": draw(st.sampled_from(["=", "!="])), "value": draw(st.booleans())}
    if field in ("stage", "tags"):
        pool = STAGES if field == "stage" else TAGS
        op = draw(st.sampled_from(["=", "!=", "in"]))
        value: Any = (
            draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3)) if op == "in" else draw(st.sampled_from(pool))
        )
        return {"field": field, "op": op, "value": value}
    op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "in"]))
    number = st.integers(0, 10_000)
    return {
        "field": field,
        "op": op,
        "value": draw(st.lists(number, min_size=1, max_size=3)) if op == "in" else draw(number),
    }


def _events(draw: st.DrawFn, forward: list[str], stops: list[str]) -> list[dict[str, Any]]:
    transitions = []
    for event in draw(st.lists(st.sampled_from((*EVENTS, "replied", "replied")), max_size=3)):
        target = draw(st.sampled_from(stops if event == "unsubscribed" else forward))
        transition = {"on": event, "to": target}
        if draw(st.booleans()):
            transition["within"] = _duration(draw)
        transitions.append(transition)
    return transitions


def _node(
    draw: st.DrawFn, node_id: str, kind: str, forward: list[str], back: list[str], stops: list[str], channels: list[str]
) -> dict[str, Any]:
    if kind == "branch":
        cases = [
            {"if": draw(conditions()), "to": draw(st.sampled_from(forward))} for _ in range(draw(st.integers(0, 2)))
        ]
        return {"id": node_id, "kind": "branch", "cases": cases, "else": draw(st.sampled_from(forward))}
    if kind == "wait":
        return {
            "id": node_id,
            "kind": "wait",
            "duration": _duration(draw),
            "next": draw(st.sampled_from(forward + back)),
            "transitions": _events(draw, forward, stops),
        }
    node: dict[str, Any] = {
        "id": node_id,
        "kind": "send",
        "channels": draw(
            st.permutations(channels).flatmap(
                lambda order: st.sampled_from([order[:k] for k in range(1, len(order) + 1)])
            )
        ),
        "template": f"t-{node_id}",
    }
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from("ABC"), min_size=1, max_size=3, unique=True))
        node["variants"] = [{"name": name, "weight": draw(st.integers(1, 5))} for name in names]
    if kind == "send_next":
        node["next"] = draw(st.sampled_from(forward))
        return node
    timers = draw(st.lists(st.sampled_from(TIMERS), min_size=1, max_size=3, unique=True))
    node["transitions"] = [
        {"on": timer, "to": draw(st.sampled_from(forward + back)), "after": _duration(draw)} for timer in timers
    ] + _events(draw, forward, stops)
    draw(st.randoms()).shuffle(node["transitions"])
    return node


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    """A valid plan's JSON."""
    window, quiet = draw(hours().filter(lambda pair: open_channels(*pair)))
    channels = open_channels(window, quiet)
    inner = [f"n{i}" for i in range(draw(st.integers(1, 10)))]
    stops = [f"s{i}" for i in range(draw(st.integers(1, 2)))]
    ids = inner + stops
    nodes = []
    for position, node_id in enumerate(inner):
        kind = draw(st.sampled_from(["send_next", "send_timers", "wait", "branch"]))
        nodes.append(_node(draw, node_id, kind, ids[position + 1 :], ids[: position + 1], stops, channels))
    nodes += [{"id": stop, "kind": "stop", "result": draw(st.sampled_from(["completed", "stopped"]))} for stop in stops]
    return {
        "version": 2,
        "timezone": draw(st.sampled_from(ZONES)),
        "quiet_hours": {"start": quiet[0], "end": quiet[1]},
        "send_window": {"start": window[0], "end": window[1]},
        "start": "n0",
        "nodes": _reachable(nodes, "n0"),
    }


def _targets(node: dict[str, Any]) -> list[str]:
    found = [node[key] for key in ("next", "else") if key in node]
    found += [case["to"] for case in node.get("cases", [])]
    return found + [transition["to"] for transition in node.get("transitions", [])]


def _reachable(nodes: list[dict[str, Any]], start: str) -> list[dict[str, Any]]:
    by_id = {node["id"]: node for node in nodes}
    seen, queue = {start}, deque([start])
    while queue:
        for target in _targets(by_id[queue.popleft()]):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return [node for node in nodes if node["id"] in seen]
