"""What the campaign wizard collects, turned into plan JSON (version 2), and read back from it.

The wizard asks for a first message (optionally a variant B with weights) on an ordered list
of channels, then follow-ups, each sent when its trigger fires after a delay: no reply, no
open or no click since the previous message (a timer on that send node), or in any case (a
wait node). The plan it builds is a chain:

    step-1 (send) --no_reply after P2D--> step-2 (send) --next--> wait-2 --PT24H--> step-3 --next--> done

A reply, an unsubscribe or a conversion stops the enrollment wherever it is (the interpreter
does that for any node that does not route them); an open or a click that answers a
follow-up's timer ends it as completed. The last message moves on to `done` at once.

Message texts are not in the plan: they are templates of the tenant (`templates` table, one
row per name and channel), named `<prefix>/<node>/<variant>`; the plan's send nodes name them
(`template`) next to the brief a writer uses when a text is missing or does not fit a lead.

Nothing here checks the plan: an incomplete wizard still builds JSON, and `parse_plan` says
what is missing, by JSON path, before launch. `read_wizard` is the inverse of `build_plan` for
plans this module built, so a draft reopened in the wizard shows what was saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from app.domain.plan.durations import DurationError, format_duration, parse_duration
from app.domain.plan.model import PLAN_VERSION

FIRST = "step-1"
DONE = "done"
VARIANTS = ("A", "B")
TRIGGERS: dict[str, str] = {
    "no_reply": "no reply",
    "no_open": "no open",
    "no_click": "no click",
    "wait": "in any case",
}
"""A follow-up's trigger and how the console names it; `wait` sends whatever the lead did (a reply still stops)."""


def step_node(number: int) -> str:
    return f"step-{number}"


def wait_node(number: int) -> str:
    """The wait before step `number` (a follow-up triggered in any case)."""
    return f"wait-{number}"


def template_name(prefix: str, node: str, variant: str) -> str:
    return f"{prefix}/{node}/{variant}"


@dataclass(frozen=True)
class MessageText:
    """One message's own texts per channel, and the brief a writer gets when a text is missing or fails."""

    email_subject: str = ""
    email_body: str = ""
    sms_body: str = ""
    brief: str = ""

    @property
    def has_text(self) -> bool:
        return bool(self.email_subject.strip() or self.email_body.strip() or self.sms_body.strip())

    def for_channel(self, channel: str) -> tuple[str | None, str]:
        """(subject, body) as stored for `channel`: email keeps its subject, SMS has none."""
        if channel == "email":
            return (self.email_subject.strip() or None, self.email_body.strip())
        return (None, self.sms_body.strip())


@dataclass(frozen=True)
class FollowUp:
    """A later message: sent `after` the previous one when `trigger` holds, on `channels`, written to `brief`."""

    trigger: str
    after: timedelta
    channels: tuple[str, ...]
    brief: str = ""


@dataclass(frozen=True)
class WizardPlan:
    """Everything of a campaign the plan carries, as the wizard's steps edit it."""

    channels: tuple[str, ...] = ()
    message: MessageText = field(default_factory=MessageText)
    variant_b: MessageText | None = None
    weights: tuple[float, float] = (50.0, 50.0)
    timezone: str = "UTC"
    send_window: tuple[int, int] = (8, 20)
    quiet_hours: tuple[int, int] = (21, 8)
    follow_ups: tuple[FollowUp, ...] = ()

    def messages(self) -> dict[str, MessageText]:
        """The first message's variants by name: A alone, or A and B."""
        found = {"A": self.message}
        if self.variant_b is not None:
            found["B"] = self.variant_b
        return found


def build_plan(wizard: WizardPlan, *, template_prefix: str) -> dict[str, Any]:
    """The plan JSON of the wizard's answers (valid or not: `parse_plan` judges it)."""
    first: dict[str, Any] = {"id": FIRST, "kind": "send", "label": "First message", "channels": list(wizard.channels)}
    if wizard.variant_b is None:
        first.update(_content(wizard.message, template_name(template_prefix, FIRST, "A")))
    else:
        first["variants"] = [
            {"name": name, "weight": weight, **_content(text, template_name(template_prefix, FIRST, name))}
            for (name, text), weight in zip(wizard.messages().items(), wizard.weights, strict=True)
        ]
    nodes = [first]
    previous = first
    for number, follow_up in enumerate(wizard.follow_ups, start=2):
        target = step_node(number)
        after = format_duration(follow_up.after)
        if follow_up.trigger == "wait":
            previous["next"] = wait_node(number)
            nodes.append({"id": wait_node(number), "kind": "wait", "duration": after, "next": target})
        else:
            previous["transitions"] = [{"on": follow_up.trigger, "to": target, "after": after}]
        step = {
            "id": target,
            "kind": "send",
            "label": f"Follow-up {number - 1}: {TRIGGERS.get(follow_up.trigger, follow_up.trigger)} after {after}",
            "channels": list(follow_up.channels),
        }
        if follow_up.brief.strip():
            step["brief"] = follow_up.brief.strip()
        nodes.append(step)
        previous = step
    previous["next"] = DONE
    nodes.append({"id": DONE, "kind": "stop", "result": "completed", "label": "Done"})
    return {
        "version": PLAN_VERSION,
        "timezone": wizard.timezone,
        "quiet_hours": {"start": wizard.quiet_hours[0], "end": wizard.quiet_hours[1]},
        "send_window": {"start": wizard.send_window[0], "end": wizard.send_window[1]},
        "start": FIRST,
        "nodes": nodes,
    }


