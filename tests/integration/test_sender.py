"""The sender on real PostgreSQL and Redis, through the real SendGrid and Twilio SDKs, against local fakes."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine

from app.channels.base import SendResult
from app.domain.unsubscribe import claim_covers, verify_token
from app.services import send, send_record
from app.services.ratelimit import TokenBuckets
from app.settings import load_settings
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.fakes.twilio_server import FakeTwilio
from tests.integration.outbox import PHYSICAL_ADDRESS, make_leads, make_messages, make_tenant, rows, status_counts
from tests.integration.sender_world import (
    FROM_NUMBER,
    PUBLIC,
    SECRET,
    later,
    sendgrid_settings,
    twilio_settings,
)
from tests.support import midday_zone


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    """An empty database and an empty Redis (no token bucket carries over)."""
    return clean_db


# --- providers and request shapes -------------------------------------------------------------


def test_sandbox_is_the_default_and_sends_nothing_anywhere(db: Engine) -> None:
    tenant_id = make_tenant(db)
    ids = make_messages(db, tenant_id, make_leads(db, tenant_id, 3))

    counts = send.send_due(settings=load_settings())

    assert counts["sent"] == 3
    for row in rows(db, ids):
        assert row["status"] == "sent"
        assert row["provider"] == "sandbox"
        assert row["provider_message_id"].startswith("sandbox-")
        assert row["sent_at"] is not None
    with db.connect() as conn:
        contacted = conn.execute(sa.text("SELECT count(*) FROM leads WHERE last_contacted_at IS NOT NULL")).scalar()
        activities = conn.execute(sa.text("SELECT kind, details FROM activities")).all()
    assert contacted == 3
    assert sorted(a.details["message_id"] for a in activities) == ids
    assert {a.kind for a in activities} == {"email_out"}


def test_sendgrid_request_carries_ids_only_unsubscribe_headers_categories_and_footer(
    db: Engine, sendgrid: FakeSendGrid
) -> None:
    tenant_id = make_tenant(db)
    lead_ids = make_leads(db, tenant_id, 2)
    ids = make_messages(db, tenant_id, lead_ids, node="rung-2")

    counts = send.send_due(settings=sendgrid_settings(sendgrid))

    assert counts["sent"] == 2
    [mail] = sendgrid.mails()  # both in one request
    assert mail["from"] == {"email": "sales@acme.example", "name": "Acme Sales"}
    assert sorted(mail["categories"]) == ["lead-recovery", "rung-2"]
    by_id = {int(p["custom_args"]["message_id"]): p for p in mail["personalizations"]}
    assert sorted(by_id) == ids
    stored = {row["id"]: row for row in rows(db, ids)}
    for message_id, p in by_id.items():
        row = stored[message_id]
        assert p["custom_args"] == {
            "tenant_id": str(tenant_id),
            "message_id": str(message_id),
            "lead_id": str(row["lead_id"]),
        }
        assert not any("@" in value or "Lead" in value for value in p["custom_args"].values())
        assert p["to"] == [{"email": row["to_address"]}]
        assert p["subject"] == row["subject"]
        _assert_unsubscribe_headers(p["headers"], tenant_id=tenant_id, row=row)
        body = p["substitutions"][mail["content"][0]["value"]]
        assert body.startswith(row["body"])
        assert PHYSICAL_ADDRESS in body
        assert f"{PUBLIC}/unsubscribe/" in body
        assert row["provider_message_id"] == sendgrid.requests[0].reply.headers["X-Message-Id"]
        assert row["provider"] == "sendgrid"


def _assert_unsubscribe_headers(headers: dict[str, str], *, tenant_id: int, row: dict[str, Any]) -> None:
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # One https link, no mailto: nothing reads a mailbox (RFC 8058 one-click needs the link only).
    assert re.fullmatch(rf"<{re.escape(PUBLIC)}/unsubscribe/[A-Za-z0-9_.-]+>", headers["List-Unsubscribe"])
    url = headers["List-Unsubscribe"].strip("<>")
    claim = verify_token(SECRET, url.rsplit("/", 1)[1])
    assert claim is not None
    assert (claim.tenant_id, claim.channel, claim.lead_id) == (tenant_id, "email", row["lead_id"])
    assert claim_covers(SECRET, claim, row["to_address"])
    assert row["to_address"] not in url


def test_twilio_request_has_from_body_and_status_callback(db: Engine, twilio: FakeTwilio) -> None:
    tenant_id = make_tenant(db)
    ids = make_messages(db, tenant_id, make_leads(db, tenant_id, 2, timezone=midday_zone()), channel="sms")

    counts = send.send_due(settings=twilio_settings(twilio))

    assert counts["sent"] == 2
    forms = {form["To"]: form for form in twilio.forms()}
    for row in rows(db, ids):
        form = forms[row["to_address"]]
        assert form["From"] == FROM_NUMBER
        assert form["Body"] == row["body"]
        assert form["StatusCallback"] == f"{PUBLIC}/webhooks/twilio/status?m={row['id']}"
        assert row["status"] == "sent"
        assert row["provider"] == "twilio"
        assert row["provider_message_id"].startswith("SM")
        assert row["cost_usd"] > 0


def test_the_tenants_own_number_is_the_sms_sender(db: Engine, twilio: FakeTwilio) -> None:
    tenant_id = make_tenant(db, sender_phone="+15557770000")
    make_messages(db, tenant_id, make_leads(db, tenant_id, 1, timezone=midday_zone()), channel="sms")

    send.send_due(settings=twilio_settings(twilio))

    assert twilio.forms()[0]["From"] == "+15557770000"


# --- rules: suppression, consent, quiet hours, rate limits ------------------------------------


def test_a_suppressed_address_is_never_sent(db: Engine, sendgrid: FakeSendGrid) -> None:
    tenant_id = make_tenant(db)
    ids = make_messages(db, tenant_id, make_leads(db, tenant_id, 2))
    target = rows(db, ids)[0]
    with db.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO suppressions (tenant_id, channel, address, reason) VALUES (:t, 'email', :a, 'bounce')"
            ),
            {"t": tenant_id, "a": target["to_address"]},
        )
        # The writer kept the lead's capitals; the suppression list holds the normalised address.
        conn.execute(sa.text("UPDATE outbound_messages SET to_address = upper(to_address) WHERE id = :id"), target)

    counts = send.send_due(settings=sendgrid_settings(sendgrid))

    assert (counts["suppressed"], counts["sent"]) == (1, 1)
    assert rows(db, [target["id"]])[0]["status"] == "suppressed"
    assert sendgrid.calls[str(target["id"])] == 0


def test_withdrawn_consent_cancels_the_message(db: Engine, twilio: FakeTwilio) -> None:
    tenant_id = make_tenant(db)
    ids = make_messages(db, tenant_id, make_leads(db, tenant_id, 1, consent_sms=False), channel="sms")

    counts = send.send_due(settings=twilio_settings(twilio))

    assert counts["canceled"] == 1
    [row] = rows(db, ids)
    assert row["status"] == "canceled"
    assert "consent" in row["last_error"]
    assert twilio.requests == []


def test_sms_at_ten_at_night_waits_for_eight_in_the_morning_local_then_goes(db: Engine, twilio: FakeTwilio) -> None:
    tenant_id = make_tenant(db)
    ids = make_messages(db, tenant_id, make_leads(db, tenant_id, 1, timezone="America/New_York"), channel="sms")
    ten_pm_new_york = datetime(2030, 1, 15, 3, 0, tzinfo=UTC)  # 22:00 EST on the 14th
    eight_am_new_york = datetime(2030, 1, 15, 13, 0, tzinfo=UTC)
    settings = twilio_settings(twilio)

    first = send.send_due(settings=settings, now=ten_pm_new_york)
    [deferred] = rows(db, ids)
    early = send.send_due(settings=settings, now=eight_am_new_york - timedelta(minutes=1))
    on_time = send.send_due(settings=settings, now=eight_am_new_york)

    assert first["deferred"] == 1
    assert deferred["status"] == "pending"
    assert deferred["scheduled_for"] == eight_am_new_york
    assert deferred["attempts"] == 0  # a deferral is not an attempt
    assert early.get("claimed", 0) == 0
    assert on_time["sent"] == 1
    assert rows(db, ids)[0]["status"] == "sent"
    assert len(twilio.requests) == 1


@pytest.mark.parametrize(
    ("due", "opens"),
    [
        # 07:00 EST on Tuesday 15 January 2030 (12:00 UTC): the window opens at 09:00 that day (14:00 UTC).
        (datetime(2030, 1, 15, 12, 0, tzinfo=UTC), datetime(2030, 1, 15, 14, 0, tzinfo=UTC)),
        # 17:00 EST (22:00 UTC), the window's end hour: it opens again at 09:00 on the 16th (14:00 UTC).
        (datetime(2030, 1, 15, 22, 0, tzinfo=UTC), datetime(2030, 1, 16, 14, 0, tzinfo=UTC)),
    ],
    ids=["before-the-window", "at-its-end"],
)
def test_an_email_due_outside_the_tenants_send_window_waits_for_it_to_open(
    db: Engine, sendgrid: FakeSendGrid, due: datetime, opens: datetime
) -> None:
    """The tenant sends 09:00-17:00 in the lead's zone and has no quiet hours, so only the window holds it."""
    tenant_id = make_tenant(db, send_window_start_hour=9, send_window_end_hour=17)
    lead_ids = make_leads(db, tenant_id, 1, timezone="America/New_York")
    [message_id] = make_messages(db, tenant_id, lead_ids, scheduled_for=due)
    settings = sendgrid_settings(sendgrid)

    outside = send.send_due(settings=settings, now=due)
    [held_back] = rows(db, [message_id])
    calls_then = len(sendgrid.requests)
    early = send.send_due(settings=settings, now=opens - timedelta(minutes=1))
    on_time = send.send_due(settings=settings, now=opens)

    assert (outside["claimed"], outside.get("deferred", 0), outside.get("sent", 0)) == (1, 1, 0)
    assert (held_back["status"], held_back["scheduled_for"], held_back["attempts"]) == ("pending", opens, 0)
    assert (held_back["sent_at"], held_back["provider_message_id"]) == (None, None)
    assert calls_then == 0, "nothing reached the provider outside the window"
    assert early.get("claimed", 0) == 0
    assert on_time["sent"] == 1
    [sent] = rows(db, [message_id])
    assert sent["status"] == "sent"
    assert sendgrid.calls[str(message_id)] == 1


