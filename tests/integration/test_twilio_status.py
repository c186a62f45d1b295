"""Twilio status callbacks through the door: signed POSTs over HTTP, stored, then applied by the
listener job on a real RQ worker, and the outbox, events, suppressions and leads read back in SQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.services import send
from app.settings import load_settings
from tests.fakes import twilio_server
from tests.fakes.twilio_server import FakeTwilio
from tests.integration.outbox import make_leads, make_messages, make_tenant
from tests.integration.twilio_door import (
    PUBLIC,
    SHARED_NUMBER,
    STATUS,
    TOKEN,
    client_for,
    deliveries,
    enroll,
    mark_sent,
    post,
    run_worker,
    settings,
    signature,
    sql,
    status_fields,
    tenant_snapshot,
)
from tests.support import midday_zone

PHONES = ["+15550000001", "+15550000002", "+15550000003"]  # make_leads' numbers for leads 1..3


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


@pytest.fixture
def client(db: Engine) -> Iterator[TestClient]:
    with client_for(settings()) as c:
        yield c


@pytest.fixture
def sent(db: Engine) -> dict[str, int]:
    """Acme texted three leads; Twilio accepted each (SM1..SM3); lead 1 is in an active recovery."""
    tenant = make_tenant(db)
    leads = make_leads(db, tenant, 3)
    messages = make_messages(db, tenant, leads, channel="sms")
    for n, message in enumerate(messages, start=1):
        mark_sent(db, message, f"SM{n}")
    (enrollment,) = enroll(db, tenant, leads[:1])
    return {"tenant": tenant, "enrollment": enrollment, **{f"lead{n}": i for n, i in enumerate(leads, start=1)}} | {
        f"m{n}": i for n, i in enumerate(messages, start=1)
    }


def callback(
    client: TestClient, db: Engine, message_id: int, sid: str, status: str, error_code: str | None = None
) -> None:
    """Twilio's callback for our message, at the URL the sender gave it (`?m=<id>`), from the number it went to."""
    [(to,)] = sql(db, "SELECT to_address FROM outbound_messages WHERE id = :id", id=message_id)
    answer = post(client, STATUS, status_fields(sid, status, to=to, error_code=error_code), query=f"m={message_id}")
    assert answer.status_code == 204


def test_a_real_sends_callback_url_finds_its_row_and_delivered_is_recorded_once(
    db: Engine, redis_conn: redis.Redis
) -> None:
    """Send through the real SDK to the fake Twilio, then call back the exact URL Twilio was given."""
    tenant = make_tenant(db)
    lead_ids = make_leads(db, tenant, 1, timezone=midday_zone())  # inside the SMS hours now, whatever the hour
    (message,) = make_messages(db, tenant, lead_ids, channel="sms")
    with FakeTwilio(auth_token=TOKEN) as fake:
        send.send_due(
            settings=load_settings(
                sms_provider="twilio",
                twilio_account_sid=twilio_server.ACCOUNT_SID,
                twilio_auth_token=TOKEN,
                twilio_api_base_url=fake.url,
                twilio_from_number=SHARED_NUMBER,
                public_base_url=PUBLIC,
            )
        )
        [form] = fake.forms()
    url = form["StatusCallback"]
    [row] = sql(db, "SELECT provider_message_id, to_address FROM outbound_messages")
    fields = status_fields(row.provider_message_id, "delivered", to=row.to_address)
    with client_for(settings()) as client:
        for _ in range(3):  # Twilio retries: stored three times, applied once
            answer = client.post(
                url.removeprefix(PUBLIC), data=fields, headers={"X-Twilio-Signature": signature(url, fields)}
            )
            assert answer.status_code == 204
    run_worker(redis_conn)

    [after] = sql(db, "SELECT status, delivered_at FROM outbound_messages WHERE id = :id", id=message)
    first = deliveries(db)[0]
    assert (after.status, after.delivered_at) == ("delivered", first.received_at)
    events = sql(db, "SELECT message_id, event_type, provider_event_id, occurred_at, channel FROM message_events")
    assert [tuple(e) for e in events] == [
        (message, "delivered", f"{row.provider_message_id}:delivered", first.received_at, "sms")
    ]
    assert [(d.result, d.applied_count, d.duplicate_count) for d in deliveries(db)] == [
        ("applied", 1, 0),
        ("applied", 0, 1),
        ("applied", 0, 1),
    ]


def test_statuses_only_move_forward_in_any_order(
    sent: dict[str, int], client: TestClient, db: Engine, redis_conn: redis.Redis
) -> None:
    callback(client, db, sent["m1"], "SM1", "delivered")
    run_worker(redis_conn)
    callback(client, db, sent["m1"], "SM1", "sent")  # late, out of order
    callback(client, db, sent["m2"], "SM2", "sent")  # in order, both in one applier batch
    callback(client, db, sent["m2"], "SM2", "delivered")
    callback(client, db, sent["m3"], "SM3", "undelivered", "30003")
    callback(client, db, sent["m3"], "SM3", "delivered")  # a final status is final
    callback(client, db, sent["m1"], "SM1", "delivered")  # a repeat of the first batch's callback
    run_worker(redis_conn)

    statuses = {r.id: (r.status, r.error_code) for r in sql(db, "SELECT id, status, error_code FROM outbound_messages")}
    assert statuses == {
        sent["m1"]: ("delivered", None),
        sent["m2"]: ("delivered", None),
        sent["m3"]: ("failed", "30003"),
    }
    events = sorted(tuple(r) for r in sql(db, "SELECT message_id, event_type FROM message_events"))
    assert events == sorted(
        [
            (sent["m1"], "delivered"),
            (sent["m1"], "sent"),
            (sent["m2"], "sent"),
            (sent["m2"], "delivered"),
            (sent["m3"], "undelivered"),
            (sent["m3"], "delivered"),
        ]
    )
    assert [(d.result, d.applied_count, d.duplicate_count) for d in deliveries(db)] == [
        *[("applied", 1, 0)] * 6,  # the first batch, then five new callbacks
        ("applied", 0, 1),
    ]


