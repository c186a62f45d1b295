"""Provider rate limits and timeouts on send, through the real SDKs against the local fakes, on
real PostgreSQL and Redis, with the providers' clock injected.

A 429 storm: the fake refuses every send until a time on the test's clock and says so in the
headers the real providers send (SendGrid: `Retry-After` and `X-RateLimit-Reset`, an epoch
second; Twilio: `Retry-After`). The sender makes one refused call, pauses the channel for every
worker, defers the rows until then, and after the storm sends each exactly once. A connect
timeout never reached the provider and is retried; a read timeout may hide a delivery and holds.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine

from app import runtime
from app.channels.sendgrid import SendGridProvider
from app.channels.twilio import TwilioProvider
from app.services import send
from app.services.provider_pause import ProviderPauses
from app.settings import Settings
from tests.fakes import sendgrid_server, twilio_server
from tests.fakes.blackhole import blackhole
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.fakes.twilio_server import FakeTwilio
from tests.integration.outbox import make_leads, make_messages, make_tenant, rows
from tests.integration.sender_world import FROM_NUMBER, buckets, later, sendgrid_settings, twilio_settings
from tests.support import midday_zone

EPOCH = 1_900_000_000.0
"""The providers' wall clock at the start of each test (2030-03-17), moved by hand."""


class Clock:
    """The wall clock the fakes and the providers share (epoch seconds)."""

    def __init__(self) -> None:
        self.now = EPOCH

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


def messages(db: Engine, count: int, channel: str) -> list[int]:
    tenant_id = make_tenant(db, sender_phone=FROM_NUMBER)
    zone = midday_zone() if channel == "sms" else "UTC"  # texts only go 08-21 in the lead's zone
    return make_messages(db, tenant_id, make_leads(db, tenant_id, count, timezone=zone), channel=channel)


def sendgrid_provider(fake: FakeSendGrid | str, clock: Clock, timeout: float = 30.0) -> SendGridProvider:
    host = fake if isinstance(fake, str) else fake.url
    return SendGridProvider(api_key=sendgrid_server.API_KEY, host=host, timeout=timeout, clock=clock)


def twilio_provider(fake: FakeTwilio | str, clock: Clock, timeout: float = 30.0) -> TwilioProvider:
    return TwilioProvider(
        account_sid=twilio_server.ACCOUNT_SID,
        auth_token=twilio_server.AUTH_TOKEN,
        base_url=fake if isinstance(fake, str) else fake.url,
        from_number=FROM_NUMBER,
        status_callback="https://lre.example/webhooks/twilio/status",
        timeout=timeout,
        clock=clock,
    )


def run(settings: Settings, channel: str, provider: object, *, batch: int, hours_later: float = 0) -> dict[str, int]:
    """One send batch as a worker runs it, at `hours_later` on the sender's clock."""
    counts = send.send_batch(
        tenant_id=None,
        batch=batch,
        settings=settings,
        providers={channel: provider},  # type: ignore[dict-item]
        buckets=buckets(),
        pauses=ProviderPauses(runtime.redis_client()),
        now=later(hours=hours_later) if hours_later else None,
    )
    return dict(counts)


def deferred_at_least(db: Engine, ids: list[int], seconds: int) -> int:
    """How many of these rows are `pending` and due no sooner than `seconds` from now."""
    with db.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM outbound_messages WHERE id = ANY(:ids) AND status = 'pending'"
                    " AND scheduled_for >= now() + make_interval(secs => :seconds)"
                ),
                {"ids": ids, "seconds": seconds},
            ).scalar_one()
        )


def test_a_sendgrid_429_storm_is_waited_out_until_its_reset_then_each_email_goes_once(
    db: Engine, sendgrid: FakeSendGrid
) -> None:
    ids = messages(db, 12, "email")
    clock = Clock()
    settings = sendgrid_settings(sendgrid)
    sendgrid.storm(until=EPOCH + 300, clock=clock)  # Retry-After: 300, X-RateLimit-Reset: EPOCH + 300
    provider = sendgrid_provider(sendgrid, clock)

    during = [run(settings, "email", provider, batch=4) for _ in range(3)]  # three workers in the storm
    storm_requests = len(sendgrid.requests)
    deferred = deferred_at_least(db, ids, 290)
    clock.now = EPOCH + 301
    after = run(settings, "email", provider, batch=12, hours_later=1)

    assert [d.get("retrying", 0) for d in during] == [4, 0, 0]
    assert [d.get("paused", 0) for d in during] == [0, 4, 4]
    assert storm_requests == 1  # one refused call, not one per batch
    assert deferred == 12
    assert after["sent"] == 12
    assert {r["status"] for r in rows(db, ids)} == {"sent"}
    assert [sendgrid.accepted[str(i)] for i in ids] == [1] * 12
    assert len(sendgrid.requests) == 2