def test_over_the_rate_limit_messages_are_deferred_not_dropped(db: Engine, sendgrid: FakeSendGrid) -> None:
    limits = {"tenant": {"per_second": 20, "burst": 3}}
    tenant_id = make_tenant(db, settings={"rate_limits": limits})
    ids = make_messages(db, tenant_id, make_leads(db, tenant_id, 5))
    settings = sendgrid_settings(sendgrid)

    first = send.send_due(settings=settings)
    waiting = [row for row in rows(db, ids) if row["status"] == "pending"]

    assert (first["sent"], first["rate_limited"]) == (3, 2)
    assert all(row["scheduled_for"] > row["claimed_at"] for row in waiting)
    assert all(row["attempts"] == 0 and row["last_error"] == "rate limited" for row in waiting)
    # The two wait for successive tokens (50 ms apart at 20/s), not for the same instant.
    delays = sorted(row["scheduled_for"] - row["claimed_at"] for row in waiting)
    assert delays[0] < delays[1] <= timedelta(seconds=1)

    threading.Event().wait(0.2)  # the bucket refills in real (Redis) time
    second = send.send_due(settings=settings, now=later(seconds=5))

    assert second["sent"] == 2
    assert status_counts(db) == {"sent": 5}
    assert all(sendgrid.accepted[str(i)] == 1 for i in ids)


