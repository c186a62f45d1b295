"""`POST /api/conversions` through the real app (`create_app`) on real PostgreSQL and Redis: a key
decides the tenant, a batch mixes created, duplicate and rejected rows, a rejected row and another
tenant's lead change nothing, a retried request counts once, and the OpenAPI documents it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api import create_app
from app.services import api_keys
from tests.integration.outbox import make_leads, make_tenant


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def snapshot(engine: Engine) -> list[Any]:
    """Every row the route may touch, to prove a refused request touched none."""
    return [
        sql(engine, f"SELECT * FROM {table} ORDER BY id")
        for table in ("conversions", "leads", "enrollments", "campaign_transitions")
    ]


def post(client: TestClient, key: str, rows: list[dict[str, Any]], **headers: str) -> Any:
    return client.post(
        "/api/conversions", json={"conversions": rows}, headers={"Authorization": f"Bearer {key}", **headers}
    )


@pytest.fixture
def world(db: Engine) -> dict[str, Any]:
    acme, birch = make_tenant(db), make_tenant(db, slug="birch")
    leads = make_leads(db, acme, 3)
    (theirs,) = make_leads(db, birch, 1)
    _, key = api_keys.create_key(tenant_id=acme, name="CRM", created_by=None)
    _, birch_key = api_keys.create_key(tenant_id=birch, name="CRM", created_by=None)
    externals = dict(sql(db, "SELECT id, external_id FROM leads"))
    return {
        "acme": acme,
        "birch": birch,
        "leads": leads,
        "theirs": theirs,
        "key": key,
        "birch_key": birch_key,
        "ext": externals,
    }


def test_a_batch_mixes_created_duplicate_and_rejected_rows(
    db: Engine, client: TestClient, world: dict[str, Any]
) -> None:
    a, b, c = world["leads"]
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).replace(microsecond=0)
    rows = [
        {"lead_id": a, "value": 1250, "converted_at": when.isoformat(), "id": "order-1", "note": "annual plan"},
        {"lead_external_id": world["ext"][b], "value": "99.90"},
        {"lead_id": world["theirs"], "value": 10},  # birch's lead: not found for acme's key
        {"lead_id": c, "value": -3},
        {"lead_id": c, "value": "cheap"},
        {"lead_id": c, "value": 5, "colour": "red"},
        {"value": 5},
        {"lead_id": a, "value": 1250, "id": "order-1"},  # the first row again
    ]
    answer = post(client, world["key"], rows)
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [
        (0, "created"),
        (1, "created"),
        (2, "rejected"),
        (3, "rejected"),
        (4, "rejected"),
        (5, "rejected"),
        (6, "rejected"),
        (7, "duplicate"),
    ]
    stored = sql(db, "SELECT id, lead_id, value, converted_at, external_id, method FROM conversions ORDER BY id")
    assert [(r.lead_id, r.value, r.external_id, r.method) for r in stored] == [
        (a, Decimal("1250.00"), "order-1", "organic"),  # never contacted: came back on its own
        (b, Decimal("99.90"), None, "organic"),
    ]
    assert stored[0].converted_at == when
    assert [results[0]["id"], results[1]["id"], results[7]["id"]] == [stored[0].id, stored[1].id, stored[0].id]
    assert results[2]["errors"] == [{"field": "lead_id", "message": "not found"}]
    assert results[3]["errors"] == [{"field": "value", "message": "cannot be negative"}]
    assert [e["field"] for e in results[4]["errors"]] == ["value"]
    assert [e["field"] for e in results[5]["errors"]] == ["colour"]
    assert results[6]["errors"] == [
        {"field": "lead_id", "message": "name the lead by lead_id or by lead_external_id (one of them)"}
    ]
    assert all(r["id"] is None for r in results[2:7])
    states = dict(sql(db, "SELECT id, recovery_state FROM leads"))
    assert (states[a], states[b], states[c], states[world["theirs"]]) == ("recovered", "recovered", "active", "active")


def test_a_retried_request_with_an_idempotency_key_counts_once(
    db: Engine, client: TestClient, world: dict[str, Any]
) -> None:
    a, b, _ = world["leads"]
    rows = [{"lead_id": a, "value": 400}, {"lead_id": b, "value": 600}]
    first = post(client, world["key"], rows, **{"Idempotency-Key": "batch-7"}).json()["results"]
    after_first = snapshot(db)
    again = post(client, world["key"], rows, **{"Idempotency-Key": "batch-7"}).json()["results"]
    assert [r["status"] for r in first] == ["created", "created"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert [r["id"] for r in again] == [r["id"] for r in first]
    assert snapshot(db) == after_first
    keys = [r.external_id for r in sql(db, "SELECT external_id FROM conversions ORDER BY id")]
    assert keys == ["batch-7:0", "batch-7:1"]
    assert sql(db, "SELECT sum(value) FROM conversions")[0][0] == Decimal("1000.00")


def test_without_a_valid_key_nothing_is_recorded(db: Engine, client: TestClient, world: dict[str, Any]) -> None:
    before = snapshot(db)
    row = [{"lead_id": world["leads"][0], "value": 10}]
    for headers in ({}, {"Authorization": "Bearer lre_nope"}, {"Authorization": f"Basic {world['key']}"}):
        answer = client.post("/api/conversions", json={"conversions": row}, headers=headers)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    key_id = sql(db, "SELECT id FROM api_keys WHERE tenant_id = :t", t=world["acme"])[0].id
    api_keys.revoke_key(key_id=key_id)
    assert post(client, world["key"], row).status_code == 401
    assert snapshot(db) == before


def test_another_tenants_key_cannot_reach_these_leads(db: Engine, client: TestClient, world: dict[str, Any]) -> None:
    before = snapshot(db)
    a = world["leads"][0]
    results = post(
        client, world["birch_key"], [{"lead_id": a, "value": 10}, {"lead_external_id": world["ext"][a], "value": 10}]
    )
    assert [r["errors"] for r in results.json()["results"]] == [
        [{"field": "lead_id", "message": "not found"}],
        [{"field": "lead_external_id", "message": "not found"}],
    ]
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "body",
    [{"conversions": []}, {"conversions": [{"lead_id": 1, "value": 1}] * 1001}, {"rows": []}, {"conversions": ["x"]}],
)
def test_a_malformed_batch_is_refused_whole(db: Engine, client: TestClient, world: dict[str, Any], body: Any) -> None:
    before = snapshot(db)
    answer = client.post("/api/conversions", json=body, headers={"Authorization": f"Bearer {world['key']}"})
    assert answer.status_code == 422
    assert snapshot(db) == before


def test_the_openapi_documents_the_route_its_rows_and_the_key(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    route = spec["paths"]["/api/conversions"]["post"]
    assert route["summary"] == "Record conversions (deals won)"
    assert route["security"] == [{"ApiKey": []}]
    assert "401" in route["responses"]
    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    row = spec["components"]["schemas"]["ConversionBatch"]["properties"]["conversions"]["items"]
    assert set(row["properties"]) == {"lead_id", "lead_external_id", "value", "converted_at", "id", "note"}
    assert row["required"] == ["value"]
    result = spec["components"]["schemas"]["ConversionResult"]["properties"]
    assert result["status"]["enum"] == ["created", "duplicate", "rejected"]
