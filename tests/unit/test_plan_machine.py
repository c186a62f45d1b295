"""The interpreter on hand-made plans: timers, routed and unrouted events, branches, variants, loops."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.domain.plan import (
    CancelTimers,
    Complete,
    Condition,
    Enrolled,
    EnrollmentState,
    LeadEvent,
    LeadFacts,
    Moved,
    Plan,
    Schedule,
    Send,
    Stop,
    TimerFired,
    parse_plan,
    step,
    variant_draw,
)
from app.domain.plan.conditions import holds

T = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)  # 11:00 in New York (EDT, UTC-4): inside 08-20
H = timedelta(hours=1)
LEAD = LeadFacts(timezone="America/New_York", email_ok=True)


def plan_of(nodes: list[dict[str, Any]], start: str = "a") -> Plan:
    plan = parse_plan(
        {
            "version": 2,
            "timezone": "America/New_York",
            "quiet_hours": {"start": 21, "end": 8},
            "send_window": {"start": 8, "end": 20},
            "start": start,
            "nodes": nodes,
        }
    )
    assert isinstance(plan, Plan), plan
    return plan


def email(node_id: str, **rest: Any) -> dict[str, Any]:
    return {"id": node_id, "kind": "send", "channels": ["email"], "template": f"t-{node_id}", **rest}


DONE = {"id": "done", "kind": "stop"}
TIMERS = plan_of(
    [
        email(
            "a",
            transitions=[
                {"on": "opened", "to": "b", "within": "PT12H"},
                {"on": "no_click", "to": "c", "after": "P1D"},
                {"on": "no_reply", "to": "done", "after": "P3D"},
            ],
        ),
        email("b", transitions=[{"on": "replied", "to": "thanks"}, {"on": "no_reply", "to": "done", "after": "P2D"}]),
        email("c", next="done"),
        email("thanks", next="done"),
        DONE,
    ]
)


def enrolled(plan: Plan = TIMERS, facts: LeadFacts = LEAD, draw: float = 0.0) -> EnrollmentState:
    state, _ = step(plan, EnrollmentState(), Enrolled(facts, draw=draw), T)
    return state


def test_a_send_with_timers_arms_the_earliest() -> None:
    state, actions = step(TIMERS, EnrollmentState(), Enrolled(LEAD), T)
    assert actions == (
        Moved(None, "a", "enrolled"),
        Send("a", "email", None, T, 1, template="t-a"),
        Schedule("no_click", "a", T + timedelta(days=1)),  # 1 day before 3 days
    )
    assert (state.node, state.timer and state.timer.kind) == ("a", "no_click")


def test_an_event_within_its_window_takes_its_transition() -> None:
    at = T + 2 * H
    _, actions = step(TIMERS, enrolled(), LeadEvent("opened", at), at)
    assert actions == (
        CancelTimers(),
        Moved("a", "b", "opened"),
        Send("b", "email", None, at, 1, template="t-b"),
        Schedule("no_reply", "b", at + timedelta(days=2)),
    )


def test_an_event_after_its_window_is_only_noted() -> None:
    at = T + 13 * H  # the open came 13 h after the send; the route wanted it within 12 h
    state, actions = step(TIMERS, enrolled(), LeadEvent("opened", at), at)
    assert actions == ()
    assert (state.node, state.seen) == ("a", frozenset({"opened"}))


def test_a_click_answers_the_no_click_timer_and_the_next_timer_takes_over() -> None:
    at = T + 5 * H
    state, actions = step(TIMERS, enrolled(), LeadEvent("clicked", at), at)
    assert actions == (CancelTimers(), Schedule("no_reply", "a", T + timedelta(days=3)))
    assert state.timer is not None
    assert state.timer.due_at == T + timedelta(days=3)


def test_a_timer_that_fires_moves_on() -> None:
    due = T + timedelta(days=1)
    state, actions = step(TIMERS, enrolled(), TimerFired("no_click", "a"), due)
    assert actions == (
        Moved("a", "c", "no_click"),
        Send("c", "email", None, due, 1, template="t-c"),
        Moved("c", "done", "next"),
        Complete("reached 'done' on next"),
    )
    assert state.status == "completed"


def test_stale_and_early_timers_change_nothing() -> None:
    state = enrolled()
    assert step(TIMERS, state, TimerFired("no_reply", "a"), T + timedelta(days=3)) == (state, ())
    assert step(TIMERS, state, TimerFired("no_click", "b"), T + timedelta(days=1)) == (state, ())
    assert step(TIMERS, state, TimerFired("no_click", "a"), T + timedelta(hours=23)) == (state, ())


def test_an_unrouted_reply_stops_and_a_routed_one_goes_where_the_plan_says() -> None:
    at = T + H
    state, actions = step(TIMERS, enrolled(), LeadEvent("replied", at), at)
    assert actions == (CancelTimers(), Stop("replied"))
    assert state.status == "stopped"

    at_b, _ = step(TIMERS, enrolled(), LeadEvent("opened", at), at)
    later = at + 3 * H
    state, actions = step(TIMERS, at_b, LeadEvent("replied", later), later)
    assert actions == (
        CancelTimers(),
        Moved("b", "thanks", "replied"),
        Send("thanks", "email", None, later, 1, template="t-thanks"),
        Moved("thanks", "done", "next"),
        Complete("reached 'done' on next"),
    )


@pytest.mark.parametrize("kind", ["unsubscribed", "converted"])
def test_an_unrouted_unsubscribe_or_conversion_stops(kind: str) -> None:
    state, actions = step(TIMERS, enrolled(), LeadEvent(kind, T + H), T + H)
    assert (state.status, actions) == ("stopped", (CancelTimers(), Stop(kind)))


def test_when_every_timer_is_answered_the_enrollment_completes() -> None:
    plan = plan_of(
        [email("a", transitions=[{"on": "no_open", "to": "b", "after": "P2D"}]), email("b", next="done"), DONE]
    )
    at = T + H
    state, actions = step(plan, enrolled(plan), LeadEvent("clicked", at), at)  # a click means it was opened
    assert actions == (CancelTimers(), Complete("clicked answered every timer of 'a'"))
    assert (state.status, state.timer) == ("completed", None)


def test_a_lead_no_channel_reaches_is_stopped_without_a_send() -> None:
    state, actions = step(TIMERS, EnrollmentState(), Enrolled(LeadFacts(sms_ok=True)), T)
    assert actions == (Moved(None, "a", "enrolled"), Stop("no usable email for 'a'"))
    assert state.status == "stopped"


def test_the_leads_own_zone_places_the_send() -> None:
    tokyo = LeadFacts(timezone="Asia/Tokyo", email_ok=True)
    # T is 00:00 on June 11 in Tokyo (UTC+9): the window opens at 08:00 there, 23:00 UTC on June 10.
    _, actions = step(TIMERS, EnrollmentState(), Enrolled(tokyo), T)
    assert actions[1] == Send("a", "email", None, datetime(2026, 6, 10, 23, 0, tzinfo=UTC), 1, template="t-a")
    # An unknown zone on the lead's row falls back to the plan's (New York: 11:00, open).
    _, actions = step(TIMERS, EnrollmentState(), Enrolled(LeadFacts(timezone="Mars/Base", email_ok=True)), T)
    assert actions[1] == Send("a", "email", None, T, 1, template="t-a")


VARIANTS = plan_of(
    [
        email(
            "a",
            brief="hello",
            next="done",
            variants=[{"name": "A", "weight": 1}, {"name": "B", "weight": 3, "template": "t-b"}],
        ),
        DONE,
    ]
)


@pytest.mark.parametrize(
    ("draw", "variant", "template"),
    [
        (0.0, "A", "t-a"),
        (0.2499, "A", "t-a"),  # 0.2499 × 4 = 0.9996 < A's weight 1
        (0.25, "B", "t-b"),  # 0.25 × 4 = 1.0: past A, inside B (1 to 4)
        (0.9999, "B", "t-b"),
    ],
)
def test_the_draw_picks_the_variant_by_weight(draw: float, variant: str, template: str) -> None:
    state, actions = step(VARIANTS, EnrollmentState(), Enrolled(LEAD, draw=draw), T)
    assert actions[1] == Send("a", "email", variant, T, 1, template=template, brief="hello")
    assert state.variant == variant


def test_the_draw_of_an_enrollment_key_is_stable() -> None:
    # md5('1:2:3') starts 7b6e2994 = 2,070,817,172; / 2^32 = 0.48214969...
    assert variant_draw("1:2:3") == pytest.approx(0.48214969504624605)


POLL = plan_of(
    [
        email("a", next="w"),
        {"id": "w", "kind": "wait", "duration": "P1D", "next": "new?"},
        {
            "id": "new?",
            "kind": "branch",
            "cases": [{"if": {"field": "stage", "op": "=", "value": "new"}, "to": "a"}],
            "else": "done",
        },
        DONE,
    ]
)


def test_a_loop_back_to_a_sent_node_moves_on_without_a_second_message() -> None:
    new_lead = LeadFacts(email_ok=True, stage="new", timezone="America/New_York")
    state, _ = step(POLL, EnrollmentState(), Enrolled(new_lead), T)
    day = T + timedelta(days=1)
    state, actions = step(POLL, state, TimerFired("wait", "w"), day)
    assert actions == (
        Moved("w", "new?", "wait"),
        Moved("new?", "a", "branch"),
        Moved("a", "w", "next"),
        Schedule("wait", "w", day + timedelta(days=1)),
    )
    won = LeadFacts(email_ok=True, stage="won")
    state, actions = step(POLL, state, TimerFired("wait", "w", facts=won), day + timedelta(days=1))
    assert actions[-1] == Complete("reached 'done' on branch")


@pytest.mark.parametrize(
    ("condition", "facts", "expected"),
    [
        (Condition("deal_value", ">=", 5000), LeadFacts(deal_value=5000), True),
        (Condition("deal_value", ">=", 5000), LeadFacts(deal_value=4999.99), False),
        (Condition("intent_score", "<", 40), LeadFacts(intent_score=39), True),
        (Condition("silent_hours", "in", (24, 48)), LeadFacts(silent_hours=48), True),
        (Condition("stage", "!=", "won"), LeadFacts(stage="won"), False),
        (Condition("stage", "in", ("new", "contacted")), LeadFacts(stage="contacted"), True),
        (Condition("tags", "=", "vip"), LeadFacts(tags=frozenset({"vip", "b2b"})), True),
        (Condition("tags", "!=", "vip"), LeadFacts(tags=frozenset({"b2b"})), True),
        (Condition("tags", "in", ("vip", "press")), LeadFacts(tags=frozenset({"b2b"})), False),
        (Condition("sms_ok", "=", False), LeadFacts(sms_ok=True), False),
    ],
)
def test_conditions(condition: Condition, facts: LeadFacts, expected: bool) -> None:
    assert holds(condition, facts) is expected


def test_events_for_an_ended_or_unstarted_enrollment_change_nothing() -> None:
    idle = EnrollmentState()
    assert step(TIMERS, idle, LeadEvent("replied", T), T) == (idle, ())
    assert step(TIMERS, idle, TimerFired("wait", "a"), T) == (idle, ())


def test_the_clock_must_be_aware_and_events_known() -> None:
    with pytest.raises(ValueError, match="aware"):
        step(TIMERS, EnrollmentState(), Enrolled(LEAD), datetime(2026, 6, 10, 15, 0))
    with pytest.raises(ValueError, match="unknown event"):
        LeadEvent("liked", T)
    with pytest.raises(ValueError, match="episode"):
        Enrolled(LEAD, episode=0)


def test_an_enrollment_whose_node_left_the_plan_is_stopped() -> None:
    state = enrolled()  # at 'a', its no_click timer due T + 1 day
    edited = plan_of([email("b", next="done"), DONE], start="b")
    assert step(edited, state, LeadEvent("opened", T + H), T + H) == (
        replace(state, status="stopped", timer=None),
        (CancelTimers(), Stop("the plan has no node 'a' any more")),
    )
    without_timer = plan_of([email("a", transitions=[{"on": "no_open", "to": "done", "after": "P1D"}]), DONE])
    due = T + timedelta(days=1)
    stopped, actions = step(without_timer, state, TimerFired("no_click", "a"), due)
    assert (stopped.status, actions) == (
        "stopped",
        (CancelTimers(), Stop("the plan has no 'no_click' timer at 'a' any more")),
    )
