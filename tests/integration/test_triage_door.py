"""Every SMS reply through Twilio's door is triaged and acted on; each outcome read back in SQL.

The route's clock is pinned at AT (Tuesday 2026-12-01 15:00 UTC); dates below are worked out
from it by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import runtime
from app.services.triage import ReplyNotFound, triage_reply
from tests.integration.outbox import make_leads, make_messages, make_tenant
from tests.integration.twilio_door import AT, SMS, client_for, enroll, mark_sent, post, settings, sql, text_fields

LEAD_PHONE = "+15550000001"
LEAD_EMAIL = "lead1@example.com"


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


@pytest.fixture
def client(db: Engine) -> Iterator[TestClient]:
    with client_for(settings()) as c:
        yield c


@pytest.fixture
def lead(db: Engine) -> dict[str, int]:
    """Acme texted lead 1 (Lead1), who is in an active recovery."""
    tenant = make_tenant(db)
    (lead_id,) = make_leads(db, tenant, 1)
    (sent,) = make_messages(db, tenant, [lead_id], channel="sms", node="rung-1")
    mark_sent(db, sent, "SMsent1")
    (enrollment,) = enroll(db, tenant, [lead_id])
    sql(db, "UPDATE leads SET recovery_state = 'in_recovery'")
    return {"tenant": tenant, "lead": lead_id, "enrollment": enrollment}


def reply(client: TestClient, body: str) -> None:
    answer = post(client, SMS, text_fields("SMreply1", body, sender=LEAD_PHONE))
    assert answer.status_code == 200


def inbound(db: Engine) -> Any:
    [row] = sql(db, "SELECT intent, sentiment, priority, alert, triage_until, suggested_reply FROM inbound_messages")
    return row


def triage_events(db: Engine, enrollment: int) -> list[str]:
    rows = sql(db, "SELECT enrollment_id, event, at FROM campaign_transitions WHERE event LIKE 'triage_%' ORDER BY id")
    assert all(r.enrollment_id == enrollment and r.at == AT for r in rows)
    return [r.event for r in rows]


def lead_row(db: Engine, lead_id: int) -> Any:
    return sql(
        db, "SELECT recovery_state, snoozed_until, resume_at, wrong_person FROM leads WHERE id = :id", id=lead_id
    )[0]


@pytest.mark.parametrize(
    ("body", "intent"),
    [("Yes please, give me a call this afternoon", "interested"), ("How much would it be for two of us?", "question")],
)
def test_interest_and_questions_engage_the_lead_and_alert_the_owner(
    lead: dict[str, int], client: TestClient, db: Engine, body: str, intent: str
) -> None:
    reply(client, body)
    row = inbound(db)
    assert (row.intent, row.priority, row.alert) == (intent, "high", True)
    assert row.sentiment == "positive"
    assert "Lead1" in row.suggested_reply
    assert "Acme" in row.suggested_reply
    assert lead_row(db, lead["lead"]).recovery_state == "replied"
    assert triage_events(db, lead["enrollment"]) == [f"triage_{intent}"]


def test_not_now_with_a_date_snoozes_until_that_date(lead: dict[str, int], client: TestClient, db: Engine) -> None:
    reply(client, "Not right now, try me again on 15 January")
    row = inbound(db)
    assert (row.intent, row.alert, row.triage_until) == ("not_now", False, date(2027, 1, 15))
    assert lead_row(db, lead["lead"]).snoozed_until == datetime(2027, 1, 15, tzinfo=UTC)
    assert triage_events(db, lead["enrollment"]) == ["triage_not_now"]


def test_not_now_without_a_date_snoozes_thirty_days(lead: dict[str, int], client: TestClient, db: Engine) -> None:
    reply(client, "not now sorry, too busy")
    assert inbound(db).intent == "not_now"
    assert lead_row(db, lead["lead"]).snoozed_until == datetime(2026, 12, 31, 15, 0, tzinfo=UTC)


def test_not_interested_stops_and_closes(lead: dict[str, int], client: TestClient, db: Engine) -> None:
    reply(client, "No thanks, we went with another company")
    assert inbound(db).intent == "not_interested"
    assert lead_row(db, lead["lead"]).recovery_state == "lost"
    assert [r.status for r in sql(db, "SELECT status FROM enrollments")] == ["stopped"]
    assert sql(db, "SELECT count(*) FROM suppressions")[0][0] == 0
    assert triage_events(db, lead["enrollment"]) == ["triage_not_interested"]


def test_please_remove_me_suppresses_every_channel(lead: dict[str, int], client: TestClient, db: Engine) -> None:
    reply(client, "Please remove me from your list")
    assert inbound(db).intent == "unsubscribe"
    rows = [tuple(r) for r in sql(db, "SELECT channel, address, reason FROM suppressions ORDER BY channel")]
    assert rows == [("email", LEAD_EMAIL, "unsubscribe"), ("sms", LEAD_PHONE, "unsubscribe")]
    assert triage_events(db, lead["enrollment"]) == ["triage_unsubscribe"]


def test_out_of_office_waits_for_the_return_date_and_never_suppresses(
    lead: dict[str, int], client: TestClient, db: Engine
) -> None:
    reply(client, "I'm on vacation until December 10 with no signal")
    row = inbound(db)
    assert (row.intent, row.triage_until) == ("out_of_office", date(2026, 12, 10))
    got = lead_row(db, lead["lead"])
    assert got.resume_at == datetime(2026, 12, 10, tzinfo=UTC)
    assert got.snoozed_until is None
    assert sql(db, "SELECT count(*) FROM suppressions")[0][0] == 0
    assert triage_events(db, lead["enrollment"]) == ["triage_out_of_office"]


def test_wrong_person_flags_the_lead(lead: dict[str, int], client: TestClient, db: Engine) -> None:
    reply(client, "Wrong number, nobody called Lead1 here")
    assert inbound(db).intent == "wrong_person"
    assert lead_row(db, lead["lead"]).wrong_person is True
    assert sql(db, "SELECT count(*) FROM suppressions")[0][0] == 0
    assert triage_events(db, lead["enrollment"]) == ["triage_wrong_person"]


def test_triaging_a_reply_another_tenant_owns_is_refused(lead: dict[str, int], client: TestClient, db: Engine) -> None:
    reply(client, "Yes please, call me")
    [(inbound_id,)] = sql(db, "SELECT id FROM inbound_messages")
    other = make_tenant(db, slug="other")
    with runtime.session_scope() as session, session.begin(), pytest.raises(ReplyNotFound, match="no inbound message"):
        triage_reply(session, tenant_id=other, inbound_message_id=inbound_id, now=AT)
