"""The writer's world: fixtures (the fake Anthropic, settings pointing at it) and row builders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from rq import Queue
from sqlalchemy import Engine

from app import queue
from app.settings import get_settings
from tests.fakes.anthropic_server import FakeAnthropic
from tests.support import PRODUCTION_ENV

MODEL = "claude-sonnet-5-5"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def claude(fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    """The settings name a key and point the SDK at the fake, as an operator's environment would."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
    for name, value in PRODUCTION_ENV.items():  # a real provider key needs them
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    monkeypatch.setenv("ANTHROPIC_MODEL", MODEL)
    monkeypatch.setenv("ANTHROPIC_BATCH_WRITES", "false")  # direct calls whatever the time of day (test_batch_writes)
    get_settings.cache_clear()
    yield fake
    get_settings.cache_clear()


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


# --- builders -------------------------------------------------------------------------------------


def insert(engine: Engine, table: str, **values: Any) -> int:
    names = ", ".join(values)
    binds = ", ".join(f"CAST(:{k} AS jsonb)" if isinstance(v, dict) else f":{k}" for k, v in values.items())
    params = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in values.items()}
    with engine.begin() as conn:
        return int(
            conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({binds}) RETURNING id"), params).scalar_one()
        )


def tenant(engine: Engine, **columns: Any) -> int:
    return insert(engine, "tenants", slug="bright", name="Bright Homes", sender_name="Maya", **columns)


def campaign(engine: Engine, tenant_id: int, plan: dict[str, Any] | None = None) -> int:
    return insert(engine, "campaigns", tenant_id=tenant_id, name="Recovery", status="running", plan=plan or {})


def lead(engine: Engine, tenant_id: int, first_name: str, **columns: Any) -> int:
    values: dict[str, Any] = {
        "external_id": f"ext-{first_name.lower()}",
        "email": f"{first_name.lower()}@example.com",
        "company": "Sunbeam Roofing",
        "stage": "qualified",
        "source": "web form",
        "deal_value": Decimal(4200),
        "attributes": {"interest": "roof repair"},
        "recovery_state": "in_recovery",
    }
    values.update(columns)
    last_activity = datetime.now(UTC) - timedelta(days=3)
    return insert(engine, "leads", tenant_id=tenant_id, first_name=first_name, last_activity_at=last_activity, **values)


def activity(engine: Engine, tenant_id: int, lead_id: int, kind: str, days_ago: int, summary: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO activities (tenant_id, lead_id, kind, occurred_at, summary) "
                "VALUES (:t, :l, :k, now() - make_interval(days => :d), :s)"
            ),
            {"t": tenant_id, "l": lead_id, "k": kind, "d": days_ago, "s": summary},
        )


def due_send(engine: Engine, tenant_id: int, campaign_id: int, lead_id: int, rung: int = 1, **columns: Any) -> int:
    node = f"rung-{rung}"
    enrollment = insert(
        engine,
        "enrollments",
        tenant_id=tenant_id,
        campaign_id=campaign_id,
        lead_id=lead_id,
        rung=rung,
        current_node=node,
    )
    values = {
        "tenant_id": tenant_id,
        "enrollment_id": enrollment,
        "lead_id": lead_id,
        "kind": "send",
        "node": node,
        "due_at": datetime.now(UTC) - timedelta(seconds=1),
        "dedupe_key": f"{tenant_id}:{campaign_id}:{lead_id}:{node}:send",
        "status": "pending",
        **columns,
    }
    return insert(engine, "scheduled_actions", **values)


def rows(engine: Engine, sql: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


def outbox(engine: Engine) -> list[sa.Row[Any]]:
    return rows(engine, "SELECT * FROM outbound_messages ORDER BY id")


def generations(engine: Engine) -> list[sa.Row[Any]]:
    return rows(engine, "SELECT * FROM ai_generations ORDER BY id")


def action_states(engine: Engine) -> list[tuple[str, str | None]]:
    return [(r.status, r.payload.get("reason")) for r in rows(engine, "SELECT * FROM scheduled_actions ORDER BY id")]


def send_jobs(redis_conn: redis.Redis) -> int:
    return Queue(queue.job_target("send_due")[1], connection=redis_conn).count


def one_lead_due(engine: Engine, first_name: str = "Ana", rung: int = 1, **columns: Any) -> tuple[int, int]:
    tenant_id = tenant(engine)
    lead_id = lead(engine, tenant_id, first_name, **columns)
    due_send(engine, tenant_id, campaign(engine, tenant_id), lead_id, rung=rung)
    return tenant_id, lead_id
