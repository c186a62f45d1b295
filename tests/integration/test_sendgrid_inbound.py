"""SendGrid Inbound Parse over HTTP (FastAPI's TestClient, real PostgreSQL and Redis): real multipart
bodies as SendGrid posts them, matched by the signed Reply-To or by In-Reply-To, each checked in SQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api import create_app
from app.domain.reply_address import reply_address
from app.web import sendgrid_inbound
from app.web.twilio import webhook_settings
from tests.integration.outbox import make_leads, make_messages, make_tenant
from tests.integration.twilio_door import AT, deliveries, enroll, settings, snapshot, sql

SECRET = "inbound-" + "x" * 40
SECRET_KEY = "test-secret-key-for-reply-tokens"
PATH = f"/webhooks/sendgrid/inbound/{SECRET}"
LEAD_EMAIL = "lead1@example.com"  # make_leads: lead<n>@example.com
X_MESSAGE_ID = "Xm5gQ2ZrR1aYs0Gx3l9q1w"
REPLY = (
    "Yes please, call me on Tuesday.\r\n\r\n"
    "On Mon, Dec 1, 2026 at 3:00 PM Acme Sales <sales@acme.example> wrote:\r\n"
    "> Hi Lead1, shall we pick up where we left off?\r\n"
)


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


@pytest.fixture
def client(db: Engine) -> Iterator[TestClient]:
    api = create_app()
    config = settings(sendgrid_inbound_secret=SECRET, secret_key=SECRET_KEY)
    api.dependency_overrides[webhook_settings] = lambda: config
    api.dependency_overrides[sendgrid_inbound.clock] = lambda: AT
    with TestClient(api) as c:
        yield c


@pytest.fixture
def emailed(db: Engine) -> dict[str, int]:
    """Acme emailed lead 1 (SendGrid answered X_MESSAGE_ID); lead 1 is in a recovery with one more email pending."""
    tenant = make_tenant(db)
    lead, other = make_leads(db, tenant, 2)
    (sent,) = make_messages(db, tenant, [lead], node="rung-1")
    (pending,) = make_messages(db, tenant, [lead], node="rung-2")
    sql(
        db,
        """UPDATE outbound_messages SET status = 'sent', provider = 'sendgrid', attempts = 1,
                  provider_message_id = :x, sent_at = now() WHERE id = :id""",
        x=X_MESSAGE_ID,
        id=sent,
    )
    enrollment, _ = enroll(db, tenant, [lead, other])
    sql(db, "UPDATE outbound_messages SET enrollment_id = :e WHERE id = :m", e=enrollment, m=pending)
    sql(db, "UPDATE leads SET recovery_state = 'in_recovery', silence_level = 2, last_activity_at = :at", at=AT)
    sql(db, "UPDATE leads SET last_activity_at = :at - interval '3 days' WHERE id = :id", at=AT, id=lead)
    return {"tenant": tenant, "lead": lead, "other": other, "sent": sent, "pending": pending, "enrollment": enrollment}


def parse_fields(
    *, to: str, text: str = REPLY, headers: str = "", sender: str = f"Lead One <{LEAD_EMAIL}>"
) -> dict[str, str]:
    """The text fields of a SendGrid Inbound Parse post (the raw-headers variant is off)."""
    return {
        "headers": headers or f"Message-ID: <CAF1reply@mail.gmail.com>\nFrom: {sender}\nTo: {to}\nSubject: Re: hi\n",
        "dkim": "{@gmail.com : pass}",
        "to": to,
        "from": sender,
        "subject": "Re: Still thinking it over, Lead1?",
        "text": text,
        "html": "<div>Yes please</div>",
        "sender_ip": "209.85.128.1",
        "envelope": '{"to":["' + to.split("<")[-1].rstrip(">") + '"],"from":"' + LEAD_EMAIL + '"}',
        "attachments": "1",
        "charsets": '{"to":"UTF-8","html":"UTF-8","subject":"UTF-8","from":"UTF-8","text":"UTF-8"}',
        "SPF": "pass",
    }


def post(client: TestClient, fields: dict[str, str], *, path: str = PATH, attach: bool = True) -> Any:
    """multipart/form-data as SendGrid always sends it, with or without an attachment."""
    parts: list[tuple[str, tuple[str | None, Any] | tuple[str, bytes, str]]] = [
        (name, (None, value)) for name, value in fields.items()
    ]
    if attach:
        parts.append(("attachment1", ("invoice.pdf", b"%PDF-1.4 not really", "application/pdf")))
    return client.post(path, files=parts)


def test_a_reply_to_the_signed_reply_to_is_stored_once_resets_silence_and_stops_the_recovery(
    emailed: dict[str, int], client: TestClient, db: Engine, redis_conn: redis.Redis
) -> None:
    to = reply_address(SECRET_KEY, tenant_id=emailed["tenant"], message_id=emailed["sent"], domain="reply.lre.example")

    first = post(client, parse_fields(to=to))
    again = post(client, parse_fields(to=to))  # SendGrid retrying the same email

    assert (first.status_code, first.json(), again.status_code) == (200, {"matched": True}, 200)
    [inbound] = sql(db, "SELECT * FROM inbound_messages")
    assert (
        inbound.tenant_id,
        inbound.lead_id,
        inbound.message_id,
        inbound.channel,
        inbound.from_address,
        inbound.body,
        inbound.provider_message_id,
        inbound.received_at,
    ) == (
        emailed["tenant"],
        emailed["lead"],
        emailed["sent"],
        "email",
        LEAD_EMAIL,
        "Yes please, call me on Tuesday.",
        "email:CAF1reply@mail.gmail.com",
        AT,
    )
    [activity] = sql(db, "SELECT lead_id, kind, channel, occurred_at, details FROM activities")
    assert (activity.lead_id, activity.kind, activity.channel, activity.occurred_at) == (
        emailed["lead"],
        "email_in",
        "email",
        AT,
    )
    assert activity.details == {"inbound_message_id": inbound.id, "message_id": emailed["sent"]}
    lead = sql(
        db, "SELECT recovery_state, silence_level, last_activity_at FROM leads WHERE id = :id", id=emailed["lead"]
    )
    assert tuple(lead[0]) == ("replied", 0, AT)
    assert dict(sql(db, "SELECT lead_id, status FROM enrollments")) == {
        emailed["lead"]: "stopped",
        emailed["other"]: "active",
    }
    audit, triaged = sql(db, "SELECT enrollment_id, event, reason, at FROM campaign_transitions ORDER BY id")
    assert tuple(audit) == (emailed["enrollment"], "replied", "the lead replied by email", AT)
    # then triage reads the reply and records what it decided, on the same enrollment
    assert (triaged.enrollment_id, triaged.at) == (emailed["enrollment"], AT)
    assert triaged.event.startswith("triage_")
    assert dict(sql(db, "SELECT id, status FROM outbound_messages")) == {
        emailed["sent"]: "sent",
        emailed["pending"]: "canceled",
    }
    stored = deliveries(db)
    assert [(d.provider, d.endpoint, d.result, d.applied_count, d.duplicate_count) for d in stored] == [
        ("sendgrid", "sendgrid/inbound", "applied", 1, 0),
        ("sendgrid", "sendgrid/inbound", "applied", 0, 1),
    ]
    assert "invoice.pdf" not in stored[0].body
    assert '"attachments_dropped": "1"' in stored[0].body
    assert redis_conn.smembers(f"lre:scores:pending:{emailed['tenant']}") == {str(emailed["lead"]).encode()}


def test_without_the_reply_to_in_reply_to_matches_sendgrids_message_id(
    emailed: dict[str, int], client: TestClient, db: Engine
) -> None:
    headers = (
        "Message-ID: <CAF2@mail.gmail.com>\n"
        f"In-Reply-To: <{X_MESSAGE_ID}.filterdrecv-5f9c-1-6745-2A-0@ismtpd0001p1iad1.sendgrid.net>\n"
        f"References:\n <{X_MESSAGE_ID}.filterdrecv-5f9c-1-6745-2A-0@ismtpd0001p1iad1.sendgrid.net>\n"
    )
    fields = parse_fields(to="sales@acme.example", headers=headers, text="Not now.\n\n-- \nLead One\n")

    response = post(client, fields, attach=False)

    assert response.json() == {"matched": True}
    assert [tuple(r) for r in sql(db, "SELECT lead_id, message_id, body FROM inbound_messages")] == [
        (emailed["lead"], emailed["sent"], "Not now.")
    ]


def test_in_reply_to_from_another_address_or_a_forged_token_matches_nothing(
    emailed: dict[str, int], client: TestClient, db: Engine
) -> None:
    headers = f"Message-ID: <CAF3@x>\nIn-Reply-To: <{X_MESSAGE_ID}.filter@sendgrid.net>\n"
    forged = reply_address("not-our-key", tenant_id=emailed["tenant"], message_id=emailed["sent"], domain="r.example")
    before = snapshot(db)

    stranger = post(client, parse_fields(to="sales@acme.example", headers=headers, sender="x@elsewhere.example"))
    forgery = post(client, parse_fields(to=forged))

    assert (stranger.json(), forgery.json()) == ({"matched": False}, {"matched": False})
    assert snapshot(db) == before
    assert [(d.result, d.unmatched_count, d.tenant_id) for d in deliveries(db)] == [
        ("applied", 1, None),
        ("applied", 1, None),
    ]


def test_a_wrong_secret_is_404_and_stores_nothing(emailed: dict[str, int], client: TestClient, db: Engine) -> None:
    to = reply_address(SECRET_KEY, tenant_id=emailed["tenant"], message_id=emailed["sent"], domain="r.example")
    before = snapshot(db)

    response = post(client, parse_fields(to=to), path="/webhooks/sendgrid/inbound/" + "y" * 48)

    assert response.status_code == 404
    assert snapshot(db) == before
    assert deliveries(db) == []


def test_bad_bodies_get_415_400_413_and_change_nothing(emailed: dict[str, int], client: TestClient, db: Engine) -> None:
    before = snapshot(db)

    as_json = client.post(PATH, json={"from": LEAD_EMAIL, "text": "hi"})
    broken = client.post(
        PATH,
        content=b"--b\r\nContent-Disposition: form-data\r\n\r\nno name",
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    no_sender = client.post(PATH, data={"to": "sales@acme.example", "text": "hi"}, files={"f": ("a.txt", b"a")})
    too_big = client.post(
        PATH,
        content=b"x",
        headers={"content-type": "multipart/form-data; boundary=b", "content-length": str(31 * 1024 * 1024)},
    )

    assert [r.status_code for r in (as_json, broken, no_sender, too_big)] == [415, 400, 400, 413]
    assert snapshot(db) == before
    assert [(d.result, d.error.split(":")[0]) for d in deliveries(db)] == [
        ("rejected", "expected multipart/form-data, got application/json"),
        ("rejected", "malformed multipart body"),
        ("rejected", "not an inbound email"),
        ("rejected", "body of 32505856 bytes is over the 31457280 byte limit"),
    ]
