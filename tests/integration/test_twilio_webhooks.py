"""Twilio's doors over HTTP (FastAPI's TestClient, real PostgreSQL and Redis): signatures made with
the SDK's own validator, refusals that change nothing but the delivery log, and texts in
(STOP and its variants, HELP, START, replies), each checked in SQL afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import runtime
from app.api import create_app
from app.web.twilio import clock, webhook_settings
from tests.integration.outbox import make_leads, make_messages, make_tenant
from tests.integration.twilio_door import (
    AT,
    PUBLIC,
    SHARED_NUMBER,
    SMS,
    STATUS,
    client_for,
    deliveries,
    enroll,
    mark_sent,
    post,
    settings,
    signature,
    snapshot,
    sql,
    status_fields,
    tenant_snapshot,
    text_fields,
)
from tests.support import free_port

LEAD_PHONE = "+15550000001"  # make_leads: '+1555' || lpad(n, 7, '0'), lead 1
XML = '<?xml version="1.0" encoding="UTF-8"?>'
EMPTY_TWIML = XML + "<Response />"
STOP_TWIML = (
    XML + "<Response><Message>Acme: you are unsubscribed and will receive no more messages from us. "
    "Reply START to resubscribe.</Message></Response>"
)


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


@pytest.fixture
def client(db: Engine) -> Iterator[TestClient]:
    with client_for(settings()) as c:
        yield c


@pytest.fixture
def texted(db: Engine) -> dict[str, int]:
    """Acme (on the shared number) texted lead 1, who is in an active recovery and has one more text pending."""
    tenant = make_tenant(db)
    lead, other = make_leads(db, tenant, 2)
    (sent,) = make_messages(db, tenant, [lead], channel="sms", node="rung-1")
    (pending,) = make_messages(db, tenant, [lead], channel="sms", node="rung-2")
    mark_sent(db, sent, "SMsent1")
    enrollment, _ = enroll(db, tenant, [lead, other])
    sql(db, "UPDATE outbound_messages SET enrollment_id = :e WHERE id = :m", e=enrollment, m=pending)
    sql(db, "UPDATE leads SET recovery_state = 'in_recovery', silence_level = 2, last_activity_at = :at", at=AT)
    sql(db, "UPDATE leads SET last_activity_at = :at - interval '3 days' WHERE id = :id", at=AT, id=lead)
    return {"tenant": tenant, "lead": lead, "other": other, "sent": sent, "pending": pending, "enrollment": enrollment}


# --- refusals: 403, 415, 400, 413, each stored as a rejected delivery and nothing else -----------


@pytest.mark.parametrize("path", [STATUS, SMS])
def test_a_missing_or_wrong_signature_is_refused_and_changes_nothing(
    texted: dict[str, int], client: TestClient, db: Engine, path: str
) -> None:
    before = snapshot(db)
    stop = text_fields("SMstop1", "STOP", sender=LEAD_PHONE)
    tampered = {**stop, "From": "+15550000002"}  # signed for lead 1, sent for lead 2

    unsigned = post(client, path, stop, sign=False)
    forged = post(client, path, tampered, signed_fields=stop)
    wrong_key = post(client, path, stop, token="another-account-token")
    wrong_url = client.post(path + "?m=1", data=stop, headers={"X-Twilio-Signature": signature(PUBLIC + path, stop)})

    assert [r.status_code for r in (unsigned, forged, wrong_key, wrong_url)] == [403, 403, 403, 403]
    assert snapshot(db) == before
    stored = deliveries(db)
    assert [(d.result, d.signature_valid, d.error) for d in stored] == [
        ("rejected", False, "missing X-Twilio-Signature"),
        ("rejected", False, "X-Twilio-Signature does not match"),
        ("rejected", False, "X-Twilio-Signature does not match"),
        ("rejected", False, "X-Twilio-Signature does not match"),
    ]
    assert stored[1].body == urlencode(tampered)
    assert {d.endpoint for d in stored} == {path.removeprefix("/webhooks/")}


def test_without_an_auth_token_nothing_is_accepted(texted: dict[str, int], db: Engine) -> None:
    before = snapshot(db)
    with client_for(settings(twilio_auth_token=None)) as unconfigured:
        answer = post(unconfigured, SMS, text_fields("SMstop1", "STOP", sender=LEAD_PHONE))
    assert answer.status_code == 403
    assert snapshot(db) == before
    [stored] = deliveries(db)
    assert (stored.result, stored.error) == (
        "rejected",
        "no Twilio auth token configured: signatures cannot be checked",
    )


@pytest.mark.parametrize("path", [STATUS, SMS])
def test_bad_bodies_get_415_400_413_and_change_nothing(
    texted: dict[str, int], client: TestClient, db: Engine, path: str
) -> None:
    before = snapshot(db)
    stop = text_fields("SMstop1", "STOP", sender=LEAD_PHONE)
    headers = {"X-Twilio-Signature": signature(PUBLIC + path, stop)}

    as_json = client.post(path, json=stop, headers=headers)
    broken = client.post(
        path, content=b"MessageSid=SM1&&Body", headers={**headers, "Content-Type": "application/x-www-form-urlencoded"}
    )
    not_utf8 = client.post(
        path, content=b"Body=%ff%fe", headers={**headers, "Content-Type": "application/x-www-form-urlencoded"}
    )
    huge = client.post(
        path,
        content=b"Body=" + b"x" * (5 * 1024 * 1024),  # 5 MB of text plus the field name: over the limit
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert [r.status_code for r in (as_json, broken, not_utf8, huge)] == [415, 400, 400, 413]
    assert snapshot(db) == before
    stored = deliveries(db)
    assert [d.result for d in stored] == ["rejected"] * 4
    assert stored[0].error == "expected application/x-www-form-urlencoded, got application/json"
    assert stored[1].body == "MessageSid=SM1&&Body"
    assert stored[3].body == ""  # an oversized body is not kept


# --- opt-out words --------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [" stop ", "Stop.", "OPT OUT", "stopall", "unsubscribe!"])
def test_an_opt_out_word_suppresses_the_number_at_once_and_confirms_once(
    texted: dict[str, int], client: TestClient, db: Engine, body: str
) -> None:
    answer = post(client, SMS, text_fields("SMstop1", body, sender=LEAD_PHONE))

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/xml")
    assert answer.text == STOP_TWIML
    suppressions = sql(db, "SELECT tenant_id, channel, address, reason FROM suppressions")
    assert [tuple(s) for s in suppressions] == [(texted["tenant"], "sms", LEAD_PHONE, "stop")]
    outbox = dict(sql(db, "SELECT id, status FROM outbound_messages"))
    assert outbox == {texted["sent"]: "sent", texted["pending"]: "suppressed"}
    enrollments = dict(sql(db, "SELECT lead_id, status FROM enrollments"))
    assert enrollments == {texted["lead"]: "stopped", texted["other"]: "active"}
    [audit] = sql(db, "SELECT enrollment_id, event, at FROM campaign_transitions")
    assert tuple(audit) == (texted["enrollment"], "stop", AT)
    [event] = sql(db, "SELECT message_id, lead_id, event_type, provider_event_id FROM message_events")
    assert tuple(event) == (texted["sent"], texted["lead"], "unsubscribe", "SMstop1:stop")
    assert sql(db, "SELECT count(*) FROM inbound_messages")[0][0] == 0  # an opt-out is not a reply
    [stored] = deliveries(db)
    assert (stored.result, stored.tenant_id, stored.applied_count, stored.signature_valid) == (
        "applied",
        texted["tenant"],
        1,
        True,
    )


def test_stop_twice_keeps_one_suppression_and_one_event(texted: dict[str, int], client: TestClient, db: Engine) -> None:
    first = post(client, SMS, text_fields("SMstop1", "STOP", sender=LEAD_PHONE))
    again = post(client, SMS, text_fields("SMstop1", "STOP", sender=LEAD_PHONE))  # Twilio retried the same text

    assert (first.text, again.text) == (STOP_TWIML, STOP_TWIML)
    assert sql(db, "SELECT count(*) FROM suppressions")[0][0] == 1
    assert sql(db, "SELECT count(*) FROM message_events")[0][0] == 1
    assert sql(db, "SELECT count(*) FROM campaign_transitions")[0][0] == 1


def test_a_sentence_that_starts_with_stop_is_a_reply(texted: dict[str, int], client: TestClient, db: Engine) -> None:
    answer = post(client, SMS, text_fields("SMreply1", "stop by tomorrow please", sender=LEAD_PHONE))

    assert answer.text == EMPTY_TWIML
    assert sql(db, "SELECT count(*) FROM suppressions")[0][0] == 0
    assert [r.body for r in sql(db, "SELECT body FROM inbound_messages")] == ["stop by tomorrow please"]
    assert dict(sql(db, "SELECT lead_id, status FROM enrollments"))[texted["lead"]] == "stopped"
    events = [r.event for r in sql(db, "SELECT event FROM campaign_transitions ORDER BY id")]
    assert events == ["replied", "triage_unsubscribe"]  # read as an opt-out by the model only: a person decides
    assert [tuple(r) for r in sql(db, "SELECT intent, alert FROM inbound_messages")] == [("unsubscribe", True)]


def test_help_answers_the_business_and_its_contact_and_changes_nothing(
    texted: dict[str, int], client: TestClient, db: Engine
) -> None:
    before = snapshot(db)

    answer = post(client, SMS, text_fields("SMhelp1", "Help?", sender=LEAD_PHONE))

    # make_tenant: name Acme, sender Acme Sales <sales@acme.example>, no number of its own (the shared one).
    assert answer.text == (
        XML + "<Response><Message>Acme: messages about your enquiry. Contact Acme Sales at sales@acme.example or "
        f"{SHARED_NUMBER}. Reply STOP to opt out. Msg &amp; data rates may apply.</Message></Response>"
    )
    assert snapshot(db) == before
    assert [(d.result, d.applied_count) for d in deliveries(db)] == [("applied", 1)]


def test_start_after_stop_resubscribes(texted: dict[str, int], client: TestClient, db: Engine) -> None:
    post(client, SMS, text_fields("SMstop1", "STOP", sender=LEAD_PHONE))
    sql(
        db,
        "INSERT INTO suppressions (tenant_id, channel, address, reason) VALUES (:t, 'email', 'lead1@example.com', "
        "'unsubscribe')",
        t=texted["tenant"],
    )

    answer = post(client, SMS, text_fields("SMstart1", "Start", sender=LEAD_PHONE))

    assert answer.text == (
        XML + "<Response><Message>Acme: you are resubscribed to our messages. Reply HELP for help, STOP to opt out."
        "</Message></Response>"
    )
    remaining = [tuple(r) for r in sql(db, "SELECT channel, address, reason FROM suppressions")]
    assert remaining == [("email", "lead1@example.com", "unsubscribe")]  # START lifts only the text opt-out


# --- replies --------------------------------------------------------------------------------------


def test_a_reply_is_stored_once_resets_silence_and_stops_the_recovery(
    texted: dict[str, int], client: TestClient, db: Engine, redis_conn: redis.Redis
) -> None:
    text = text_fields("SMreply1", "Yes, can you call me Tuesday?", sender=LEAD_PHONE)

    first = post(client, SMS, text)
    again = post(client, SMS, text)  # the same MessageSid again

    assert (first.text, again.text) == (EMPTY_TWIML, EMPTY_TWIML)
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
        inbound.intent,
        inbound.handled_at,
    ) == (
        texted["tenant"],
        texted["lead"],
        texted["sent"],
        "sms",
        LEAD_PHONE,
        "Yes, can you call me Tuesday?",
        "SMreply1",
        AT,
        "interested",
        None,
    )
    [activity] = sql(db, "SELECT lead_id, kind, channel, occurred_at, details FROM activities")
    assert (activity.lead_id, activity.kind, activity.channel, activity.occurred_at) == (
        texted["lead"],
        "sms_in",
        "sms",
        AT,
    )
    assert activity.details == {"inbound_message_id": inbound.id, "message_id": texted["sent"]}
    lead = sql(
        db, "SELECT recovery_state, silence_level, last_activity_at FROM leads WHERE id = :id", id=texted["lead"]
    )
    assert tuple(lead[0]) == ("replied", 0, AT)
    enrollments = dict(sql(db, "SELECT lead_id, status FROM enrollments"))
    assert enrollments == {texted["lead"]: "stopped", texted["other"]: "active"}
    audit, triaged = sql(db, "SELECT enrollment_id, event, reason, at FROM campaign_transitions ORDER BY id")
    assert tuple(audit) == (texted["enrollment"], "replied", "the lead replied by SMS", AT)
    assert (triaged.enrollment_id, triaged.event, triaged.at) == (texted["enrollment"], "triage_interested", AT)
    outbox = dict(sql(db, "SELECT id, status FROM outbound_messages"))
    assert outbox == {texted["sent"]: "sent", texted["pending"]: "canceled"}
    assert [(d.applied_count, d.duplicate_count) for d in deliveries(db)] == [(1, 0), (0, 1)]
    assert redis_conn.smembers(f"lre:scores:pending:{texted['tenant']}") == {str(texted["lead"]).encode()}


def test_a_text_goes_to_the_tenant_that_texted_that_number_last(db: Engine, client: TestClient) -> None:
    """Two tenants share the default number and both texted the same phone: the later one owns the reply."""
    earlier, later = make_tenant(db, slug="earlier"), make_tenant(db, slug="later")
    (earlier_lead,), (later_lead,) = make_leads(db, earlier, 1), make_leads(db, later, 1)
    (first,) = make_messages(db, earlier, [earlier_lead], channel="sms")
    (second,) = make_messages(db, later, [later_lead], channel="sms")
    mark_sent(db, first, "SMearlier")
    mark_sent(db, second, "SMlater")
    sql(db, "UPDATE outbound_messages SET sent_at = :at - interval '2 days' WHERE id = :id", at=AT, id=first)
    sql(db, "UPDATE outbound_messages SET sent_at = :at - interval '1 day' WHERE id = :id", at=AT, id=second)
    enroll(db, earlier, [earlier_lead])
    enroll(db, later, [later_lead])
    untouched = tenant_snapshot(db, earlier)

    post(client, SMS, text_fields("SMreply1", "Who is this?", sender=LEAD_PHONE))

    [inbound] = sql(db, "SELECT tenant_id, lead_id, message_id FROM inbound_messages")
    assert tuple(inbound) == (later, later_lead, second)
    statuses = dict(sql(db, "SELECT tenant_id, status FROM enrollments"))
    assert statuses == {earlier: "active", later: "stopped"}
    assert tenant_snapshot(db, earlier) == untouched


def test_a_tenants_own_number_takes_texts_from_numbers_it_never_texted(db: Engine, client: TestClient) -> None:
    own = make_tenant(db, slug="own", sender_phone="+15557770000")
    other = make_tenant(db, slug="other")
    make_leads(db, own, 1)
    make_leads(db, other, 1)  # the same phone, in a tenant on the shared number

    answer = post(client, SMS, text_fields("SMstop9", "STOP", sender=LEAD_PHONE, to="+15557770000"))

    assert "Own: you are unsubscribed" in answer.text
    assert [tuple(r) for r in sql(db, "SELECT tenant_id, address FROM suppressions")] == [(own, LEAD_PHONE)]


def test_a_text_no_tenant_sent_to_is_stored_and_applied_to_nothing(db: Engine, client: TestClient) -> None:
    tenant = make_tenant(db, sender_phone="+15557770000")
    make_leads(db, tenant, 1)
    before = snapshot(db)

    answer = post(client, SMS, text_fields("SMstray", "STOP", sender=LEAD_PHONE, to="+15551112222"))

    assert (answer.status_code, answer.text) == (200, EMPTY_TWIML)
    assert snapshot(db) == before
    [stored] = deliveries(db)
    assert (stored.result, stored.tenant_id, stored.unmatched_count, stored.applied_count) == ("applied", None, 1, 0)


def test_a_status_callback_is_answered_at_once_and_waits_for_the_listener(
    texted: dict[str, int], client: TestClient, db: Engine, redis_conn: redis.Redis
) -> None:
    before = snapshot(db)

    answer = post(client, STATUS, status_fields("SMsent1", "delivered", to=LEAD_PHONE), query=f"m={texted['sent']}")

    assert (answer.status_code, answer.text) == (204, "")
    assert snapshot(db) == before
    [stored] = deliveries(db)
    assert (stored.result, stored.endpoint, stored.signature_valid) == ("received", "twilio/status", True)
    assert stored.headers["x-lre-signed-url"] == f"{PUBLIC}{STATUS}?m={texted['sent']}"
    assert redis_conn.llen("rq:queue:high") == 1  # one applier run asked for


@pytest.fixture
def database_down(db: Engine) -> Iterator[None]:
    """The runtime pointed at a port where no PostgreSQL listens, then back at the test database."""
    saved = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    runtime.reset_for_tests()
    try:
        yield
    finally:
        os.environ["DATABASE_URL"] = saved
        runtime.reset_for_tests()


def test_with_postgresql_unreachable_nothing_is_acknowledged(database_down: None) -> None:
    """Twilio must see a failure (and retry, or use the fallback URL), never a 2xx for what was not stored."""
    api = create_app()
    config = settings()
    api.dependency_overrides[webhook_settings] = lambda: config
    api.dependency_overrides[clock] = lambda: AT
    with TestClient(api, raise_server_exceptions=False) as client:
        text = post(client, SMS, text_fields("SMstop1", "STOP", sender=LEAD_PHONE))
        status = post(client, STATUS, status_fields("SM1", "delivered", to=LEAD_PHONE), query="m=1")
    assert (text.status_code, status.status_code) == (503, 503)  # "retry later", no traceback
    assert text.text == status.text == "the request could not be stored; retry later"
