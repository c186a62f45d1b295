"""The world of the unsubscribe tests: the api with its signing key and clock pinned, two
tenants whose leads share an address, and SQL that reads back what an unsubscribe may touch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api import create_app
from app.domain.unsubscribe import make_token
from app.web.unsubscribe import clock, signing_secret
from tests.integration.outbox import make_leads, make_messages, make_tenant

SECRET = "unsubscribe-test-secret"
AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
"""The api's pinned clock; the World's tokens are issued that day."""
PUBLIC = "https://lre.example"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


@pytest.fixture
def client() -> Iterator[TestClient]:
    """The api as uvicorn serves it, its tokens signed with the test's key, its clock at `AT`."""
    api = create_app()
    api.dependency_overrides[signing_secret] = lambda: SECRET
    api.dependency_overrides[clock] = lambda: AT
    with TestClient(api) as test_client:
        yield test_client


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def snapshot(engine: Engine) -> tuple[Any, ...]:
    """Every row an unsubscribe could touch, as plain values."""
    return tuple(
        tuple(map(tuple, sql(engine, statement)))
        for statement in (
            "SELECT tenant_id, channel, address, reason FROM suppressions ORDER BY id",
            "SELECT enrollment_id, event, reason FROM campaign_transitions ORDER BY id",
            "SELECT id, status, completed_at FROM enrollments ORDER BY id",
            "SELECT id, status FROM scheduled_actions ORDER BY id",
            "SELECT id, status, last_error FROM outbound_messages ORDER BY id",
            "SELECT id, recovery_state, email, phone FROM leads ORDER BY id",
            "SELECT id, message_id, lead_id, event_type FROM message_events ORDER BY id",
        )
    )


def enroll(engine: Engine, tenant_id: int, lead_id: int) -> int:
    """An active enrollment at rung-1 of a running campaign, with its next send due."""
    campaign = sql(
        engine,
        "INSERT INTO campaigns (tenant_id, name, status) VALUES (:t, 'Win back', 'running') RETURNING id",
        t=tenant_id,
    )[0].id
    enrollment = sql(
        engine,
        """INSERT INTO enrollments (tenant_id, campaign_id, lead_id, current_node, rung, status)
           VALUES (:t, :c, :l, 'rung-1', 1, 'active') RETURNING id""",
        t=tenant_id,
        c=campaign,
        l=lead_id,
    )[0].id
    sql(
        engine,
        """INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key)
           VALUES (:t, :e, :l, 'send', 'rung-2', now(), 'k:' || :e)""",
        t=tenant_id,
        e=enrollment,
        l=lead_id,
    )
    sql(engine, "UPDATE leads SET recovery_state = 'in_recovery' WHERE id = :l", l=lead_id)
    return int(enrollment)


class World:
    """Acme's leads lead1 (in recovery, one email sent, one pending) and lead2 (in recovery);
    Bravo's lead1, whose address is the same as Acme's lead1."""

    def __init__(self, engine: Engine) -> None:
        self.acme = make_tenant(engine, slug="acme")
        self.bravo = make_tenant(engine, slug="bravo")
        self.lead, self.other = make_leads(engine, self.acme, 2)
        [self.bravo_lead] = make_leads(engine, self.bravo, 1)
        self.enrollment = enroll(engine, self.acme, self.lead)
        self.other_enrollment = enroll(engine, self.bravo, self.bravo_lead)
        enroll(engine, self.acme, self.other)
        [self.sent] = make_messages(engine, self.acme, [self.lead], node="rung-1")
        sql(engine, "UPDATE outbound_messages SET status = 'sent', sent_at = now() WHERE id = :m", m=self.sent)
        [self.pending] = make_messages(engine, self.acme, [self.lead], node="manual")
        make_messages(engine, self.bravo, [self.bravo_lead], node="manual")

    def token(self, **claim: Any) -> str:
        values = {
            "tenant_id": self.acme,
            "channel": "email",
            "lead_id": self.lead,
            "address": "lead1@example.com",
            "issued": AT.date(),
        }
        return make_token(SECRET, **{**values, **claim})


@pytest.fixture
def world(db: Engine) -> World:
    return World(db)


def url(token: str) -> str:
    return f"/unsubscribe/{token}"