def test_a_late_callback_resolves_a_held_row(db: Engine, client: TestClient, redis_conn: redis.Redis) -> None:
    tenant = make_tenant(db)
    queued, filtered = make_messages(db, tenant, make_leads(db, tenant, 2), channel="sms")
    mark_sent(db, queued, "", status="held")
    mark_sent(db, filtered, "", status="held")

    callback(client, db, queued, "SMheld1", "queued")  # proves Twilio has it: sent, though not an event of its own
    callback(client, db, filtered, "SMheld2", "undelivered", "30007")
    run_worker(redis_conn)

    rows = {
        r.id: tuple(r)[1:]
        for r in sql(db, "SELECT id, status, provider_message_id, last_error, error_code FROM outbound_messages")
    }
    assert rows == {
        queued: ("sent", "SMheld1", None, None),
        filtered: ("failed", "SMheld2", "Twilio undelivered (30007)", "30007"),
    }
    [queued_at] = sql(db, "SELECT received_at FROM webhook_deliveries ORDER BY id LIMIT 1")
    assert sql(db, "SELECT sent_at FROM outbound_messages WHERE id = :id", id=queued)[0][0] == queued_at[0]
    assert [tuple(r) for r in sql(db, "SELECT message_id, event_type FROM message_events")] == [
        (filtered, "undelivered")
    ]


def test_21610_suppresses_the_number_and_stops_the_recovery(
    sent: dict[str, int], client: TestClient, db: Engine, redis_conn: redis.Redis
) -> None:
    (later,) = make_messages(db, sent["tenant"], [sent["lead1"]], channel="sms", node="rung-2")

    callback(client, db, sent["m1"], "SM1", "failed", "21610")
    run_worker(redis_conn)

    assert [tuple(r) for r in sql(db, "SELECT tenant_id, channel, address, reason FROM suppressions")] == [
        (sent["tenant"], "sms", PHONES[0], "stop")
    ]
    outbox = dict(sql(db, "SELECT id, status FROM outbound_messages WHERE lead_id = :l", l=sent["lead1"]))
    assert outbox == {sent["m1"]: "failed", later: "suppressed"}
    assert [tuple(r) for r in sql(db, "SELECT enrollment_id, event FROM campaign_transitions")] == [
        (sent["enrollment"], "stop")
    ]
    assert sql(db, "SELECT status FROM enrollments")[0][0] == "stopped"


def test_21211_and_21614_mark_the_phone_unreachable_while_the_lead_still_has_it(
    sent: dict[str, int], client: TestClient, db: Engine, redis_conn: redis.Redis
) -> None:
    sql(db, "UPDATE leads SET phone = '+15559990000' WHERE id = :id", id=sent["lead3"])  # changed since the send

    callback(client, db, sent["m1"], "SM1", "failed", "21211")
    callback(client, db, sent["m2"], "SM2", "undelivered", "21614")
    callback(client, db, sent["m3"], "SM3", "failed", "21211")
    run_worker(redis_conn)

    unreachable = dict(sql(db, "SELECT id, phone_unreachable FROM leads"))
    assert unreachable == {
        sent["lead1"]: "invalid number (Twilio 21211)",
        sent["lead2"]: "not a mobile number (Twilio 21614)",
        sent["lead3"]: None,
    }
    assert sql(db, "SELECT count(*) FROM suppressions")[0][0] == 0


def test_unknown_messages_and_statuses_are_stored_counted_and_not_applied(
    sent: dict[str, int], client: TestClient, db: Engine, redis_conn: redis.Redis
) -> None:
    before = tenant_snapshot(db, sent["tenant"])
    post(client, STATUS, status_fields("SMnotours", "delivered", to=PHONES[0]), query="m=999999")
    post(client, STATUS, status_fields("SMnotours", "delivered", to=PHONES[0]))
    post(client, STATUS, status_fields("SM1", "read", to=PHONES[0]), query=f"m={sent['m1']}")
    run_worker(redis_conn)

    assert tenant_snapshot(db, sent["tenant"]) == before
    assert [(d.result, d.unmatched_count, d.ignored_count, d.applied_count) for d in deliveries(db)] == [
        ("applied", 1, 0, 0),
        ("applied", 1, 0, 0),
        ("applied", 0, 1, 0),
    ]


def test_another_tenants_rows_are_untouched(
    sent: dict[str, int], client: TestClient, db: Engine, redis_conn: redis.Redis
) -> None:
    other = make_tenant(db, slug="other")
    (their_message,) = make_messages(db, other, make_leads(db, other, 1), channel="sms")
    mark_sent(db, their_message, "SMtheirs")
    enroll(db, other, [r.id for r in sql(db, "SELECT id FROM leads WHERE tenant_id = :t", t=other)])
    theirs = tenant_snapshot(db, other)

    callback(client, db, sent["m1"], "SM1", "failed", "21610")  # their lead has the same phone number as ours
    callback(client, db, sent["m2"], "SM2", "failed", "21211")
    callback(client, db, sent["m3"], "SM3", "delivered")
    run_worker(redis_conn)

    assert tenant_snapshot(db, other) == theirs
    assert sql(db, "SELECT count(*) FROM suppressions WHERE tenant_id = :t", t=sent["tenant"])[0][0] == 1
