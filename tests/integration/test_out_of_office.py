"""An out-of-office auto-reply through Twilio's door holds the plan until the return date, and never stops
or suppresses; on real PostgreSQL and Redis with the clocks injected, read back in SQL.

Worked by hand: the scan at NOW (Friday 2026-11-20 12:00 UTC) schedules rung 1 at NOW and the
wait after it at NOW + 24 h (the default 24/48/72 h ladder). The auto-reply at NOW + 1 h says the
lead is back on 30 November, i.e. 2026-11-30 00:00 UTC: the earliest pending step (rung 1, due at
NOW) moves to that moment, a shift of 9 days 12 hours, and the wait keeps its 24 h spacing after
it, due 2026-12-01 00:00 UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api import create_app
from app.domain.reply_address import reply_address
from app.services import campaign_run, scan
from app.services.write import write_due
from app.web import sendgrid_inbound
from app.web.twilio import clock, webhook_settings
from tests.integration import twilio_door
from tests.integration.scan_world import NOW, make_lead, make_tenant
from tests.integration.twilio_door import sql

HOUR = timedelta(hours=1)
TENANT_NUMBER = "+15550004444"
LEAD_PHONE = "+15550101010"
REPLIED_AT = NOW + HOUR
BACK = datetime(2026, 11, 30, tzinfo=UTC)
WAIT_DUE = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def tenant(clean_db: Engine, redis_conn: redis.Redis) -> int:
    tenant = make_tenant(clean_db, sender_phone=TENANT_NUMBER)
    make_lead(clean_db, tenant, silent_hours=30, phone=LEAD_PHONE, consent_sms=True)
    assert scan.scan_tenant(tenant_id=tenant, now=NOW).scheduled == 1
    return tenant


SECRET_KEY = "test-secret-key-for-reply-tokens"
INBOUND_SECRET = "inbound-" + "z" * 40


@pytest.fixture
def client(tenant: int) -> Iterator[TestClient]:
    api = create_app()
    config = twilio_door.settings(secret_key=SECRET_KEY, sendgrid_inbound_secret=INBOUND_SECRET)
    api.dependency_overrides[webhook_settings] = lambda: config
    api.dependency_overrides[clock] = lambda: REPLIED_AT
    api.dependency_overrides[sendgrid_inbound.clock] = lambda: REPLIED_AT
    with TestClient(api) as c:
        yield c


def text_in(client: TestClient, body: str) -> None:
    fields = twilio_door.text_fields("SMooo1", body, sender=LEAD_PHONE, to=TENANT_NUMBER)
    assert twilio_door.post(client, twilio_door.SMS, fields).status_code == 200


def pending(engine: Engine) -> list[tuple[object, ...]]:
    found = sql(engine, "SELECT kind, node, due_at FROM scheduled_actions WHERE status = 'pending' ORDER BY due_at")
    return [tuple(row) for row in found]


def test_the_next_step_waits_for_the_return_date_and_the_plan_goes_on_after_it(
    tenant: int, client: TestClient, clean_db: Engine
) -> None:
    assert pending(clean_db) == [("send", "rung-1", NOW), ("wait", "wait-1", NOW + 24 * HOUR)]

    text_in(client, "Auto-reply: I am out of the office until November 30 with no access to messages.")

    [reply] = sql(clean_db, "SELECT intent, triage_until FROM inbound_messages")
    assert (reply.intent, reply.triage_until.isoformat()) == ("out_of_office", "2026-11-30")
    assert pending(clean_db) == [("send", "rung-1", BACK), ("wait", "wait-1", WAIT_DUE)]
    [enrollment] = sql(clean_db, "SELECT status, next_action_at, state->'timer'->>'due_at' AS timer FROM enrollments")
    assert (enrollment.status, enrollment.next_action_at) == ("active", WAIT_DUE)
    assert datetime.fromisoformat(enrollment.timer) == WAIT_DUE
    [lead] = sql(clean_db, "SELECT recovery_state, resume_at FROM leads")
    assert lead.resume_at == BACK
    assert lead.recovery_state != "replied"
    assert sql(clean_db, "SELECT count(*) AS n FROM suppressions")[0].n == 0
    [audit] = sql(clean_db, "SELECT event, reason, at FROM campaign_transitions WHERE event LIKE 'triage_%'")
    assert (audit.event, audit.at) == ("triage_out_of_office", REPLIED_AT)
    assert audit.reason.startswith("next step waits until 2026-11-30")
    assert [r.event for r in sql(clean_db, "SELECT event FROM campaign_transitions ORDER BY id")] == [
        "enrolled",
        "next",
        "triage_out_of_office",
    ]

    # The wait was due at NOW + 24 h; now it is not, and nothing moves before the lead is back.
    assert campaign_run.fire_due(tenant_id=tenant, now=NOW + 24 * HOUR) == {"fired": 0}
    assert campaign_run.fire_due(tenant_id=tenant, now=WAIT_DUE - timedelta(seconds=1)) == {"fired": 0}
    fired = campaign_run.fire_due(tenant_id=tenant, now=WAIT_DUE)
    assert (fired["fired"], fired["sends"]) == (1, 1)
    assert sql(clean_db, "SELECT current_node, rung FROM enrollments")[0].rung == 2


def test_without_a_return_date_the_plan_runs_as_planned(tenant: int, client: TestClient, clean_db: Engine) -> None:
    text_in(client, "This is an automatic reply: I am currently out of the office.")

    assert sql(clean_db, "SELECT intent FROM inbound_messages")[0].intent == "out_of_office"
    assert pending(clean_db) == [("send", "rung-1", NOW), ("wait", "wait-1", NOW + 24 * HOUR)]
    assert sql(clean_db, "SELECT status FROM enrollments")[0].status == "active"
    assert sql(clean_db, "SELECT count(*) AS n FROM suppressions")[0].n == 0


def test_a_real_answer_still_stops_the_plan(tenant: int, client: TestClient, clean_db: Engine) -> None:
    text_in(client, "Yes, call me tomorrow please")

    assert sql(clean_db, "SELECT status FROM enrollments")[0].status == "stopped"
    assert [r.status for r in sql(clean_db, "SELECT status FROM scheduled_actions ORDER BY id")] == [
        "canceled",
        "canceled",
    ]


def test_a_lead_away_is_not_enrolled_again_before_the_return_date(clean_db: Engine, redis_conn: redis.Redis) -> None:
    """The auto-reply came after the episode ended: the scan leaves the lead alone until they are back."""
    tenant = make_tenant(clean_db, sender_phone=TENANT_NUMBER)
    lead = make_lead(clean_db, tenant, silent_hours=30, phone=LEAD_PHONE, consent_sms=True, resume_at=BACK)

    assert scan.scan_tenant(tenant_id=tenant, now=NOW).scheduled == 0
    assert scan.scan_tenant(tenant_id=tenant, now=BACK - timedelta(seconds=1)).scheduled == 0
    assert scan.scan_tenant(tenant_id=tenant, now=BACK).scheduled == 1
    assert sql(clean_db, "SELECT lead_id FROM enrollments")[0].lead_id == lead


def test_an_emailed_auto_reply_moves_the_written_message_and_the_timer_by_one_offset(
    tenant: int, client: TestClient, clean_db: Engine
) -> None:
    """Rung 1 is written (pending in the outbox) when the auto-reply comes through the Inbound Parse door."""
    assert write_due(tenant_id=tenant, now=NOW)["claimed"] == 1
    [message] = sql(clean_db, "SELECT id, scheduled_for FROM outbound_messages WHERE status = 'pending'")
    [timer] = sql(clean_db, "SELECT due_at FROM scheduled_actions WHERE status = 'pending'")
    shift = BACK - min(message.scheduled_for, timer.due_at)

    to = reply_address(SECRET_KEY, tenant_id=tenant, message_id=message.id, domain="reply.lre.example")
    fields = {
        "headers": f"Message-ID: <ooo1@mail.example>\nTo: {to}\nSubject: Automatic reply\n",
        "to": to,
        "from": "Lead <lead@example.com>",
        "subject": "Automatic reply: Still thinking it over?",
        "text": "I am out of the office until November 30 and will reply when I am back.",
        "envelope": '{"to":["' + to + '"],"from":"lead@example.com"}',
    }
    path = f"/webhooks/sendgrid/inbound/{INBOUND_SECRET}"
    assert client.post(path, files=[(k, (None, v)) for k, v in fields.items()]).status_code == 200

    assert sql(clean_db, "SELECT intent FROM inbound_messages")[0].intent == "out_of_office"
    [moved] = sql(clean_db, "SELECT scheduled_for, status FROM outbound_messages WHERE id = :id", id=message.id)
    assert (moved.scheduled_for, moved.status) == (message.scheduled_for + shift, "pending")
    assert sql(clean_db, "SELECT due_at FROM scheduled_actions WHERE status = 'pending'")[0].due_at == (
        timer.due_at + shift
    )
    assert sql(clean_db, "SELECT status FROM enrollments")[0].status == "active"
