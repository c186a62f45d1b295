"""A small tenant for the campaign tests: five leads whose fields and reachability are worked by
hand (the docstring of `build` says who is who), a second tenant whose lead must never show,
and the operators who may or may not act."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

NOW = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)  # 10:00 in New York


@dataclass(frozen=True)
class World:
    tenant: int
    other_tenant: int
    rep: int
    manager: int
    viewer: int
    other_rep: int
    owner_2: int
    leads: dict[str, int]
    other_lead: int


def insert(engine: Engine, table: str, **values: Any) -> int:
    names = ", ".join(values)
    binds = ", ".join(
        f"CAST(:{k} AS jsonb)" if isinstance(v, dict) else f"CAST(:{k} AS text[])" if isinstance(v, list) else f":{k}"
        for k, v in values.items()
    )
    params = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in values.items()}
    with engine.begin() as conn:
        return int(
            conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({binds}) RETURNING id"), params).scalar()
        )


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def lead(engine: Engine, tenant: int, name: str, *, silent_hours: float, **columns: Any) -> int:
    values = {
        "tenant_id": tenant,
        "external_id": f"{tenant}-{name}",
        "first_name": name,
        "last_name": "Test",
        "timezone": "America/New_York",
        "last_activity_at": NOW - timedelta(hours=silent_hours),
        **columns,
    }
    return insert(engine, "leads", **values)


def tenant(engine: Engine, slug: str, **columns: Any) -> int:
    values = {
        "slug": slug,
        "name": slug.title() + " Solar",
        "timezone": "America/New_York",
        "sender_name": "Sam",
        "sender_email": f"sam@{slug}.example",
        "physical_address": "1 Main St, Springfield",
        **columns,
    }
    return insert(engine, "tenants", **values)


def operator(engine: Engine, tenant_id: int, email: str, role: str) -> int:
    return insert(engine, "operators", tenant_id=tenant_id, email=email, name=email.split("@")[0], role=role)


def build(engine: Engine) -> World:
    """Tenant "acme" (New York) and its leads, at NOW:

    | lead | stage  | source | score | silent | tags       | value | owner   | email            | phone          |
    |------|--------|--------|-------|--------|------------|-------|---------|------------------|----------------|
    | Ann  | new    | web    | 80    | 50 h   | solar      | 5000  | rep     | ok               | ok             |
    | Ben  | new    | web    | 60    | 30 h   |            | 1000  | none    | ok               | none           |
    | Cat  | quoted | ads    | 90    | 100 h  | solar, vip | 9000  | rep     | no consent       | ok             |
    | Dan  | new    | web    | 70    | 60 h   | vip        | 2000  | owner_2 | suppressed (Aa!) | no consent     |
    | Eve  | lost   | web    | 10    | 5 h    |            | 0     | none    | none             | carrier refused|

    and tenant "birch" with one lead who matches everything and must never be counted.
    """
    acme, birch = tenant(engine, "acme"), tenant(engine, "birch")
    rep, viewer = (
        operator(engine, acme, "rep@acme.example", "rep"),
        operator(engine, acme, "viewer@acme.example", "viewer"),
    )
    manager = operator(engine, acme, "manager@acme.example", "manager")  # launches, pauses and kills
    owner_2 = operator(engine, acme, "owner2@acme.example", "rep")
    other_rep = operator(engine, birch, "rep@birch.example", "rep")
    leads = {
        "Ann": lead(
            engine,
            acme,
            "Ann",
            silent_hours=50,
            stage="new",
            source="web",
            intent_score=80,
            tags=["solar"],
            deal_value=5000,
            owner_id=rep,
            email="ann@mail.example",
            phone="+15550000001",
            consent_sms=True,
            attributes={"interest": "solar panels"},
        ),
        "Ben": lead(
            engine,
            acme,
            "Ben",
            silent_hours=30,
            stage="new",
            source="web",
            intent_score=60,
            deal_value=1000,
            email="ben@mail.example",
        ),
        "Cat": lead(
            engine,
            acme,
            "Cat",
            silent_hours=100,
            stage="quoted",
            source="ads",
            intent_score=90,
            tags=["solar", "vip"],
            deal_value=9000,
            owner_id=rep,
            email="cat@mail.example",
            consent_email=False,
            phone="+15550000003",
            consent_sms=True,
        ),
        "Dan": lead(
            engine,
            acme,
            "Dan",
            silent_hours=60,
            stage="new",
            source="web",
            intent_score=70,
            tags=["vip"],
            deal_value=2000,
            owner_id=owner_2,
            email="Dan@Mail.example",
            phone="+15550000004",
            consent_sms=False,
        ),
        "Eve": lead(
            engine,
            acme,
            "Eve",
            silent_hours=5,
            stage="lost",
            source="web",
            intent_score=10,
            deal_value=0,
            phone="+15550000005",
            consent_sms=True,
            phone_unreachable="not a mobile number",
        ),
    }
    insert(engine, "suppressions", tenant_id=acme, channel="email", address="dan@mail.example", reason="unsubscribe")
    other = lead(
        engine,
        birch,
        "Zed",
        silent_hours=50,
        stage="new",
        source="web",
        intent_score=80,
        tags=["solar", "vip"],
        deal_value=2000,
        email="zed@mail.example",
        phone="+15550000009",
        consent_sms=True,
    )
    return World(acme, birch, rep, manager, viewer, other_rep, owner_2, leads, other)