def test_token_buckets_take_from_every_bucket_or_from_none(redis_conn: redis.Redis) -> None:
    from app.domain.rate_limits import Bucket, Limit

    buckets = TokenBuckets(redis_conn)
    tight = Bucket("lre:rl:test:tight", Limit(per_second=1, burst=1))
    roomy = Bucket("lre:rl:test:roomy", Limit(per_second=1, burst=2))

    waits = buckets.take([[tight, roomy], [tight, roomy], [roomy]])

    assert waits[0] == 0
    assert 0 < waits[1] <= 1.0  # tight is empty: denied, and roomy keeps its token ...
    assert waits[2] == 0  # ... for the third message


# --- crash safety and concurrency -------------------------------------------------------------


def test_two_concurrent_senders_never_send_a_row_twice(db: Engine, sendgrid: FakeSendGrid) -> None:
    tenant_id = make_tenant(db)
    ids = make_messages(db, tenant_id, make_leads(db, tenant_id, 600))
    settings = sendgrid_settings(sendgrid)
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []

    def worker() -> None:
        start.wait()
        results.append(send.send_due(settings=settings, batch=40, max_batches=100))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r["sent"] for r in results) == 600
    assert all(r["sent"] > 0 for r in results)  # both really worked
    assert status_counts(db) == {"sent": 600}
    assert {sendgrid.calls[str(i)] for i in ids} == {1}


