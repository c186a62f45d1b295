"""Reading one node of a plan: its own fields, its transitions, and the edges it adds to the graph."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.domain.plan.conditions import condition_problems, parse_condition
from app.domain.plan.graph import Edge
from app.domain.plan.model import (
    CHANNELS,
    EVENTS,
    NODE_KINDS,
    RESULTS,
    TIMERS,
    BranchNode,
    Case,
    Node,
    SendNode,
    StopNode,
    Transition,
    Variant,
    WaitNode,
)
from app.domain.plan.reader import Reader

_COMMON = ("id", "kind", "label")
_KEYS = {
    "send": (*_COMMON, "channels", "template", "brief", "variants", "next", "transitions", "rung"),
    "wait": (*_COMMON, "duration", "next", "transitions"),
    "branch": (*_COMMON, "cases", "else"),
    "stop": (*_COMMON, "result"),
}


@dataclass
class NodeReading:
    """What reading the nodes gathers beyond the nodes: the edges, and where unsubscribes lead."""

    reader: Reader
    channel_open: Mapping[str, bool] | None
    """Per channel, whether the plan's hours leave it any hour to send; None when the hours are bad."""
    edges: list[Edge] = field(default_factory=list)
    unsubscribe_targets: list[tuple[str, str]] = field(default_factory=list)

    def edge(self, source: str, target: str | None, path: str, *, waits: bool) -> None:
        if target is not None:
            self.edges.append(Edge(source, target, path, waits))


def read_node(reading: NodeReading, raw: Any, path: str) -> Node | None:
    """The node at `path`, or None when it has a problem (each one recorded)."""
    reader = reading.reader
    node = reader.object(raw, path, "a node")
    if node is None:
        return None
    before = len(reader.problems)
    node_id = reader.text(node, "id", path, required=True) or f"<node {path}>"
    kind = node.get("kind")
    if kind not in NODE_KINDS:
        reader.add(f"{path}.kind", f"unknown node kind {kind!r} ({', '.join(NODE_KINDS)})")
        return None
    reader.keys(node, _KEYS[kind], path)
    label = reader.text(node, "label", path)
    built = _READERS[kind](reading, node, node_id, path, label)
    return built if len(reader.problems) == before else None


def _send(reading: NodeReading, raw: dict[str, Any], node_id: str, path: str, label: str | None) -> Node | None:
    reader = reading.reader
    channels = _channels(reading, raw, path)
    template, brief = reader.text(raw, "template", path), reader.text(raw, "brief", path)
    variants = _variants(reader, raw, path, has_content=bool(template or brief))
    if not variants and not (template or brief) and "variants" not in raw:
        reader.add(path, "a send needs a template or a brief (on the node or on each variant)")
    next_id = reader.text(raw, "next", path)
    reading.edge(node_id, next_id, f"{path}.next", waits=False)
    transitions = _transitions(reading, raw, node_id, path, timers_allowed=True)
    if "next" in raw and raw.get("transitions"):
        reader.add(f"{path}.transitions", "a send with 'next' moves on at once: its transitions would never apply")
    if "next" not in raw and not _declares_timer(raw):
        reader.add(path, "a send needs 'next' or a timer transition (no_open, no_click, no_reply with 'after')")
    rung = reader.integer(raw, "rung", path) if "rung" in raw else None
    if rung is not None and rung < 1:
        reader.add(f"{path}.rung", f"a rung counts from 1, got {rung}")
    return SendNode(node_id, channels, template, brief, variants, next_id, transitions, rung, label)


def _declares_timer(raw: dict[str, Any]) -> bool:
    items = raw.get("transitions")
    return isinstance(items, list) and any(isinstance(t, dict) and t.get("on") in TIMERS for t in items)


def _channels(reading: NodeReading, raw: dict[str, Any], path: str) -> tuple[str, ...]:
    reader = reading.reader
    items = reader.array(raw, "channels", path, required=True)
    if "channels" in raw and not items and isinstance(raw["channels"], list):
        reader.add(f"{path}.channels", "a send needs at least one channel (email, sms)")
    for position, channel in enumerate(items):
        where = f"{path}.channels[{position}]"
        if channel not in CHANNELS:
            reader.add(where, f"unknown channel {channel!r} ({', '.join(CHANNELS)})")
        elif channel in items[:position]:
            reader.add(where, f"channel '{channel}' listed twice")
        elif reading.channel_open is not None and not reading.channel_open[channel]:
            reader.add(where, f"{channel} has no hour to send in this plan's send window and quiet hours")
    return tuple(str(channel) for channel in items)


