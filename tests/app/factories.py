"""A small, deterministic world for the console tests: two tenants with every kind of row a
page reads, plus an empty third tenant, all placed relative to `now` so time-window figures
are stable (no lead sits within an hour of a threshold, no conversion near the 30-day edge).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Engine

from app.services.operators import hash_password
from db.models import (
    AgentRun,
    Campaign,
    Conversion,
    Enrollment,
    InboundMessage,
    Lead,
    MetricsDaily,
    Operator,
    Tenant,
)

DEMO_PASSWORD = "demo"
ADMIN_PASSWORD = "admin-pass-123"
HOURS_SILENT = (2, 10, 30, 50, 80, 200, 500)  # never within an hour of the 24/48/72 h rungs
STATES = ("active", "active", "silent", "in_recovery", "replied", "recovered", "lost", "control")
CONVERSION_DAYS_AGO = (1, 5, 12, 40)  # 40: outside the 30-day window
METHODS = ("ai", "template", "manual", "organic")
SUGGESTED_REPLY = "Thanks! When suits you?"
HOSTILE_BODY = "<b>Call me</b> **today** [here](http://evil.example) <script>alert(1)</script>"


@dataclass
class World:
    now: dt.datetime
    tenants: dict[str, int] = field(default_factory=dict)
    operators: dict[str, int] = field(default_factory=dict)
    campaigns: dict[str, int] = field(default_factory=dict)


def build(engine: Engine, *, now: dt.datetime | None = None, seed: int = 11) -> World:
    """Insert the world and return the ids the tests need."""
    world = World(now=now or dt.datetime.now(dt.UTC).replace(microsecond=0))
    rng = random.Random(seed)
    demo_hash, admin_hash = hash_password(DEMO_PASSWORD), hash_password(ADMIN_PASSWORD)
    with engine.begin() as conn:
        for slug, name in (("acme", "Acme Dental"), ("birch", "Birch Realty"), ("empty", "Empty Co")):
            world.tenants[slug] = _insert(
                conn,
                Tenant,
                slug=slug,
                name=name,
                timezone="America/New_York",
                sender_name=f"{name} team",
                sender_email=f"hello@{slug}.example",
                physical_address="1 Main St, Springfield",
            )
        for slug, email, role, hashed in (
            ("acme", "demo@acme.example", "rep", demo_hash),
            ("acme", "boss@acme.example", "superuser", admin_hash),
            ("birch", "demo@birch.example", "rep", demo_hash),
        ):
            world.operators[email] = _insert(
                conn,
                Operator,
                tenant_id=world.tenants[slug],
                email=email,
                name=email.split("@")[0].title() + " " + slug.title(),
                role=role,
                password_hash=hashed,
            )
        _tenant_rows(conn, world, rng, "acme", leads=64, owner=world.operators["demo@acme.example"])
        _tenant_rows(conn, world, rng, "birch", leads=24, owner=world.operators["demo@birch.example"])
        _agent_runs(conn, world)
    return world


def _insert(conn: sa.Connection, model: type, **values: object) -> int:
    return int(conn.execute(sa.insert(model).values(**values).returning(model.id)).scalar_one())  # type: ignore[attr-defined]


def _tenant_rows(conn: sa.Connection, world: World, rng: random.Random, slug: str, *, leads: int, owner: int) -> None:
    tenant = world.tenants[slug]
    now = world.now
    running = _insert(conn, Campaign, tenant_id=tenant, name=f"{slug} win-back ladder", status="running")
    _insert(conn, Campaign, tenant_id=tenant, name=f"{slug} spring reactivation", kind="sequence", status="draft")
    _insert(conn, Campaign, tenant_id=tenant, name=f"{slug} old promo", status="paused", channel="sms")
    world.campaigns[slug] = running
    for i in range(leads):
        state = STATES[i % len(STATES)]
        lead = _insert(
            conn,
            Lead,
            tenant_id=tenant,
            external_id=f"{slug}-{i}",
            first_name=f"Lead{i}",
            last_name=slug.title(),
            company=f"Company {i % 7}",
            email=f"lead{i}@{slug}-mail.example",
            owner_id=owner if i % 3 else None,
            deal_value=Decimal(rng.choice((500, 1200, 2500, 8000))),
            intent_score=rng.randint(0, 100),
            last_activity_at=now - dt.timedelta(hours=rng.choice(HOURS_SILENT)),
            silence_level=rng.randint(0, 3) if state != "active" else 0,
            recovery_state=state,
        )
        if state in ("in_recovery", "replied", "control", "recovered"):
            _insert(
                conn,
                Enrollment,
                tenant_id=tenant,
                campaign_id=running,
                lead_id=lead,
                rung=1,
                is_control=state == "control",
                status={"in_recovery": "active", "replied": "stopped", "control": "control"}.get(state, "completed"),
            )
        if state == "recovered":
            days = CONVERSION_DAYS_AGO[(i // len(STATES) + 1) % len(CONVERSION_DAYS_AGO)]
            _insert(
                conn,
                Conversion,
                tenant_id=tenant,
                lead_id=lead,
                campaign_id=running,
                value=Decimal(rng.choice((900, 1500, 4000))),
                method=METHODS[(i // len(STATES)) % len(METHODS)],
                converted_at=now - dt.timedelta(days=days, hours=3),
            )
        if state == "replied":
            _reply(conn, tenant, lead, i, now)
    _metrics(conn, tenant, running, rng, now)


def _reply(conn: sa.Connection, tenant: int, lead: int, i: int, now: dt.datetime) -> None:
    priorities = ("high", "medium", None, "low")
    _insert(
        conn,
        InboundMessage,
        tenant_id=tenant,
        lead_id=lead,
        channel="email",
        from_address=f"lead{i}@mail.example",
        body=HOSTILE_BODY if i % 3 == 0 else f"Reply number {i}, please call me back.",
        intent="interested" if (i // len(STATES)) % 2 else "question",
        sentiment="positive",
        priority=priorities[(i // len(STATES)) % len(priorities)],
        suggested_reply=SUGGESTED_REPLY,
        received_at=now - dt.timedelta(hours=i),
        handled_at=now - dt.timedelta(minutes=5) if i % 5 == 0 else None,
    )


def _metrics(conn: sa.Connection, tenant: int, campaign: int, rng: random.Random, now: dt.datetime) -> None:
    today = now.date()
    for days_ago in range(0, 45, 2):
        for channel in ("email", "sms"):
            sent = rng.randint(5, 60)
            _insert(
                conn,
                MetricsDaily,
                tenant_id=tenant,
                campaign_id=campaign,
                channel=channel,
                day=today - dt.timedelta(days=days_ago),
                sent=sent,
                delivered=sent - 1,
                replied=rng.randint(0, 5),
                conversions=rng.randint(0, 2),
                revenue=Decimal(rng.choice((0, 0, 900, 1500))),
                cost_usd=Decimal(sent) * Decimal("0.0123"),
            )


def _agent_runs(conn: sa.Connection, world: World) -> None:
    now = world.now
    runs = [
        ("heartbeat", None, "succeeded", 1, {"tenants": 3}),
        ("heartbeat", None, "succeeded", 6, {"tenants": 3}),
        ("scanner", world.tenants["acme"], "succeeded", 2, {"enrolled": 12}),
        ("scanner", world.tenants["acme"], "succeeded", 7, {"enrolled": 3}),
        ("writer", world.tenants["acme"], "failed", 3, {"written": 1}),
        ("scanner", world.tenants["birch"], "failed", 1, {"enrolled": 0}),
    ]
    for n, (agent, tenant, status, minutes_ago, counts) in enumerate(runs):
        started = now - dt.timedelta(minutes=minutes_ago)
        _insert(
            conn,
            AgentRun,
            tenant_id=tenant,
            job_id=f"job-{n}",
            agent=agent,
            status=status,
            counts=counts,
            error="boom" if status == "failed" else None,
            started_at=started,
            finished_at=started + dt.timedelta(seconds=2),
        )


def holdout_groups(
    engine: Engine, tenant: int, now: dt.datetime, *, treated: tuple[int, int], control: tuple[int, int], value: int
) -> None:
    """A hold-out comparison of known counts in `tenant`: (leads, converted) per group, each lead
    enrolled 10 days before `now` and each converted one worth `value` once, 5 days before `now`.

    Around them, rows the comparison must leave out: a treated lead whose only conversion came
    before its enrolment (a lead, not a recovery), and a held-out lead enrolled 120 days ago,
    outside the 90-day window, that converted.
    """
    enrolled, converted = now - dt.timedelta(days=10), now - dt.timedelta(days=5)
    with engine.begin() as conn:
        campaign = _insert(conn, Campaign, tenant_id=tenant, name="Hold-out test ladder", status="running")

        def lead(n: int, is_control: bool, at: dt.datetime) -> int:
            group = "control" if is_control else "treated"
            made = _insert(
                conn,
                Lead,
                tenant_id=tenant,
                external_id=f"{group}-{n}",
                first_name=f"{group.title()}{n}",
                last_name="Holdout",
                email=f"{group}{n}@holdout.example",
                last_activity_at=at - dt.timedelta(days=3),
                recovery_state="control" if is_control else "in_recovery",
            )
            _insert(
                conn,
                Enrollment,
                tenant_id=tenant,
                campaign_id=campaign,
                lead_id=made,
                rung=1,
                is_control=is_control,
                status="control" if is_control else "active",
                enrolled_at=at,
            )
            return made

        def conversion(lead_id: int, at: dt.datetime, method: str) -> None:
            _insert(
                conn,
                Conversion,
                tenant_id=tenant,
                lead_id=lead_id,
                value=Decimal(value),
                method=method,
                converted_at=at,
            )

        for is_control, (leads, won) in ((False, treated), (True, control)):
            method = "organic" if is_control else "ai"  # a held-out lead can only come back on its own
            for n in range(leads):
                made = lead(n, is_control, enrolled)
                if n < won:
                    conversion(made, converted, method)
                elif n == won and not is_control:
                    conversion(made, enrolled - dt.timedelta(days=1), "organic")  # before its enrolment
        too_old = lead(control[0], True, now - dt.timedelta(days=120))
        conversion(too_old, now - dt.timedelta(days=100), "organic")