def test_sendgrid_x_ratelimit_reset_alone_sets_the_wait(db: Engine, sendgrid: FakeSendGrid) -> None:
    [message_id] = messages(db, 1, "email")
    clock = Clock()
    sendgrid.script(sendgrid_server.too_many_requests(retry_after=None, reset_at=int(EPOCH) + 900))

    counts = run(sendgrid_settings(sendgrid), "email", sendgrid_provider(sendgrid, clock), batch=10)

    [row] = rows(db, [message_id])
    assert counts["retrying"] == 1
    assert row["scheduled_for"] - row["claimed_at"] >= timedelta(seconds=900)
    assert deferred_at_least(db, [message_id], 890) == 1


def test_a_twilio_429_storm_stops_the_batch_and_every_text_goes_once_after_retry_after(
    db: Engine, twilio: FakeTwilio
) -> None:
    ids = messages(db, 20, "sms")
    clock = Clock()
    settings = twilio_settings(twilio)
    twilio.storm(until=EPOCH + 120, clock=clock)  # Retry-After: 120
    provider = twilio_provider(twilio, clock)

    during = [run(settings, "sms", provider, batch=20) for _ in range(2)]
    storm_requests = len(twilio.requests)
    deferred = deferred_at_least(db, ids, 110)
    clock.now = EPOCH + 121
    after = run(settings, "sms", provider, batch=20, hours_later=1)

    assert during[0]["retrying"] == 8  # the first call: eight texts at once, all refused
    assert during[0]["paused"] == 12  # the other twelve never called
    assert during[1].get("claimed", 0) == 0  # nothing due before the wait ends
    assert storm_requests == 8
    assert deferred == 20
    assert after["sent"] == 20
    assert [twilio.accepted[r["to_address"]] for r in rows(db, ids)] == [1] * 20
    assert len(twilio.requests) == 28


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_a_connect_timeout_never_reached_the_provider_and_is_retried(db: Engine, channel: str) -> None:
    [message_id] = messages(db, 1, channel)
    clock = Clock()
    with FakeSendGrid() as sendgrid, FakeTwilio() as twilio, blackhole() as nowhere:
        settings = sendgrid_settings(sendgrid) if channel == "email" else twilio_settings(twilio)
        maker = sendgrid_provider if channel == "email" else twilio_provider
        first = run(settings, channel, maker(nowhere, clock, timeout=0.3), batch=1)
        retried = rows(db, [message_id])[0]
        second = run(
            settings, channel, maker(sendgrid if channel == "email" else twilio, clock), batch=1, hours_later=2
        )
        delivered = sendgrid.delivered() if channel == "email" else twilio.forms()

    assert first["retrying"] == 1
    assert (retried["status"], retried["attempts"]) == ("pending", 1)
    assert "network" in retried["last_error"]
    assert second["sent"] == 1
    assert len(delivered) == 1
    assert rows(db, [message_id])[0]["attempts"] == 2


def test_a_twilio_read_timeout_may_hide_a_delivery_and_holds_the_row(db: Engine) -> None:
    [message_id] = messages(db, 1, "sms")
    with FakeTwilio(delay=1.0) as slow:
        settings = twilio_settings(slow)
        counts = run(settings, "sms", twilio_provider(slow, Clock(), timeout=0.2), batch=1)
        again = send.send_due(settings=settings, now=later(hours=5))
        reached = len(slow.forms())

    [row] = rows(db, [message_id])
    assert counts["held"] == 1
    assert row["status"] == "held"
    assert "no response from Twilio" in row["last_error"]
    assert again.get("claimed", 0) == 0
    assert reached == 1  # the provider had it: sending again would have been a duplicate


def test_the_cron_send_run_meets_a_storm_with_one_call_and_puts_every_email_off_once(
    db: Engine, sendgrid: FakeSendGrid
) -> None:
    """`send_due`, the cron job's run, with the providers as configured (the wall clock: the storm
    is set on it, so nothing depends on the time of day)."""
    ids = messages(db, 12, "email")
    sendgrid.storm(until=time.time() + 600, clock=time.time)

    counts = send.send_due(settings=sendgrid_settings(sendgrid), batch=4)
    again = send.send_due(settings=sendgrid_settings(sendgrid), batch=4)

    assert (counts["retrying"], counts["paused"]) == (4, 8)  # the refused call, and the rows put off
    assert again.get("claimed", 0) == 0  # nothing due until the pause ends
    assert len(sendgrid.requests) == 1
    assert deferred_at_least(db, ids, 590) == 12
    assert sum(sendgrid.accepted.values()) == 0


def test_a_shorter_wait_never_cuts_a_longer_pause(redis_conn: redis.Redis) -> None:
    pauses = ProviderPauses(redis_conn)
    at = later(hours=0)

    pauses.pause("email", 300, now=at)
    pauses.pause("email", 10, now=at)

    assert pauses.left(["email", "sms"], now=at) == {"email": pytest.approx(300.0)}
    assert pauses.left(["email"], now=at + timedelta(seconds=301)) == {}
