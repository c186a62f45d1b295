"""Keeping `metrics_daily` current: the last few local days of each tenant, rewritten from the raw rows.

The ROI page and the dashboard's funnel read the rollup, never the raw event tables, so that
they stay fast at millions of events. The rollup agent rewrites today and the days before it
(`DAYS_BACK`) every few minutes: late provider webhooks and conversions credited a day later
land in the right day, and older days, which no longer move, are left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from app import runtime
from db import rollups

DAYS_BACK = 2


def first_local_day(now: datetime, timezone: str, days_back: int) -> datetime:
    """Midnight, in the tenant's zone, `days_back` days before the local day of `now`."""
    local = now.astimezone(ZoneInfo(timezone))
    return (local - timedelta(days=days_back)).replace(hour=0, minute=0, second=0, microsecond=0)


def refresh_tenant(*, tenant_id: int, days_back: int = DAYS_BACK, now: datetime | None = None) -> int:
    """Rewrite the tenant's rollups from `days_back` local days ago; returns the rows written."""
    at = now or datetime.now(UTC)
    with runtime.session_scope() as session, session.begin():
        timezone = session.execute(text("SELECT timezone FROM tenants WHERE id = :t"), {"t": tenant_id}).scalar()
        if timezone is None:
            raise LookupError(f"no tenant {tenant_id}")
        first = first_local_day(at, timezone, days_back).date()
        return rollups.refresh_days(
            session.connection(), tenant_id=tenant_id, timezone=timezone, first_day=first, at=at
        )
