"""`parse_plan`: untrusted plan JSON (version 2) to a `Plan`, or every problem with its JSON path.

An invalid plan is still worth keeping (a campaign's draft is saved after every wizard step);
it just cannot launch. So nothing here raises on bad input: the caller gets the typed plan or
the full list of problems, each like `$.nodes[3].transitions[0].to: unknown node 'rung-9'`.
Version 1 plans (the silence-ladder JSON of `app/domain/recovery_plan.py`) are refused with a
pointer to `upgrade_v1`; `load_plan` upgrades and parses in one call.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.plan.graph import graph_problems
from app.domain.plan.model import CHANNELS, NODE_KINDS, PLAN_VERSION, HourRange, Node, Plan, Problem
from app.domain.plan.nodes import NodeReading, read_node
from app.domain.plan.reader import Reader
from app.domain.sending_window import QuietHours, Window, allowed_hours

_KEYS = ("version", "timezone", "quiet_hours", "send_window", "start", "nodes")


def parse_plan(data: Any) -> Plan | list[Problem]:
    """The plan, or every problem found in it (never an exception for bad input)."""
    reader = Reader()
    raw = reader.object(data, "$", "a plan")
    if raw is None:
        return reader.problems
    reader.keys(raw, _KEYS, "$")
    _check_version(reader, raw.get("version"))
    timezone = _timezone(reader, raw.get("timezone"))
    quiet = _quiet_hours(reader, raw)
    window = _send_window(reader, raw)
    reading = NodeReading(reader, _channel_open(reader, window, quiet))
    nodes, node_paths, kinds = _nodes(reading, raw)
    if raw.get("start") is None:  # absent or null: a null once gave no plan and no problem (the fuzz)
        reader.add("$.start", "missing: the id of the node every enrollment begins at")
    start = reader.text(raw, "start", "$")
    reader.problems += graph_problems(start, node_paths, reading.edges)
    for path, target in reading.unsubscribe_targets:
        if kinds.get(target, "stop") != "stop":
            reader.add(path, f"an unsubscribe may only lead to a stop node, not the {kinds[target]} '{target}'")
    if reader.problems or timezone is None or quiet is None or window is None or start is None:
        return reader.problems
    return Plan(PLAN_VERSION, timezone, quiet, window, start, tuple(nodes))


def validate_plan(data: Any) -> list[Problem]:
    """Every problem of the plan; empty when it may launch."""
    parsed = parse_plan(data)
    return [] if isinstance(parsed, Plan) else parsed


def _check_version(reader: Reader, version: Any) -> None:
    if version == 1:
        reader.add("$.version", "a version 1 plan (the silence ladder) must be upgraded first: upgrade_v1")
    elif version != PLAN_VERSION:
        reader.add("$.version", f"must be {PLAN_VERSION}, got {version!r}")


def _timezone(reader: Reader, name: Any) -> str | None:
    if not isinstance(name, str) or not name:
        reader.add("$.timezone", f"must be an IANA time zone such as 'America/Chicago', got {name!r}")
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        reader.add("$.timezone", f"unknown time zone '{name}' (an IANA name such as 'Europe/Paris')")
        return None
    return name


def _hour_pair(reader: Reader, raw: dict[str, Any], key: str) -> HourRange | None:
    pair = reader.object(raw.get(key), f"$.{key}", f"{key} ({{start, end}} in local hours)")
    if pair is None:
        return None
    reader.keys(pair, ("start", "end"), f"$.{key}")
    start, end = reader.integer(pair, "start", f"$.{key}"), reader.integer(pair, "end", f"$.{key}")
    return None if start is None or end is None else HourRange(start, end)


def _quiet_hours(reader: Reader, raw: dict[str, Any]) -> HourRange | None:
    hours = _hour_pair(reader, raw, "quiet_hours")
    if hours is None:
        return None
    try:
        QuietHours(hours.start, hours.end)
    except ValueError as error:
        reader.add("$.quiet_hours", str(error))
        return None
    return hours


def _send_window(reader: Reader, raw: dict[str, Any]) -> HourRange | None:
    hours = _hour_pair(reader, raw, "send_window")
    if hours is None:
        return None
    try:
        Window(hours.start, hours.end)
    except ValueError as error:
        reader.add("$.send_window", str(error))
        return None
    return hours


def _channel_open(reader: Reader, window: HourRange | None, quiet: HourRange | None) -> dict[str, bool] | None:
    """Whether each channel keeps an hour to send; None (no per-node check) when nothing can be sent."""
    if window is None or quiet is None:
        return None
    tenant_window, quiet_hours = Window(window.start, window.end), QuietHours(quiet.start, quiet.end)
    open_by_channel = {channel: bool(allowed_hours(channel, tenant_window, quiet_hours)) for channel in CHANNELS}
    if not any(open_by_channel.values()):
        reader.add("$.quiet_hours", "the quiet hours cover the whole send window: nothing could ever be sent")
        return None
    return open_by_channel


def _nodes(reading: NodeReading, raw: dict[str, Any]) -> tuple[list[Node], dict[str, str], dict[str, str]]:
    """The valid nodes, and the path and kind of every node that has an id (even an invalid one)."""
    reader = reading.reader
    nodes: list[Node] = []
    paths: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for position, item in enumerate(reader.array(raw, "nodes", "$", required=True)):
        path = f"$.nodes[{position}]"
        node_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(node_id, str) and node_id in paths:
            reader.add(f"{path}.id", f"duplicate node id '{node_id}' (first at {paths[node_id]})")
        elif isinstance(node_id, str) and node_id.strip():
            paths[node_id] = path
            kinds[node_id] = item.get("kind") if item.get("kind") in NODE_KINDS else "node"
        node = read_node(reading, item, path)
        if node is not None:
            nodes.append(node)
    return nodes, paths, kinds
