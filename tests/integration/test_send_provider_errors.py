"""Provider errors on send, through the real SDKs against the local fakes, on real PostgreSQL:
429 and 503 back off and retry, a 4xx fails the message with the provider's reason, and an
answer that may hide a delivery (no answer at all, or a 500, 502 or 504, which can come after
the provider accepted the message) holds the row and is never sent again by later runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from sqlalchemy import Engine

from app.channels.sendgrid import SendGridProvider
from app.domain.send_rules import MAX_ATTEMPTS
from app.services import send
from tests.fakes import sendgrid_server, twilio_server
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.fakes.twilio_server import FakeTwilio
from tests.integration.outbox import make_leads, make_messages, make_tenant, rows
from tests.integration.sender_world import buckets, daytime, later, one_email, sendgrid_settings, twilio_settings

AMBIGUOUS = [500, 502, 504]


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


def one_message(db: Engine, channel: str) -> int:
    tenant_id = make_tenant(db, sender_phone="+15550009999")
    return make_messages(db, tenant_id, make_leads(db, tenant_id, 1), channel=channel)[0]


@pytest.mark.parametrize("status", AMBIGUOUS)
def test_a_sendgrid_5xx_that_may_have_been_taken_is_held_and_never_resent(
    db: Engine, sendgrid: FakeSendGrid, status: int
) -> None:
    message_id = one_message(db, "email")
    settings = sendgrid_settings(sendgrid)
    sendgrid.script(sendgrid_server.server_error(status))

    first = send.send_due(settings=settings)
    again = [send.send_due(settings=settings, now=later(hours=hours)) for hours in (2, 24)]

    [row] = rows(db, [message_id])
    assert first["held"] == 1
    assert (row["status"], row["attempts"], row["sent_at"]) == ("held", 1, None)
    assert row["last_error"].startswith(f"SendGrid {status}: internal error")
    assert [a.get("claimed", 0) for a in again] == [0, 0]
    assert sendgrid.calls[str(message_id)] == 1


@pytest.mark.parametrize("status", AMBIGUOUS)
def test_a_twilio_5xx_that_may_have_been_taken_is_held_and_never_resent(
    db: Engine, twilio: FakeTwilio, status: int
) -> None:
    message_id = one_message(db, "sms")
    settings = twilio_settings(twilio)
    twilio.script(twilio_server.server_error(status))

    first = send.send_due(settings=settings, now=daytime())
    again = send.send_due(settings=settings, now=daytime(hours=24))

    [row] = rows(db, [message_id])
    assert first["held"] == 1
    assert (row["status"], row["attempts"]) == ("held", 1)
    assert row["last_error"].startswith(f"Twilio {status} (20500)")
    assert again.get("claimed", 0) == 0
    assert len(twilio.forms()) == 1


def test_a_503_was_refused_before_processing_and_is_retried(db: Engine, twilio: FakeTwilio) -> None:
    message_id = one_message(db, "sms")
    settings = twilio_settings(twilio)
    twilio.script(twilio_server.unavailable())

    first = send.send_due(settings=settings, now=daytime())
    second = send.send_due(settings=settings, now=daytime(hours=2))

    [row] = rows(db, [message_id])
    assert (first["retrying"], second["sent"]) == (1, 1)
    assert (row["status"], row["attempts"]) == ("sent", 2)


# --- provider errors --------------------------------------------------------------------------


def test_429_then_503_back_off_and_the_eventual_success_is_the_only_send(db: Engine, sendgrid: FakeSendGrid) -> None:
    [message_id] = [one_email(db)]
    settings = sendgrid_settings(sendgrid)
    sendgrid.script(sendgrid_server.too_many_requests(retry_after=40), sendgrid_server.unavailable())

    first = send.send_due(settings=settings)
    after_429 = rows(db, [message_id])[0]
    second = send.send_due(settings=settings, now=later(hours=2))
    after_503 = rows(db, [message_id])[0]
    third = send.send_due(settings=settings, now=later(hours=4))
    final = rows(db, [message_id])[0]

    assert first["retrying"] == 1
    assert after_429["status"] == "pending"
    assert after_429["scheduled_for"] - after_429["claimed_at"] >= timedelta(seconds=40)  # Retry-After is a floor
    assert "429" in after_429["last_error"]
    assert second["retrying"] == 1
    assert after_503["scheduled_for"] - after_503["claimed_at"] >= timedelta(seconds=48)  # 60 s ± 20 %
    assert third["sent"] == 1
    assert (final["status"], final["attempts"], final["last_error"]) == ("sent", 3, None)
    assert sendgrid.calls[str(message_id)] == 3
    assert sendgrid.accepted[str(message_id)] == 1


def test_a_400_fails_the_message_with_the_providers_reason(db: Engine, sendgrid: FakeSendGrid) -> None:
    message_id = one_email(db)
    sendgrid.script(sendgrid_server.bad_request("The from address does not match a verified Sender Identity."))

    counts = send.send_due(settings=sendgrid_settings(sendgrid))

    [row] = rows(db, [message_id])
    assert counts["failed"] == 1
    assert row["status"] == "failed"
    assert row["last_error"] == "SendGrid 400: The from address does not match a verified Sender Identity."


def test_twilio_invalid_number_fails_and_429_retries(db: Engine, twilio: FakeTwilio) -> None:
    tenant_id = make_tenant(db)
    first, second = make_messages(db, tenant_id, make_leads(db, tenant_id, 2), channel="sms")
    twilio.script(twilio_server.invalid_number(), twilio_server.too_many_requests(retry_after=90))

    send.send_due(settings=twilio_settings(twilio), now=daytime())

    by_status = {row["status"]: row for row in rows(db, [first, second])}
    assert set(by_status) == {"failed", "pending"}
    assert "21211" in by_status["failed"]["last_error"]
    assert by_status["pending"]["scheduled_for"] - by_status["pending"]["claimed_at"] >= timedelta(seconds=90)


def test_retries_stop_after_the_last_attempt(db: Engine, sendgrid: FakeSendGrid) -> None:
    message_id = one_email(db)
    settings = sendgrid_settings(sendgrid)
    sendgrid.script(*[sendgrid_server.unavailable() for _ in range(MAX_ATTEMPTS)])

    for hour in range(MAX_ATTEMPTS + 1):
        send.send_due(settings=settings, now=later(hours=2 * hour))

    [row] = rows(db, [message_id])
    assert row["status"] == "failed"
    assert row["last_error"].startswith(f"gave up after {MAX_ATTEMPTS} attempts")
    assert sendgrid.calls[str(message_id)] == MAX_ATTEMPTS


def test_no_answer_from_the_provider_holds_the_row_instead_of_retrying(db: Engine) -> None:
    message_id = one_email(db)
    with FakeSendGrid(delay=1.0) as slow:
        settings = sendgrid_settings(slow)
        providers = {"email": SendGridProvider(api_key=sendgrid_server.API_KEY, host=slow.url, timeout=0.2)}
        counts = send.send_batch(
            tenant_id=None,
            batch=10,
            settings=settings,
            providers=providers,
            buckets=buckets(),
        )
        again = send.send_due(settings=settings, now=later(hours=5))

    [row] = rows(db, [message_id])
    assert counts["held"] == 1
    assert row["status"] == "held"
    assert "no response" in row["last_error"]
    assert again.get("claimed", 0) == 0
    assert slow.calls[str(message_id)] == 1
