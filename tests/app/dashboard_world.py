"""The dashboard tests' world: the console tests' tenants (tests/app/factories.py) plus history for
acme, a "Feed Co" tenant whose every row has a distinct time and a hostile lead name, and a
"Quiet Co" tenant with leads and nothing else, all built around one pinned instant."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Engine

from db.models import (
    AgentRun,
    Campaign,
    Conversion,
    Enrollment,
    InboundMessage,
    Lead,
    MessageEvent,
    OutboundMessage,
    Tenant,
)
from tests.app import factories

HOSTILE_NAME = "[Click](http://evil.example) **now**"
FEED_ITEMS = 26  # more than the feed shows, so the cut is tested too
NEW_YORK = ZoneInfo("America/New_York")  # every tenant's zone (factories.build)
# The instants the world is built around and the page is pinned to: the real time of the run
# (to the second), and 00:00:30 on a winter Tuesday in New York (05:00:30 UTC).
CLOCKS = {
    "real-time": None,
    "new-york-00:00:30": dt.datetime(2026, 1, 13, 0, 0, 30, tzinfo=NEW_YORK),
}


def _insert(conn: sa.Connection, model: Any, **values: Any) -> int:
    return int(conn.execute(sa.insert(model).values(**values).returning(model.id)).scalar_one())


def _history(conn: sa.Connection, world: factories.World) -> None:
    """Acme's period before: enrollments that started 40-50 days ago (some closed 10 days ago), replies
    40 days ago, one lead quiet for 50 days; and opens and clicks in its rollup."""
    t, now = world.tenants["acme"], world.now
    older = _insert(conn, Campaign, tenant_id=t, name="acme autumn ladder", status="completed")
    leads = [r[0] for r in conn.execute(sa.text("SELECT id FROM leads WHERE tenant_id = :t ORDER BY id"), {"t": t})]
    for n, lead in enumerate(leads[:12]):
        _insert(
            conn,
            Enrollment,
            tenant_id=t,
            campaign_id=older,
            lead_id=lead,
            status="completed" if n % 2 else "stopped",
            is_control=n % 6 == 5,
            enrolled_at=now - dt.timedelta(days=40 + n % 10, hours=2),
            completed_at=now - dt.timedelta(days=10) if n % 3 else now - dt.timedelta(days=35),
        )
        if n % 4 == 0:
            _insert(
                conn,
                InboundMessage,
                tenant_id=t,
                lead_id=lead,
                channel="sms",
                from_address=f"+1555000{n:04d}",
                body="Older reply",
                received_at=now - dt.timedelta(days=40),
            )
    _insert(
        conn,
        Lead,
        tenant_id=t,
        external_id="acme-long-quiet",
        first_name="Longquiet",
        last_name="Acme",
        last_activity_at=now - dt.timedelta(days=50),
        recovery_state="silent",
    )
    _today(conn, world, leads[0])
    conn.execute(
        sa.text(
            "UPDATE metrics_daily SET opened = sent / 3, clicked = sent / 5 WHERE tenant_id = :t AND channel = 'email'"
        ),
        {"t": t},
    )
    conn.execute(
        sa.text("UPDATE metrics_daily SET clicked = sent / 4 WHERE tenant_id = :t AND channel = 'sms'"), {"t": t}
    )


def _today(conn: sa.Connection, world: factories.World, lead: int) -> None:
    """Acme's raw rows of today, which the funnel adds to the rollup's whole days: one email sent,
    delivered, opened twice, clicked and replied to, and a conversion credited to it. All of them
    within the last 25 seconds, so inside the tenant's local day even at 00:00:30."""
    t, now = world.tenants["acme"], world.now
    message = _insert(
        conn,
        OutboundMessage,
        tenant_id=t,
        campaign_id=world.campaigns["acme"],
        lead_id=lead,
        channel="email",
        to_address="today@acme-mail.example",
        body="Hello again",
        status="delivered",
        dedupe_key="acme-today",
        created_at=now - dt.timedelta(seconds=25),
        sent_at=now - dt.timedelta(seconds=24),
    )
    for n, kind in enumerate(("delivered", "open", "open", "click", "reply")):
        _insert(
            conn,
            MessageEvent,
            tenant_id=t,
            message_id=message,
            lead_id=lead,
            channel="email",
            event_type=kind,
            occurred_at=now - dt.timedelta(seconds=20 - n),
            natural_key=f"acme-today-{n}",
        )
    _insert(
        conn,
        Conversion,
        tenant_id=t,
        lead_id=lead,
        campaign_id=world.campaigns["acme"],
        message_id=message,
        channel="email",
        value=Decimal(700),
        method="ai",
        converted_at=now - dt.timedelta(seconds=10),
    )


