"""An enrollment's interpreter state survives a trip through JSON exactly."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.plan import (
    Enrolled,
    EnrollmentState,
    LeadFacts,
    default_recovery_plan,
    state_from_json,
    state_to_json,
    step,
)
from app.domain.plan.state import Timer

CHICAGO_SUMMER = timezone(timedelta(hours=-5))
T = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)


def test_a_stepped_state_is_written_as_plain_json() -> None:
    plan = default_recovery_plan([24, 48, 72], "America/Chicago")
    lead = LeadFacts(timezone="America/Chicago", email_ok=True, tags=frozenset({"vip", "b2b"}))
    state, _ = step(plan, EnrollmentState(), Enrolled(lead, draw=0.25), T)

    data = state_to_json(state)

    assert data == {
        "status": "active",
        "node": "wait-1",
        "episode": 1,
        "entered_at": "2026-06-10T15:00:00+00:00",
        "clock_from": "2026-06-10T15:00:00+00:00",
        "seen": [],
        "sent": [["rung-1", 1]],
        "last_send_at": "2026-06-10T15:00:00+00:00",
        "timer": {"kind": "wait", "node": "wait-1", "due_at": "2026-06-11T15:00:00+00:00"},
        "variant": None,
        "draw": 0.25,
        "facts": {
            "timezone": "America/Chicago",
            "email_ok": True,
            "sms_ok": False,
            "deal_value": 0.0,
            "intent_score": 0,
            "silent_hours": 0.0,
            "stage": "",
            "source": "",
            "tags": ["b2b", "vip"],
        },
    }
    assert state_from_json(json.loads(json.dumps(data))) == state


def test_a_state_without_lead_facts_is_stored_without_them() -> None:
    state = EnrollmentState(status="active", node="wait-1", episode=2, draw=0.5)
    data = state_to_json(state)
    assert "facts" not in data
    assert state_from_json(json.loads(json.dumps(data))) == state


def test_a_stored_time_without_its_offset_is_refused() -> None:
    data = state_to_json(EnrollmentState(entered_at=T))
    data["entered_at"] = "2026-06-10T15:00:00"
    with pytest.raises(ValueError, match="offset"):
        state_from_json(data)


times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.sampled_from([UTC, CHICAGO_SUMMER])
)
names = st.text("abc-0123", min_size=1, max_size=6)
states = st.builds(
    EnrollmentState,
    status=st.sampled_from(["idle", "active", "completed", "stopped"]),
    node=st.none() | names,
    episode=st.integers(0, 50),
    entered_at=st.none() | times,
    clock_from=st.none() | times,
    seen=st.frozensets(st.sampled_from(["opened", "clicked", "delivered"])),
    sent=st.frozensets(st.tuples(names, st.integers(1, 50))),
    last_send_at=st.none() | times,
    timer=st.none() | st.builds(Timer, st.sampled_from(["wait", "no_open"]), names, times),
    variant=st.none() | st.sampled_from(["A", "B"]),
    draw=st.floats(0, 1, exclude_max=True),
    facts=st.builds(
        LeadFacts,
        timezone=st.none() | st.sampled_from(["UTC", "Asia/Tokyo"]),
        email_ok=st.booleans(),
        sms_ok=st.booleans(),
        deal_value=st.floats(0, 1e9),
        intent_score=st.integers(0, 100),
        silent_hours=st.floats(0, 1e5),
        stage=st.text(max_size=8),
        source=st.text(max_size=8),
        tags=st.frozensets(st.text(max_size=5)),
    ),
)


@settings(max_examples=200)
@given(states)
def test_any_state_round_trips_through_json(state: EnrollmentState) -> None:
    assert state_from_json(json.loads(json.dumps(state_to_json(state)))) == state
