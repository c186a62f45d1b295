"""A campaign plan as a flow diagram (Graphviz DOT), read from its JSON, valid or not.

Sends are boxes (their channels in the order tried, their variants and weights), waits are
ellipses, branches diamonds, stops double circles; every arrow says what takes it: `next`,
a timer and its delay ("no reply · 2 d"), or an event. A draft's plan is drawn as it is, so an
arrow to a node that does not exist shows as a red dashed node, which is where its problem is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from app.domain.plan import DurationError, parse_duration

_SHAPES = {"send": "box", "wait": "ellipse", "branch": "diamond", "stop": "doublecircle"}
_CHANNELS = {"email": "email", "sms": "SMS"}
_WORDS = {"no_reply": "no reply", "no_open": "no open", "no_click": "no click"}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def readable(duration: Any) -> str:
    """`P2D` as "2 d", `PT36H` as "1 d 12 h"; the text itself when it is no duration."""
    try:
        seconds = int(parse_duration(str(duration)).total_seconds())
    except DurationError:
        return str(duration)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{rest // 60} min" if rest >= 60 else ""]
    return " ".join(p for p in parts if p) or f"{seconds} s"


def _label(node: Mapping[str, Any]) -> str:
    kind = node.get("kind")
    title = str(node.get("label") or node.get("id"))
    if kind == "send":
        channels = " → ".join(_CHANNELS.get(str(c), str(c)) for c in node.get("channels") or []) or "no channel yet"
        lines = [title, channels]
        variants = [v for v in node.get("variants") or [] if isinstance(v, dict)]
        total = sum(float(v.get("weight") or 0) for v in variants)
        if variants and total > 0:
            lines.append(" / ".join(f"{v.get('name')} {float(v.get('weight') or 0) / total:.0%}" for v in variants))
        return "\n".join(lines)
    if kind == "wait":
        return f"wait {readable(node.get('duration'))}"
    return title


def _edges(node: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(target, label) of every way out of the node."""
    found = []
    if node.get("next"):
        found.append((str(node["next"]), ""))
    for case in node.get("cases") or []:
        if isinstance(case, dict) and case.get("to"):
            found.append((str(case["to"]), "if"))
    if node.get("else"):
        found.append((str(node["else"]), "else"))
    for transition in node.get("transitions") or []:
        if isinstance(transition, dict) and transition.get("to"):
            on = str(transition.get("on"))
            delay = transition.get("after") or transition.get("within")
            word = _WORDS.get(on, on)
            found.append((str(transition["to"]), f"{word} · {readable(delay)}" if delay else word))
    return found


def plan_dot(plan: Mapping[str, Any]) -> str:
    """The DOT text of the plan's nodes and arrows, top to bottom, start first."""
    nodes = [n for n in plan.get("nodes") or [] if isinstance(n, dict) and isinstance(n.get("id"), str)]
    known = {n["id"] for n in nodes}
    lines = ["digraph plan {", "  rankdir=TB;", '  node [fontname="sans-serif", fontsize=11];']
    lines.append('  edge [fontname="sans-serif", fontsize=10];')
    lines.append('  start [shape=point, width=0.15, label=""];')
    if isinstance(plan.get("start"), str):
        lines.append(f"  start -> {_quote(plan['start'])};")
    missing: set[str] = set()
    for node in nodes:
        shape = _SHAPES.get(str(node.get("kind")), "box")
        lines.append(f"  {_quote(node['id'])} [shape={shape}, label={_quote(_label(node))}];")
        for target, label in _edges(node):
            if target not in known:
                missing.add(target)
            lines.append(f"  {_quote(node['id'])} -> {_quote(target)} [label={_quote(label)}];")
    for target in sorted(missing):
        lines.append(f"  {_quote(target)} [shape=box, style=dashed, color=red, label={_quote(target + ' (missing)')}];")
    lines.append("}")
    return "\n".join(lines)


def flow_diagram(plan: Mapping[str, Any]) -> None:
    st.graphviz_chart(plan_dot(plan))
