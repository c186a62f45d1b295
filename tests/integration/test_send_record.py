"""Recording a send keeps what the provider's webhooks already proved (a callback can beat the record)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine

from app.channels.base import SendResult
from app.services import send_record
from tests.integration.outbox import make_leads, make_messages, make_tenant

DELIVERED_AT = datetime(2026, 12, 1, 15, 0, 5, tzinfo=UTC)


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


def claimed(engine: Engine, channel: str) -> tuple[int, int]:
    tenant = make_tenant(engine)
    (lead,) = make_leads(engine, tenant, 1)
    (message,) = make_messages(engine, tenant, [lead], channel=channel)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE outbound_messages SET status = 'sending', attempts = 1 WHERE id = :m"), {"m": message}
        )
    return tenant, message


def event(engine: Engine, tenant: int, message: int, kind: str, at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """INSERT INTO message_events (tenant_id, message_id, event_type, occurred_at, natural_key)
                   VALUES (:t, :m, :k, :at, :key)"""
            ),
            {"t": tenant, "m": message, "k": kind, "at": at, "key": f"{message}:{kind}"},
        )


def row(engine: Engine, message: int) -> dict[str, Any]:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                """SELECT m.status, m.delivered_at, m.sent_at IS NOT NULL AS sent,
                          l.last_contacted_at IS NOT NULL AS touched
                   FROM outbound_messages m JOIN leads l ON l.id = m.lead_id WHERE m.id = :m"""
            ),
            {"m": message},
        )
        return dict(found.mappings().one())


def test_a_delivery_reported_before_the_record_is_kept(db: Engine) -> None:
    tenant, message = claimed(db, "sms")
    event(db, tenant, message, "delivered", DELIVERED_AT)
    send_record.record({message: 1}, [SendResult.accepted(message, "SM123")])
    assert row(db, message) == {"status": "delivered", "delivered_at": DELIVERED_AT, "sent": True, "touched": True}


def test_a_bounce_reported_before_the_record_is_kept(db: Engine) -> None:
    tenant, message = claimed(db, "email")
    event(db, tenant, message, "bounce", DELIVERED_AT)
    send_record.record({message: 1}, [SendResult.accepted(message, "sg-1")])
    assert row(db, message) == {"status": "failed", "delivered_at": None, "sent": True, "touched": True}


def test_without_events_an_accepted_send_is_sent(db: Engine) -> None:
    _, message = claimed(db, "email")
    send_record.record({message: 1}, [SendResult.accepted(message, "sg-1")])
    assert row(db, message) == {"status": "sent", "delivered_at": None, "sent": True, "touched": True}
