"""A rep's answer to a reply goes out through the sender like any message: the real sender (sandbox
provider) on real PostgreSQL sends an answer to a reachable lead and suppresses one to a
suppressed address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import Engine

from app.services import replies, send
from app.settings import load_settings
from tests.integration.outbox import make_leads, make_tenant
from tests.integration.twilio_door import sql


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


def test_answers_are_sent_by_the_sender_and_a_suppressed_address_is_not(db: Engine) -> None:
    tenant = make_tenant(db)
    reachable, suppressed = make_leads(db, tenant, 2)
    rep = sql(
        db,
        "INSERT INTO operators (tenant_id, email, name) VALUES (:t, 'rep@acme.example', 'Rep') RETURNING id",
        t=tenant,
    )[0].id
    inbound = {
        lead: sql(
            db,
            """INSERT INTO inbound_messages (tenant_id, lead_id, channel, from_address, body)
               SELECT tenant_id, id, 'email', email, 'Can you call me?' FROM leads WHERE id = :l RETURNING id""",
            l=lead,
        )[0].id
        for lead in (reachable, suppressed)
    }
    sql(
        db,
        """INSERT INTO suppressions (tenant_id, channel, address, reason)
           SELECT tenant_id, 'email', email, 'unsubscribe' FROM leads WHERE id = :l""",
        l=suppressed,
    )
    now = datetime.now(UTC) - timedelta(minutes=1)  # due at once; the tenant has no window or quiet hours
    queued = {
        lead: replies.answer_reply(
            tenant_id=tenant, inbound_message_id=inbound[lead], body="Sure, Tuesday?", operator_id=rep, now=now
        )
        for lead in (reachable, suppressed)
    }

    send.send_due(settings=load_settings())

    statuses = dict(sql(db, "SELECT lead_id, status FROM outbound_messages WHERE source = 'manual'"))
    assert statuses == {reachable: "sent", suppressed: "suppressed"}
    assert None not in queued.values()
