"""The rollup agent on real PostgreSQL: recent local days rewritten from the raw rows, older days
left alone, the same rows on a rerun, and another tenant untouched."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from agents import rollup as rollup_agent
from app.services import rollup

NOW = datetime(2030, 3, 6, 15, 0, tzinfo=UTC)  # 10:00 in New York, Wednesday 6 March
TODAY = date(2030, 3, 6)


def insert(engine: Engine, table: str, **values: Any) -> int:
    names = ", ".join(values)
    binds = ", ".join(f"CAST(:{k} AS jsonb)" if isinstance(v, dict) else f":{k}" for k, v in values.items())
    params = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in values.items()}
    with engine.begin() as conn:
        return int(
            conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({binds}) RETURNING id"), params).scalar_one()
        )


def world(engine: Engine, slug: str) -> dict[str, int]:
    t = insert(engine, "tenants", slug=slug, name=slug, timezone="America/New_York")
    lead = insert(
        engine,
        "leads",
        tenant_id=t,
        external_id=f"{slug}-1",
        first_name="Ann",
        email=f"ann@{slug}.example",
        last_activity_at=NOW,
    )
    campaign = insert(engine, "campaigns", tenant_id=t, name="Recovery", status="running", plan={})
    return {"tenant": t, "lead": lead, "campaign": campaign}


def message(engine: Engine, w: dict[str, int], n: int, sent_at: datetime, cost: str = "0.001") -> int:
    return insert(
        engine,
        "outbound_messages",
        tenant_id=w["tenant"],
        campaign_id=w["campaign"],
        lead_id=w["lead"],
        channel="email",
        to_address="ann@example.com",
        body="Hello",
        status="sent",
        sent_at=sent_at,
        cost_usd=cost,
        dedupe_key=f"{w['tenant']}:{n}",
    )


def event(engine: Engine, w: dict[str, int], message_id: int, kind: str, at: datetime) -> None:
    insert(
        engine,
        "message_events",
        tenant_id=w["tenant"],
        message_id=message_id,
        lead_id=w["lead"],
        channel="email",
        event_type=kind,
        occurred_at=at,
        natural_key=f"{message_id}:{kind}:{at.isoformat()}",
    )


def rollup_rows(engine: Engine, tenant_id: int) -> dict[date, tuple[Any, ...]]:
    sql = sa.text(
        "SELECT day, sent, delivered, opened, clicked, conversions, revenue, cost_usd FROM metrics_daily "
        "WHERE tenant_id = :t ORDER BY day"
    )
    with engine.connect() as conn:
        return {row.day: tuple(row)[1:] for row in conn.execute(sql, {"t": tenant_id})}


def test_recent_days_are_rewritten_from_the_raw_rows_and_older_ones_kept(clean_db: Engine) -> None:
    w = world(clean_db, "acme")
    other = world(clean_db, "birch")
    old = message(clean_db, w, 1, NOW - timedelta(days=5))
    yesterday = message(clean_db, w, 2, NOW - timedelta(days=1), cost="0.002")
    message(clean_db, w, 3, NOW - timedelta(hours=1))
    event(clean_db, w, old, "delivered", NOW - timedelta(hours=2))  # a late webhook for an old message
    event(clean_db, w, yesterday, "open", NOW - timedelta(days=1, hours=-1))
    event(clean_db, w, yesterday, "click", NOW - timedelta(minutes=30))
    insert(
        clean_db,
        "conversions",
        tenant_id=w["tenant"],
        lead_id=w["lead"],
        campaign_id=w["campaign"],
        message_id=yesterday,
        channel="email",
        value="1200",
        method="ai",
        converted_at=NOW - timedelta(minutes=10),
    )
    five_days_ago = TODAY - timedelta(days=5)
    for tenant, day in (
        (w["tenant"], five_days_ago),
        (w["tenant"], TODAY - timedelta(days=1)),
        (other["tenant"], TODAY),
    ):
        insert(clean_db, "metrics_daily", tenant_id=tenant, campaign_id=None, channel="email", day=day, sent=99)

    written = rollup.refresh_tenant(tenant_id=w["tenant"], now=NOW)

    rows = rollup_rows(clean_db, w["tenant"])
    assert written == 2
    assert rows[five_days_ago][0] == 99, "days before the window are not rewritten"
    assert rows[TODAY - timedelta(days=1)][:5] == (1, 0, 1, 0, 0), "the stale row of yesterday was replaced"
    today = rows[TODAY]
    assert today[:5] == (1, 1, 0, 1, 1)
    assert (float(today[5]), float(today[6])) == (1200.0, 0.001)
    assert set(rows) == {five_days_ago, TODAY - timedelta(days=1), TODAY}
    assert rollup_rows(clean_db, other["tenant"]) == {TODAY: (99, 0, 0, 0, 0, 0, 0)}, "another tenant is untouched"

    assert rollup.refresh_tenant(tenant_id=w["tenant"], now=NOW) == 2
    assert rollup_rows(clean_db, w["tenant"]) == rows, "a rerun writes the same rows"


def test_the_window_starts_at_local_midnight() -> None:
    first = rollup.first_local_day(NOW, "America/New_York", 2)
    assert first.isoformat() == "2030-03-04T00:00:00-05:00"
    assert rollup.first_local_day(datetime(2030, 3, 6, 3, 0, tzinfo=UTC), "America/New_York", 0).day == 5


def test_the_agent_records_its_run(clean_db: Engine) -> None:
    w = world(clean_db, "acme")
    message(clean_db, w, 1, datetime.now(UTC))
    assert rollup_agent.refresh_tenant(w["tenant"]) == {"rows": 1, "ab_decided": 0}
    with clean_db.connect() as conn:
        runs = conn.execute(
            sa.text("SELECT agent, status FROM agent_runs WHERE tenant_id = :t"), {"t": w["tenant"]}
        ).all()
    assert [tuple(r) for r in runs] == [("rollup", "succeeded")]