def _feed_tenant(conn: sa.Connection, world: factories.World) -> None:
    """Feed Co: one hostile-named lead and one plain one, and `FEED_ITEMS` rows of every source,
    each at its own minute."""
    now = world.now
    t = _insert(conn, Tenant, slug="feed", name="Feed Co")
    world.tenants["feed"] = t
    campaign = _insert(conn, Campaign, tenant_id=t, name="feed ladder", status="running")
    hostile = _insert(
        conn, Lead, tenant_id=t, external_id="f-1", first_name=HOSTILE_NAME, last_name="", last_activity_at=now
    )
    plain = _insert(
        conn, Lead, tenant_id=t, external_id="f-2", first_name="Pat", last_name="Plain", last_activity_at=now
    )
    enrollment = _insert(
        conn,
        Enrollment,
        tenant_id=t,
        campaign_id=campaign,
        lead_id=hostile,
        rung=1,
        enrolled_at=now - dt.timedelta(minutes=90),
    )
    for k in range(FEED_ITEMS):
        at = now - dt.timedelta(minutes=3 * k + 1, seconds=20)
        lead = hostile if k % 2 else plain
        source = k % 5
        if source == 0:
            message = _insert(
                conn,
                OutboundMessage,
                tenant_id=t,
                campaign_id=campaign,
                enrollment_id=enrollment,
                lead_id=lead,
                channel="email",
                to_address="x@feed.example",
                body="Hello",
                status="sent",
                dedupe_key=f"feed-{k}",
                created_at=at,
            )
        elif source == 1:
            _insert(
                conn,
                MessageEvent,
                tenant_id=t,
                message_id=message,
                lead_id=lead,
                channel="email",
                event_type=("delivered", "open", "click")[k % 3],
                occurred_at=at,
                natural_key=f"feed-event-{k}",
            )
        elif source == 2:
            _insert(
                conn,
                InboundMessage,
                tenant_id=t,
                lead_id=lead,
                channel="email",
                from_address="x@feed.example",
                body="Yes",
                intent="interested",
                received_at=at,
            )
        elif source == 3:
            _insert(conn, Conversion, tenant_id=t, lead_id=lead, value=Decimal(1500), method="ai", converted_at=at)
        else:
            _insert(
                conn,
                AgentRun,
                tenant_id=t,
                job_id=f"feed-job-{k}",
                agent="sender",
                status="succeeded",
                started_at=at,
                finished_at=at,
            )


def _quiet_tenant(conn: sa.Connection, world: factories.World) -> None:
    """Quiet Co: three leads active an hour ago, nothing else."""
    t = _insert(conn, Tenant, slug="quiet", name="Quiet Co")
    world.tenants["quiet"] = t
    for n in range(3):
        _insert(
            conn,
            Lead,
            tenant_id=t,
            external_id=f"q-{n}",
            first_name=f"Quiet{n}",
            last_activity_at=world.now - dt.timedelta(hours=1),
        )


def _on_the_clock(conn: sa.Connection, world: factories.World) -> None:
    """The factory leaves its enrollments' `enrolled_at` to the database's clock, which is the
    real time, after (or, for a pinned day in the past, long after) the world's instant: put
    them an hour before it, so what counts in the period does not depend on when the test runs."""
    conn.execute(
        sa.text("UPDATE enrollments SET enrolled_at = :at WHERE enrolled_at > :now"),
        {"at": world.now - dt.timedelta(hours=1), "now": world.now},
    )


def build(engine: Engine, now: dt.datetime | None) -> factories.World:
    """The whole world around `now` (the real time when None)."""
    built = factories.build(engine, now=now)
    with engine.begin() as conn:
        _on_the_clock(conn, built)
        _history(conn, built)
        _feed_tenant(conn, built)
        _quiet_tenant(conn, built)
    return built
