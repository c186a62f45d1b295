"""An enrollment's interpreter state as JSON, for `enrollments.state`, and back.

The timer agent and the event applier load the state, step it and store it again, so the
round trip must be exact: times as ISO-8601 with their offset, sets as sorted lists. A state
without lead facts (the services store none: every step they take is given the lead's facts
as they are then) is written without the `facts` key and read back with none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.plan.conditions import LeadFacts
from app.domain.plan.state import NO_FACTS, EnrollmentState, Timer


def state_to_json(state: EnrollmentState) -> dict[str, Any]:
    timer = state.timer
    return {
        "status": state.status,
        "node": state.node,
        "episode": state.episode,
        "entered_at": _time(state.entered_at),
        "clock_from": _time(state.clock_from),
        "seen": sorted(state.seen),
        "sent": sorted([node, episode] for node, episode in state.sent),
        "last_send_at": _time(state.last_send_at),
        "timer": None if timer is None else {"kind": timer.kind, "node": timer.node, "due_at": _time(timer.due_at)},
        "variant": state.variant,
        "draw": state.draw,
        **({} if state.facts == NO_FACTS else {"facts": facts_to_json(state.facts)}),
    }


def state_from_json(data: dict[str, Any]) -> EnrollmentState:
    """The state `state_to_json` wrote; raises KeyError or ValueError for anything else."""
    timer = data["timer"]
    return EnrollmentState(
        status=str(data["status"]),
        node=data["node"],
        episode=int(data["episode"]),
        entered_at=_parse_time(data["entered_at"]),
        clock_from=_parse_time(data["clock_from"]),
        seen=frozenset(data["seen"]),
        sent=frozenset((str(node), int(episode)) for node, episode in data["sent"]),
        last_send_at=_parse_time(data["last_send_at"]),
        timer=None if timer is None else Timer(timer["kind"], timer["node"], _required_time(timer["due_at"])),
        variant=data["variant"],
        draw=float(data["draw"]),
        facts=facts_from_json(data["facts"]) if "facts" in data else NO_FACTS,
    )


def facts_to_json(facts: LeadFacts) -> dict[str, Any]:
    return {
        "timezone": facts.timezone,
        "email_ok": facts.email_ok,
        "sms_ok": facts.sms_ok,
        "deal_value": facts.deal_value,
        "intent_score": facts.intent_score,
        "silent_hours": facts.silent_hours,
        "stage": facts.stage,
        "source": facts.source,
        "tags": sorted(facts.tags),
    }


def facts_from_json(data: dict[str, Any]) -> LeadFacts:
    return LeadFacts(
        timezone=data["timezone"],
        email_ok=bool(data["email_ok"]),
        sms_ok=bool(data["sms_ok"]),
        deal_value=float(data["deal_value"]),
        intent_score=int(data["intent_score"]),
        silent_hours=float(data["silent_hours"]),
        stage=str(data["stage"]),
        source=str(data["source"]),
        tags=frozenset(data["tags"]),
    )


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse_time(text: str | None) -> datetime | None:
    return None if text is None else _required_time(text)


def _required_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"a stored time needs its offset, got '{text}'")
    return moment