def _variants(reader: Reader, raw: dict[str, Any], path: str, *, has_content: bool) -> tuple[Variant, ...]:
    items = reader.array(raw, "variants", path)
    if "variants" in raw and not items and isinstance(raw["variants"], list):
        reader.add(f"{path}.variants", "no variants: leave the key out for a single message")
    variants: list[Variant] = []
    for position, item in enumerate(items):
        where = f"{path}.variants[{position}]"
        variant = reader.object(item, where, "a variant")
        if variant is None:
            continue
        reader.keys(variant, ("name", "weight", "template", "brief"), where)
        name = reader.text(variant, "name", where, required=True) or ""
        if name and name in (v.name for v in variants):
            reader.add(f"{where}.name", f"variant '{name}' listed twice")
        weight = variant.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight < math.inf:
            reader.add(f"{where}.weight", f"a weight must be a positive number, got {weight!r}")
            weight = 0
        template, brief = reader.text(variant, "template", where), reader.text(variant, "brief", where)
        if not (has_content or template or brief):
            reader.add(where, "this variant has no template or brief, and neither has its node")
        variants.append(Variant(name, float(weight), template, brief))
    return tuple(variants)


def _wait(reading: NodeReading, raw: dict[str, Any], node_id: str, path: str, label: str | None) -> Node | None:
    reader = reading.reader
    duration = reader.duration(raw, "duration", path, required=True)
    next_id = reader.text(raw, "next", path, required=True)
    reading.edge(node_id, next_id, f"{path}.next", waits=True)
    transitions = _transitions(reading, raw, node_id, path, timers_allowed=False)
    if duration is None or next_id is None:
        return None
    return WaitNode(node_id, duration, next_id, transitions, label)


def _branch(reading: NodeReading, raw: dict[str, Any], node_id: str, path: str, label: str | None) -> Node | None:
    reader = reading.reader
    cases = []
    for position, item in enumerate(reader.array(raw, "cases", path)):
        where = f"{path}.cases[{position}]"
        case = reader.object(item, where, "a case")
        if case is None:
            continue
        reader.keys(case, ("if", "to"), where)
        found = condition_problems(case.get("if"))
        for suffix, message in found:
            reader.add(f"{where}.if{suffix}", message)
        target = reader.text(case, "to", where, required=True)
        reading.edge(node_id, target, f"{where}.to", waits=False)
        if not found and target is not None:
            cases.append(Case(parse_condition(case["if"]), target))
    otherwise = reader.text(raw, "else", path, required=True)
    reading.edge(node_id, otherwise, f"{path}.else", waits=False)
    return None if otherwise is None else BranchNode(node_id, tuple(cases), otherwise, label)


def _stop(reading: NodeReading, raw: dict[str, Any], node_id: str, path: str, label: str | None) -> Node | None:
    return StopNode(node_id, reading.reader.choice(raw, "result", path, RESULTS, "completed"), label)


_READERS = {"send": _send, "wait": _wait, "branch": _branch, "stop": _stop}


def _transitions(
    reading: NodeReading, raw: dict[str, Any], node_id: str, path: str, *, timers_allowed: bool
) -> tuple[Transition, ...]:
    reader = reading.reader
    transitions: list[Transition] = []
    for position, item in enumerate(reader.array(raw, "transitions", path)):
        where = f"{path}.transitions[{position}]"
        found = _transition(reading, item, node_id, where, timers_allowed=timers_allowed)
        if found is not None and found.is_timer and any(t.on == found.on for t in transitions):
            reader.add(f"{where}.on", f"a second '{found.on}' timer: one of them would never fire")
        elif found is not None:
            transitions.append(found)
    return tuple(transitions)


def _transition(
    reading: NodeReading, item: Any, node_id: str, where: str, *, timers_allowed: bool
) -> Transition | None:
    reader = reading.reader
    raw = reader.object(item, where, "a transition")
    if raw is None:
        return None
    reader.keys(raw, ("on", "to", "within", "after"), where)
    on, target = raw.get("on"), reader.text(raw, "to", where, required=True)
    is_timer = on in TIMERS
    if on not in EVENTS and not is_timer:
        reader.add(f"{where}.on", f"unknown trigger {on!r} ({', '.join((*EVENTS, *TIMERS))})")
        return None
    if is_timer and not timers_allowed:
        reader.add(f"{where}.on", f"'{on}' belongs on a send node; a wait's own timer is its duration")
    reading.edge(node_id, target, f"{where}.to", waits=is_timer)
    if on == "unsubscribed" and target is not None:
        reading.unsubscribe_targets.append((f"{where}.to", target))
    if is_timer and "within" in raw:
        reader.add(f"{where}.within", f"a timer fires 'after' a duration; 'within' is for events, not '{on}'")
    if not is_timer and "after" in raw:
        reader.add(f"{where}.after", f"'after' is for the timers (no_open, no_click, no_reply), not '{on}'")
    within = None if is_timer else reader.duration(raw, "within", where)
    after = reader.duration(raw, "after", where, required=True) if is_timer else None
    return None if target is None else Transition(str(on), target, within, after)
