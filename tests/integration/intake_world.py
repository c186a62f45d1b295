"""Shared by the intake tests: two tenants with API keys, the api under a pinned clock, and reads in SQL
of the tests' own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api import create_app
from app.services import api_keys
from app.web.intake_body import intake_clock
from tests.integration.outbox import make_tenant

NOW = dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class World:
    acme: int
    birch: int
    key: str
    birch_key: str


def build(engine: Engine) -> World:
    acme = make_tenant(engine, timezone="America/New_York")
    birch = make_tenant(engine, slug="birch", country="GB", timezone="Europe/London")
    _, key = api_keys.create_key(tenant_id=acme, name="CRM", created_by=None)
    _, birch_key = api_keys.create_key(tenant_id=birch, name="CRM", created_by=None)
    return World(acme=acme, birch=birch, key=key, birch_key=birch_key)


def client_at(now: dt.datetime = NOW) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[intake_clock] = lambda: now
    with TestClient(app) as test_client:
        yield test_client


def post(client: TestClient, path: str, key: str, body: Any, **headers: str) -> Any:
    return client.post(path, json=body, headers={"Authorization": f"Bearer {key}", **headers})


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def count(engine: Engine, table: str) -> int:
    return int(sql(engine, f"SELECT count(*) FROM {table}")[0][0])


def snapshot(engine: Engine) -> list[Any]:
    """Every row intake may touch, to prove a refused request touched none."""
    return [sql(engine, f"SELECT * FROM {table} ORDER BY id") for table in ("leads", "activities", "intake_requests")]
