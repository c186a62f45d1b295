"""The writer holds drafts to the tenant's own facts, read from `tenants.settings["messages"]`: real
PostgreSQL and Redis, the writer agent's job, the real anthropic SDK against the local fake."""

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
from tests.fakes.anthropic_server import FakeAnthropic, ok
from tests.support import PRODUCTION_ENV, midday_zone

OFFER = {"offer": "10% off roof checks this month", "domains": ["brighthomes.com"], "sms_max_segments": 2}


@pytest.fixture
def claude(clean_db: Engine, redis_conn: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
        for name, value in PRODUCTION_ENV.items():  # a real provider key needs them
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        monkeypatch.setenv("ANTHROPIC_MODEL", "claude-sonnet-5-5")
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()


def insert(engine: Engine, table: str, **values: Any) -> int:
    names = ", ".join(values)
    binds = ", ".join(f"CAST(:{k} AS jsonb)" if isinstance(v, dict) else f":{k}" for k, v in values.items())
    params = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in values.items()}
    with engine.begin() as conn:
        return int(
            conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({binds}) RETURNING id"), params).scalar()
        )


def one_due(engine: Engine, channel: str, settings: dict[str, Any]) -> int:
    tenant_id = insert(
        engine, "tenants", slug="bright", name="Bright Homes", sender_name="Maya", settings={"messages": settings}
    )
    campaign_id = insert(engine, "campaigns", tenant_id=tenant_id, name="Recovery", status="running", plan={})
    lead_id = insert(
        engine,
        "leads",
        tenant_id=tenant_id,
        external_id="ext-ana",
        first_name="Ana",
        email="ana@example.com",
        phone="+14155550123",
        consent_sms=True,
        timezone=midday_zone(),  # inside every send window now: the slot is now, so the draft is direct
        attributes={"interest": "roof repair"},
        recovery_state="in_recovery",
        last_activity_at=datetime.now(UTC) - timedelta(days=3),
    )
    enrollment = insert(
        engine, "enrollments", tenant_id=tenant_id, campaign_id=campaign_id, lead_id=lead_id, rung=1, current_node="n1"
    )
    insert(
        engine,
        "scheduled_actions",
        tenant_id=tenant_id,
        enrollment_id=enrollment,
        lead_id=lead_id,
        kind="send",
        node="n1",
        due_at=datetime.now(UTC) - timedelta(seconds=1),
        dedupe_key="ana-n1",
        status="pending",
        payload={"channel": channel, "channels": [channel]},
    )
    return tenant_id


def sent(engine: Engine) -> sa.Row[Any]:
    with engine.connect() as conn:
        (row,) = conn.execute(sa.text("SELECT source, body FROM outbound_messages")).all()
    return row


def test_the_tenants_offer_and_domain_may_be_stated(clean_db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = one_due(clean_db, "email", OFFER)
    body = "Hi Ana,\n\nThis month roof checks are 10% off: brighthomes.com/roof. Shall I book one?\n\nMaya"
    claude.script(ok(json.dumps({"subject": "Your roof repair", "body": body})))

    counts = write_due(tenant_id)

    assert (sent(clean_db).source, sent(clean_db).body) == ("ai", body)
    assert counts["ai_rejected"] == 0


def test_another_discount_or_site_is_refused_and_the_offline_writer_stands_in(
    clean_db: Engine, claude: FakeAnthropic
) -> None:
    tenant_id = one_due(clean_db, "email", OFFER)
    body = "Hi Ana,\n\nRoof checks are 20% off at roof-deals.biz this week. Shall I book one?\n\nMaya"
    invented = ok(json.dumps({"subject": "Your roof repair", "body": body}))
    claude.script(invented, invented)

    counts = write_due(tenant_id)

    row = sent(clean_db)
    assert row.source == "offline"
    assert "20%" not in row.body
    assert "roof-deals" not in row.body
    assert counts["ai_rejected"] == 1


def test_an_sms_may_take_two_segments_only_when_the_tenant_allows_it(clean_db: Engine, claude: FakeAnthropic) -> None:
    body = (
        "Hi Ana, it's Maya from Bright Homes. " + "Would a quick look at the roof help? " * 4 + "Reply STOP to opt out."
    )
    assert 160 < len(body) <= 306  # two GSM segments, counted by hand: 37 + 4 x 37 + 22 = 207 characters
    tenant_id = one_due(clean_db, "sms", OFFER)
    claude.script(ok(json.dumps({"body": body})))

    write_due(tenant_id)

    assert (sent(clean_db).source, sent(clean_db).body) == ("ai", body)


def test_a_two_segment_sms_is_refused_for_a_one_segment_tenant(clean_db: Engine, claude: FakeAnthropic) -> None:
    body = (
        "Hi Ana, it's Maya from Bright Homes. " + "Would a quick look at the roof help? " * 4 + "Reply STOP to opt out."
    )
    tenant_id = one_due(clean_db, "sms", {**OFFER, "sms_max_segments": 1})
    claude.script(ok(json.dumps({"body": body})), ok(json.dumps({"body": body})))

    write_due(tenant_id)

    row = sent(clean_db)
    assert row.source == "offline"
    assert len(row.body) <= 160
