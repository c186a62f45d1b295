"""Leads a plan cannot tell apart step alike: the class key, by hand and against plain per-lead steps.

The services step a batch once per class (`LeadClasses.key` with the state and the events) and
give every lead of the class that step's result with its own draw and facts (`as_lead`). That
is only right if a lead's plain `step` would have given exactly the same: checked here by hand
on two plans, then over random plans, random leads and random runs of timers and events.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import event as note
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.plan import (
    Enrolled,
    EnrollmentState,
    LeadClasses,
    LeadEvent,
    LeadFacts,
    Moved,
    Plan,
    Schedule,
    Send,
    SendNode,
    TimerFired,
    as_lead,
    default_recovery_plan,
    parse_plan,
    step,
)
from tests.unit.plan_strategies import EVENTS, STAGES, TAGS, plans

T = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 07:00 in New York (EST), 13:00 in London
H = timedelta(hours=1)

AB = {
    "version": 2,
    "timezone": "America/Chicago",
    "quiet_hours": {"start": 21, "end": 8},
    "send_window": {"start": 8, "end": 20},
    "start": "vip?",
    "nodes": [
        {
            "id": "vip?",
            "kind": "branch",
            "cases": [
                {"if": {"field": "deal_value", "op": ">=", "value": 5000}, "to": "vip"},
                {"if": {"field": "tags", "op": "=", "value": "trial"}, "to": "offer"},
            ],
            "else": "offer",
        },
        {
            "id": "offer",
            "kind": "send",
            "channels": ["email", "sms"],
            "brief": "an offer",
            "variants": [{"name": "A", "weight": 1}, {"name": "B", "weight": 3}],
            "next": "done",
        },
        {"id": "vip", "kind": "send", "channels": ["sms"], "template": "t-vip", "next": "done"},
        {"id": "done", "kind": "stop"},
    ],
}


def ab_plan() -> Plan:
    plan = parse_plan(AB)
    assert isinstance(plan, Plan), plan
    return plan


def test_the_key_is_the_zone_the_channels_each_condition_and_each_variant_pick() -> None:
    classes = LeadClasses.of(ab_plan())
    lead = LeadFacts(timezone="Europe/London", email_ok=True, deal_value=6000.0, tags=frozenset({"trial"}))
    # London is a real zone; 6000 >= 5000 holds, and so does the trial tag; the draw 0.3 lies in
    # B's share (A takes [0, 0.25) of the weights 1 + 3)
    assert classes.key(lead, 0.3) == ("Europe/London", True, False, (True, True), (1,))
    # no zone, or a misspelt one: the plan's zone; a draw under 0.25 picks A
    nowhere = replace(lead, timezone="Mars/Base", deal_value=10.0, tags=frozenset())
    assert classes.key(nowhere, 0.1) == ("America/Chicago", True, False, (False, False), (0,))
    assert classes.key(replace(nowhere, timezone=None), 0.2) == classes.key(nowhere, 0.1)


def test_what_no_step_reads_does_not_split_a_class() -> None:
    classes = LeadClasses.of(default_recovery_plan([24, 48, 72]))  # no branch, no variants
    one = LeadFacts(timezone="America/New_York", email_ok=True, deal_value=10.0, stage="new", intent_score=3)
    other = replace(one, deal_value=90_000.0, stage="proposal", intent_score=99, silent_hours=700.0)
    assert classes.key(one, 0.01) == classes.key(other, 0.99) == ("America/New_York", True, False, (), ())
    assert classes.key(replace(one, sms_ok=True), 0.01) != classes.key(one, 0.01)


def test_two_leads_of_one_class_get_the_same_message_at_the_same_moment() -> None:
    plan = default_recovery_plan([24, 48, 72])
    one = LeadFacts(timezone="America/New_York", email_ok=True, deal_value=10.0)
    other = replace(one, deal_value=90_000.0, stage="proposal")
    first = step(plan, EnrollmentState(), Enrolled(one, draw=0.1), T)
    second = step(plan, EnrollmentState(), Enrolled(other, draw=0.9), T)
    rung = plan.node("rung-1")
    assert isinstance(rung, SendNode)
    # 07:00 in New York is before the 08-20 window: rung 1 by email at 08:00 EST (13:00 UTC),
    # and the 24 h wait counts from there
    assert (
        first[1]
        == second[1]
        == (
            Moved(None, "rung-1", "enrolled"),
            Send("rung-1", "email", None, T + H, 1, brief=rung.brief),
            Moved("rung-1", "wait-1", "next"),
            Schedule("wait", "wait-1", T + 25 * H),
        )
    )
    assert second[0] == as_lead(first[0], draw=0.9, facts=other)


def test_leads_of_different_classes_step_differently() -> None:
    plan = ab_plan()
    vip = LeadFacts(timezone="UTC", sms_ok=True, deal_value=6000.0)
    _, as_vip = step(plan, EnrollmentState(), Enrolled(vip, draw=0.1), T)
    _, as_small = step(plan, EnrollmentState(), Enrolled(replace(vip, deal_value=10.0), draw=0.1), T)
    assert [a.node for a in as_vip if isinstance(a, Send)] == ["vip"]
    assert [(a.node, a.channel, a.variant) for a in as_small if isinstance(a, Send)] == [("offer", "sms", "A")]


# --- against plain per-lead steps, over random plans, leads and runs ---------------------------

ZONES = ("UTC", "America/New_York", "Asia/Kolkata", None, "Mars/Base")
facts = st.builds(
    LeadFacts,
    timezone=st.sampled_from(ZONES),
    email_ok=st.booleans(),
    sms_ok=st.booleans(),
    deal_value=st.sampled_from([0.0, 99.5, 5000.0, 10_000.0]),
    intent_score=st.sampled_from([0, 50, 100]),
    silent_hours=st.sampled_from([0.0, 48.0, 500.0]),
    stage=st.sampled_from(STAGES),
    tags=st.frozensets(st.sampled_from(TAGS), max_size=2),
)
draws = st.floats(0, 1, exclude_max=True)
moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC))


@settings(max_examples=200, deadline=None)
@given(plans(), st.lists(st.tuples(facts, draws, facts, draws), min_size=1, max_size=6), moments, st.data())
def test_leads_with_one_key_step_exactly_as_their_class_does(
    raw: dict[str, Any], pairs: list[tuple[LeadFacts, float, LeadFacts, float]], start: datetime, data: st.DataObject
) -> None:
    plan = parse_plan(raw)
    assert isinstance(plan, Plan)
    classes = LeadClasses.of(plan)
    groups: dict[Any, list[tuple[LeadFacts, float]]] = defaultdict(list)
    for one, one_draw, other, other_draw in pairs:  # the second of a pair often lands in the first's class
        for lead, draw in ((one, one_draw), (_twin(one, other), other_draw)):
            groups[classes.key(lead, draw)].append((lead, draw))
    shared = [members for members in groups.values() if len(members) > 1]
    note(f"classes with more than one lead: {min(len(shared), 3)}")
    for members in shared:
        _run_together(plan, members, start, data)


def _twin(lead: LeadFacts, other: LeadFacts) -> LeadFacts:
    """`other`'s branch fields on `lead`'s zone and channels."""
    return replace(other, timezone=lead.timezone, email_ok=lead.email_ok, sms_ok=lead.sms_ok)


def _run_together(plan: Plan, members: list[tuple[LeadFacts, float]], start: datetime, data: st.DataObject) -> None:
    """Play one random run on the class's first lead; every other lead, stepped alone, must match it."""
    now = start
    states = [EnrollmentState() for _ in members]

    def play(make: Any) -> None:
        (lead, draw), *rest = members
        states[0], actions = step(plan, states[0], make(lead, draw), now)
        for position, (other, other_draw) in enumerate(rest, start=1):
            states[position], theirs = step(plan, states[position], make(other, other_draw), now)
            assert (states[position], theirs) == (as_lead(states[0], draw=other_draw, facts=other), actions)

    play(lambda lead, draw: Enrolled(lead, episode=1, draw=draw))
    for _ in range(data.draw(st.integers(0, 12), label="steps")):
        now += data.draw(st.integers(0, 72 * 60).map(lambda m: timedelta(minutes=m)), label="elapsed")
        timer = states[0].timer
        move = data.draw(st.sampled_from(["fire", "event", "episode"]), label="move")
        if move == "fire" and timer is not None:
            now = max(now, timer.due_at)
            play(lambda lead, draw, t=timer: TimerFired(t.kind, t.node, facts=lead))
        elif move == "event":
            kind = data.draw(st.sampled_from(EVENTS), label="kind")
            at = now - data.draw(st.integers(0, 120).map(lambda m: timedelta(minutes=m)), label="age")
            episode = states[0].episode
            play(lambda lead, draw, k=kind, a=at, e=episode: LeadEvent(k, a, episode=e, facts=lead))
        elif move == "episode":
            episode = states[0].episode + 1
            play(lambda lead, draw, e=episode: Enrolled(lead, episode=e, draw=draw))
