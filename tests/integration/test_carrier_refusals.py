"""A text Twilio refuses at once with a code about the lead acts like the same code in a callback:
21610 suppresses the number and stops the recovery, 21211/21614 mark the phone unreachable."""

from __future__ import annotations

from typing import Any

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine

from app.services import send
from app.settings import Settings
from tests.fakes import twilio_server
from tests.fakes.twilio_server import FakeTwilio
from tests.integration import outbox
from tests.integration.outbox import make_leads, make_messages, make_tenant
from tests.support import midday_zone


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


def twilio_settings(fake: FakeTwilio) -> Settings:
    return outbox.twilio_settings(fake, from_number="+15550001234")


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def enrolled_texts(engine: Engine, count: int) -> tuple[int, list[int], list[int]]:
    tenant = make_tenant(engine)
    leads = make_leads(engine, tenant, count, timezone=midday_zone())  # inside the SMS hours now
    campaign = sql(engine, "INSERT INTO campaigns (tenant_id, name) VALUES (:t, 'Win back') RETURNING id", t=tenant)[
        0
    ].id
    sql(
        engine,
        """INSERT INTO enrollments (tenant_id, campaign_id, lead_id, current_node, status)
           SELECT :t, :c, l, 'rung-1', 'active' FROM unnest(CAST(:leads AS bigint[])) AS l""",
        t=tenant,
        c=campaign,
        leads=leads,
    )
    return tenant, leads, make_messages(engine, tenant, leads, channel="sms")


def test_an_opted_out_number_is_suppressed_and_its_recovery_stops(db: Engine, twilio: FakeTwilio) -> None:
    tenant, (opted_out, fine), _ = enrolled_texts(db, 2)
    phone = sql(db, "SELECT phone FROM leads WHERE id = :l", l=opted_out)[0].phone
    # By number, not by arrival: the sender's two requests may reach the fake in either order.
    twilio.refuse(phone, twilio_server.error(400, 21610, "Attempt to send to unsubscribed recipient"))

    send.send_due(settings=twilio_settings(twilio))

    outcomes = sql(db, "SELECT lead_id, status, error_code FROM outbound_messages")
    rows = {r.lead_id: (r.status, r.error_code) for r in outcomes}
    assert rows == {opted_out: ("failed", "21610"), fine: ("sent", None)}
    assert [tuple(r) for r in sql(db, "SELECT tenant_id, channel, address, reason FROM suppressions")] == [
        (tenant, "sms", phone, "stop")
    ]
    states = {r.lead_id: r.status for r in sql(db, "SELECT lead_id, status FROM enrollments")}
    assert states == {opted_out: "stopped", fine: "active"}
    assert [r.event for r in sql(db, "SELECT event FROM campaign_transitions")] == ["stop"]


@pytest.mark.parametrize(
    ("code", "reason"),
    [(21211, "invalid number (Twilio 21211)"), (21614, "not a mobile number (Twilio 21614)")],
)
def test_a_number_that_cannot_take_texts_is_marked_and_nothing_is_suppressed(
    db: Engine, twilio: FakeTwilio, code: int, reason: str
) -> None:
    _, (lead,), _ = enrolled_texts(db, 1)
    twilio.script(twilio_server.error(400, code, "The 'To' number is not a valid mobile number"))

    send.send_due(settings=twilio_settings(twilio))

    assert sql(db, "SELECT phone_unreachable FROM leads WHERE id = :l", l=lead)[0].phone_unreachable == reason
    assert sql(db, "SELECT count(*) AS n FROM suppressions")[0].n == 0
    assert sql(db, "SELECT status FROM enrollments")[0].status == "active"


def test_an_unrelated_refusal_changes_nothing_about_the_lead(db: Engine, twilio: FakeTwilio) -> None:
    _, (lead,), _ = enrolled_texts(db, 1)
    twilio.script(twilio_server.error(400, 21606, "The 'From' phone number is not a valid, SMS-capable number"))

    send.send_due(settings=twilio_settings(twilio))

    assert sql(db, "SELECT phone_unreachable FROM leads WHERE id = :l", l=lead)[0].phone_unreachable is None
    assert sql(db, "SELECT count(*) AS n FROM suppressions")[0].n == 0
    assert sql(db, "SELECT status, error_code FROM outbound_messages")[0] == ("failed", "21606")