def _content(text: MessageText, name: str) -> dict[str, str]:
    content = {"template": name} if text.has_text else {}
    if text.brief.strip():
        content["brief"] = text.brief.strip()
    return content


def template_texts(wizard: WizardPlan, *, template_prefix: str) -> dict[str, MessageText]:
    """The texts to store as templates, by the name `build_plan` gives them (messages without text left out)."""
    return {
        template_name(template_prefix, FIRST, name): text for name, text in wizard.messages().items() if text.has_text
    }


def read_wizard(plan: Mapping[str, Any], texts: Mapping[str, MessageText]) -> WizardPlan:
    """The wizard's answers back from a plan `build_plan` made (`texts`: the stored templates by name).

    Anything of another shape reads as the wizard's defaults for what it cannot find, so a
    plan edited by hand opens without an error (and shows what the wizard understood of it).
    """
    nodes = {n["id"]: n for n in plan.get("nodes", []) if isinstance(n, dict) and isinstance(n.get("id"), str)}
    first = nodes.get(FIRST, {})
    variants = [v for v in first.get("variants", []) if isinstance(v, dict)]
    if variants:
        by_name = {v.get("name"): v for v in variants}
        message = _text(by_name.get("A", variants[0]), texts)
        variant_b = _text(by_name["B"], texts) if "B" in by_name else None
        weights = tuple(float(by_name.get(name, {}).get("weight", 50)) for name in VARIANTS)
    else:
        message, variant_b, weights = _text(first, texts), None, (50.0, 50.0)
    return WizardPlan(
        channels=_channels(first),
        message=message,
        variant_b=variant_b,
        weights=(weights[0], weights[1]),
        timezone=str(plan.get("timezone") or "UTC"),
        send_window=_pair(plan.get("send_window"), (8, 20)),
        quiet_hours=_pair(plan.get("quiet_hours"), (21, 8)),
        follow_ups=_follow_ups(nodes),
    )


def _text(spec: Mapping[str, Any], texts: Mapping[str, MessageText]) -> MessageText:
    stored = texts.get(str(spec.get("template")), MessageText())
    brief = spec.get("brief")
    brief_text = brief if isinstance(brief, str) else ""
    return MessageText(stored.email_subject, stored.email_body, stored.sms_body, brief_text)


def _channels(spec: Mapping[str, Any]) -> tuple[str, ...]:
    raw = spec.get("channels")
    return tuple(str(c) for c in raw) if isinstance(raw, list) else ()


def _pair(raw: Any, default: tuple[int, int]) -> tuple[int, int]:
    if isinstance(raw, Mapping) and isinstance(raw.get("start"), int) and isinstance(raw.get("end"), int):
        return (raw["start"], raw["end"])
    return default


def _follow_ups(nodes: Mapping[str, Mapping[str, Any]]) -> tuple[FollowUp, ...]:
    found: list[FollowUp] = []
    current = nodes.get(FIRST)
    while current is not None and len(found) < len(nodes):
        step = _next_step(current, nodes)
        if step is None:
            break
        trigger, after, target = step
        spec = nodes[target]
        brief = spec.get("brief")
        found.append(FollowUp(trigger, after, _channels(spec), brief if isinstance(brief, str) else ""))
        current = spec
    return tuple(found)


def _next_step(node: Mapping[str, Any], nodes: Mapping[str, Mapping[str, Any]]) -> tuple[str, timedelta, str] | None:
    """(trigger, delay, next send node) after this send node, or None at the end of the chain."""
    try:
        waiting = nodes.get(str(node.get("next")))
        if waiting is not None and waiting.get("kind") == "wait":
            target = str(waiting.get("next"))
            after = parse_duration(str(waiting.get("duration")))
            return ("wait", after, target) if nodes.get(target, {}).get("kind") == "send" else None
        timers = [t for t in node.get("transitions", []) if isinstance(t, dict) and t.get("on") in TRIGGERS]
        if timers and nodes.get(str(timers[0].get("to")), {}).get("kind") == "send":
            return (str(timers[0]["on"]), parse_duration(str(timers[0].get("after"))), str(timers[0]["to"]))
    except DurationError:
        return None
    return None
