"""A provider's 500, 502 or 504 may come after it accepted the message (an internal error after
the queue write, a gateway that lost the upstream's answer): through the real SDKs against the
local fakes, on real PostgreSQL, such a send is held as unknown and never sent again by later
runs, while a 503 (refused before processing) is retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import Engine

from app.services import send
from app.settings import Settings, load_settings
from tests.fakes import sendgrid_server, twilio_server
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.fakes.twilio_server import FakeTwilio
from tests.integration import outbox
from tests.integration.outbox import make_leads, make_messages, make_tenant, rows
from tests.support import PRODUCTION_BASE_URL, PRODUCTION_SECRET_KEY

AMBIGUOUS = [500, 502, 504]


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


def sendgrid_settings(fake: FakeSendGrid) -> Settings:
    return load_settings(
        email_provider="sendgrid",
        sendgrid_api_key=sendgrid_server.API_KEY,
        sendgrid_api_host=fake.url,
        public_base_url=PRODUCTION_BASE_URL,
        secret_key=PRODUCTION_SECRET_KEY,
    )


def later(hours: int) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


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
    again = [send.send_due(settings=settings, now=later(hours)) for hours in (2, 24)]

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
    settings = outbox.twilio_settings(twilio, secret_key=PRODUCTION_SECRET_KEY)
    twilio.script(twilio_server.server_error(status))

    first = send.send_due(settings=settings)
    again = send.send_due(settings=settings, now=later(24))

    [row] = rows(db, [message_id])
    assert first["held"] == 1
    assert (row["status"], row["attempts"]) == ("held", 1)
    assert row["last_error"].startswith(f"Twilio {status} (20500)")
    assert again.get("claimed", 0) == 0
    assert len(twilio.forms()) == 1


def test_a_503_was_refused_before_processing_and_is_retried(db: Engine, twilio: FakeTwilio) -> None:
    message_id = one_message(db, "sms")
    settings = outbox.twilio_settings(twilio, secret_key=PRODUCTION_SECRET_KEY)
    twilio.script(twilio_server.unavailable())

    first = send.send_due(settings=settings)
    second = send.send_due(settings=settings, now=later(2))

    [row] = rows(db, [message_id])
    assert (first["retrying"], second["sent"]) == (1, 1)
    assert (row["status"], row["attempts"]) == ("sent", 2)
