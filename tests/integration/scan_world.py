"""The scan tests' world: tenants and leads built with SQL at a pinned instant, and readers of what
the scan wrote."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from db.models import (
    Campaign,
    CampaignTransition,
    Enrollment,
    Lead,
    ScheduledAction,
    Suppression,
    Tenant,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_external_ids = itertools.count(1)


def make_tenant(engine: Engine, slug: str = "acme", **rules: Any) -> int:
    values = {"slug": slug, "name": slug.title(), "holdout_percent": 0, **rules}
    with engine.begin() as conn:
        return int(conn.execute(sa.insert(Tenant).values(**values).returning(Tenant.id)).scalar_one())


def make_leads(engine: Engine, tenant_id: int, count: int = 1, *, silent_hours: float = 30, **fields: Any) -> list[int]:
    rows = []
    for _ in range(count):
        n = next(_external_ids)
        row = {
            "tenant_id": tenant_id,
            "external_id": f"x{n}",
            "first_name": f"Lead{n}",
            "email": f"lead{n}@example.com",
            "last_activity_at": NOW - timedelta(hours=silent_hours),
            **fields,
        }
        rows.append(row)
    with engine.begin() as conn:
        return list(conn.execute(sa.insert(Lead).returning(Lead.id), rows).scalars())


def make_lead(engine: Engine, tenant_id: int, **fields: Any) -> int:
    return make_leads(engine, tenant_id, 1, **fields)[0]


def rows(engine: Engine, model: Any, *where: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(model.__table__).where(*where).order_by(model.id)).all())


def lead(engine: Engine, lead_id: int) -> Any:
    [row] = rows(engine, Lead, Lead.id == lead_id)
    return row


def enrolled_rungs(engine: Engine, tenant_id: int) -> dict[int, int]:
    return {e.lead_id: e.rung for e in rows(engine, Enrollment, Enrollment.tenant_id == tenant_id)}


def suppress(engine: Engine, tenant_id: int, channel: str, address: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Suppression).values(tenant_id=tenant_id, channel=channel, address=address, reason="unsubscribe")
        )


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            model.__tablename__: conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
            for model in (Enrollment, ScheduledAction, CampaignTransition, Campaign)
        }
