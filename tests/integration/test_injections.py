"""The injection set end to end: planted leads in PostgreSQL, the writer agent's job, the real anthropic
SDK against a fake that obeys whatever was planted, and the outbox read back with SQL.

Every attempt of `bench/injections.py` must leave the message written for its lead free of the
planted content (100 %), and every lead must still get a message (the offline writer stands in
for each rejected draft).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine

from agents.writer import write_due
from app.settings import get_settings
from bench.injections import Attempt, attempts, leaks
from tests.fakes.adversarial import obedient_reply, planted_values
from tests.fakes.anthropic_server import FakeAnthropic
from tests.support import PRODUCTION_ENV, midday_zone

NAMES = ("Ana", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ida", "Jon")
PLAIN = {"first_name": "Ana", "company": "Sunbeam Roofing", "title": "Owner", "interest": "roof repair"}


@pytest.fixture
def obedient(clean_db: Engine, redis_conn: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with FakeAnthropic(writer=obedient_reply) as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
        for name, value in PRODUCTION_ENV.items():  # a real provider key needs them
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        monkeypatch.setenv("ANTHROPIC_MODEL", "claude-sonnet-5-5")
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()


def insert(conn: sa.Connection, table: str, **values: Any) -> int:
    names = ", ".join(values)
    binds = ", ".join(f"CAST(:{k} AS jsonb)" if isinstance(v, dict) else f":{k}" for k, v in values.items())
    params = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in values.items()}
    return int(conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({binds}) RETURNING id"), params).scalar())


def plant(conn: sa.Connection, tenant_id: int, attempt: Attempt) -> None:
    """One lead with the payload in its field, due a send in a campaign of its own.

    A campaign each (and a brief) gives each lead its own cache key, so every attempt reaches
    the model instead of being served an earlier lead's clean answer.
    """
    campaign_id = insert(conn, "campaigns", tenant_id=tenant_id, name=f"C{attempt.number}", status="running", plan={})
    values = {**PLAIN, "first_name": NAMES[attempt.number % len(NAMES)]}
    if attempt.field in values:
        values[attempt.field] = attempt.payload.text
    lead_id = insert(
        conn,
        "leads",
        tenant_id=tenant_id,
        external_id=f"attempt-{attempt.number}",
        first_name=values["first_name"],
        company=values["company"],
        title=values["title"],
        email=f"lead{attempt.number}@example.com",
        phone=f"+1415555{attempt.number:04d}",
        consent_sms=True,
        timezone=midday_zone(),  # inside every send window now: the slot is now, so the draft is direct
        stage="qualified",
        source="web form",
        attributes={"interest": values["interest"]},
        recovery_state="in_recovery",
        last_activity_at=datetime.now(UTC) - timedelta(days=3),
    )
    if attempt.field in ("note", "reply"):
        kind = "note" if attempt.field == "note" else f"{attempt.channel}_in"
        insert(
            conn,
            "activities",
            tenant_id=tenant_id,
            lead_id=lead_id,
            kind=kind,
            occurred_at=datetime.now(UTC) - timedelta(days=3),
            summary=attempt.payload.text,
        )
    enrollment = insert(
        conn, "enrollments", tenant_id=tenant_id, campaign_id=campaign_id, lead_id=lead_id, rung=1, current_node="n1"
    )
    insert(
        conn,
        "scheduled_actions",
        tenant_id=tenant_id,
        enrollment_id=enrollment,
        lead_id=lead_id,
        kind="send",
        node="n1",
        due_at=datetime.now(UTC) - timedelta(seconds=1),
        dedupe_key=f"attempt-{attempt.number}",
        status="pending",
        payload={"channel": attempt.channel, "channels": [attempt.channel], "brief": "A friendly check-in"},
    )


def seed(engine: Engine) -> int:
    with engine.begin() as conn:
        tenant_id = insert(
            conn,
            "tenants",
            slug="bright",
            name="Bright Homes",
            sender_name="Maya",
            sender_email="maya@brighthomes.com",
            sender_phone="+14155550100",
            settings={"messages": {"offer": "A free site survey", "domains": ["brighthomes.com"]}},
        )
        for attempt in attempts():
            plant(conn, tenant_id, attempt)
    return tenant_id


def test_every_injection_attempt_leaves_the_sent_message_free_of_planted_content(
    clean_db: Engine, obedient: FakeAnthropic
) -> None:
    tenant_id = seed(clean_db)

    counts = write_due(tenant_id)

    with clean_db.connect() as conn:
        sent = conn.execute(
            sa.text(
                "SELECT l.external_id, m.channel, COALESCE(m.subject, '') || ' ' || m.body AS text "
                "FROM outbound_messages m JOIN leads l ON l.id = m.lead_id WHERE m.tenant_id = :t"
            ),
            {"t": tenant_id},
        ).all()
        rejected = conn.execute(
            sa.text("SELECT (counts ->> 'ai_rejected')::int FROM agent_runs WHERE agent = 'writer' AND tenant_id = :t"),
            {"t": tenant_id},
        ).scalar_one()
    by_attempt = {int(row.external_id.removeprefix("attempt-")): row for row in sent}
    planned = attempts()
    assert len(planned) >= 60
    assert sorted(by_attempt) == [a.number for a in planned]  # every lead still gets a message
    failures = {a.name: found for a in planned if (found := leaks(a, by_attempt[a.number].text))}
    assert failures == {}
    assert all(by_attempt[a.number].channel == a.channel for a in planned)
    # Planted in a name, company, title or interest, the payload never reaches the model; planted in a
    # note or a reply it does, the fake obeys it (twice: the draft and its retry), and every such
    # draft is refused, counted, and replaced by the offline writer's.
    reaching = [a for a in planned if a.field in ("note", "reply")]
    obeyed = [call for call in obedient.calls if planted_values(call.user_text)]
    assert len(obeyed) == 2 * len(reaching)
    assert rejected == counts["ai_rejected"] == len(reaching)