def test_reconcile_holds_lost_sends_and_releases_only_sandbox_ones(db: Engine) -> None:
    tenant_id = make_tenant(db)
    lost_real, lost_sandbox, in_flight = make_messages(db, tenant_id, make_leads(db, tenant_id, 3))
    with db.begin() as conn:
        conn.execute(
            sa.text("""
                UPDATE outbound_messages SET status = 'sending', attempts = 1,
                    provider = CASE id WHEN :sandbox THEN 'sandbox' ELSE 'sendgrid' END,
                    claimed_at = CASE id WHEN :fresh THEN now() ELSE now() - interval '20 minutes' END
            """),
            {"sandbox": lost_sandbox, "fresh": in_flight},
        )

    counts = send.reconcile_stale(older_than=timedelta(minutes=10))

    status = {row["id"]: row for row in rows(db)}
    assert counts == {"held": 1, "released": 1}
    assert status[lost_real]["status"] == "held"
    assert "never re-sent" in status[lost_real]["last_error"]
    assert (status[lost_sandbox]["status"], status[lost_sandbox]["attempts"]) == ("pending", 0)
    assert status[in_flight]["status"] == "sending"


def test_a_late_answer_is_recorded_over_held_but_never_over_a_later_attempt(db: Engine) -> None:
    tenant_id = make_tenant(db)
    held, reclaimed = make_messages(db, tenant_id, make_leads(db, tenant_id, 2))
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE outbound_messages SET status = 'held', attempts = 1 WHERE id = :i"), {"i": held})
        conn.execute(
            sa.text("UPDATE outbound_messages SET status = 'sending', attempts = 2 WHERE id = :i"), {"i": reclaimed}
        )

    send_record.record(
        {held: 1, reclaimed: 1}, [SendResult.accepted(held, "late-1"), SendResult.accepted(reclaimed, "late-2")]
    )

    status = {row["id"]: row for row in rows(db)}
    assert (status[held]["status"], status[held]["provider_message_id"]) == ("sent", "late-1")
    assert (status[reclaimed]["status"], status[reclaimed]["provider_message_id"]) == ("sending", None)
