"""Retention: a tenant's closed leads are anonymised once they have been closed longer than the
tenant keeps them (`tenants.retention_days`; NULL keeps them for good).

Closed means recovered or lost; closed since the last thing that happened to it (its last
activity, recovery or contact). Anonymising is an erasure's (`app.services.erasure.anonymise`)
without the suppression: keeping data no longer is not an objection to being contacted. Runs
in small batches, each its own transaction, so a large first run neither holds locks for long
nor loses finished batches; `erased_at` makes a second run (or two at once) skip what is done.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text

from app import queue, runtime
from app.services import audit, erasure
from db.models import Tenant

MAX_RETENTION_DAYS = 36_500  # the database's `retention_days` check
BATCH = 25
"""Leads per transaction: the sweep of every text column runs once per batch, with their values."""
MAX_PER_RUN = 2_000
"""Leads per tenant per run: the next hourly run goes on where this one stopped."""

_TENANTS = text("SELECT id, retention_days FROM tenants WHERE retention_days IS NOT NULL ORDER BY id")
_EXPIRED = text(
    """
    SELECT l.id FROM leads AS l
    WHERE l.tenant_id = :tenant_id AND l.recovery_state IN ('recovered', 'lost') AND l.erased_at IS NULL
      AND l.last_activity_at < :cutoff
      AND coalesce(l.recovered_at, l.last_activity_at) < :cutoff
      AND coalesce(l.last_contacted_at, l.last_activity_at) < :cutoff
    ORDER BY l.last_activity_at, l.id
    LIMIT :limit
    FOR UPDATE OF l SKIP LOCKED
    """
)


@dataclass(frozen=True)
class Expired:
    tenant_id: int
    cutoff: dt.datetime


def due(now: dt.datetime) -> list[Expired]:
    """Each tenant with a retention period, and the moment before which its closed leads expire."""
    with runtime.session_scope() as session:
        rows = session.execute(_TENANTS).all()
    return [Expired(int(r.id), now - dt.timedelta(days=int(r.retention_days))) for r in rows]


def anonymise_batch(*, tenant_id: int, cutoff: dt.datetime, now: dt.datetime, limit: int = BATCH) -> int:
    """Anonymise up to `limit` expired leads of the tenant in one transaction; how many.

    Redis is swept only when the period is shorter than a failed job's stay there
    (`queue.FAILURE_TTL_S`): nothing a lead untouched for longer set off is still in Redis, and a
    scan of every key per batch would cost more than the batch.
    """
    with runtime.session_scope() as session, session.begin():
        ids = list(session.scalars(_EXPIRED, {"tenant_id": tenant_id, "cutoff": cutoff, "limit": limit}))
        facts = erasure.lead_facts(session, tenant_id=tenant_id, lead_ids=ids)
        erasure.anonymise(session, facts, suppress=False, now=now)
    if (now - cutoff).total_seconds() <= queue.FAILURE_TTL_S:
        erasure.sweep_redis_values(facts)
    return len(facts)


def anonymise_expired(*, now: dt.datetime, max_per_tenant: int = MAX_PER_RUN) -> dict[str, int]:
    """The retention run over every tenant; leads anonymised, by tenant id."""
    done: dict[str, int] = {}
    for expired in due(now):
        count = 0
        while count < max_per_tenant:
            n = anonymise_batch(tenant_id=expired.tenant_id, cutoff=expired.cutoff, now=now)
            count += n
            if n < BATCH:
                break
        if count:
            done[str(expired.tenant_id)] = count
    return done


def set_retention(*, tenant_id: int, operator_id: int, days: int | None) -> None:
    """Set how long the tenant keeps closed leads (None: for good). Only an owner or an admin of the
    tenant (`PermissionError`); `ValueError` naming the field when out of range."""
    if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
        raise ValueError(f"retention_days must be between 1 and {MAX_RETENTION_DAYS:,} days, or empty to keep leads")
    with runtime.session_scope() as session, session.begin():
        erasure.check_eraser(session, operator_id=operator_id, tenant_id=tenant_id)
        tenant = session.get(Tenant, tenant_id, with_for_update=True)
        if tenant is None:
            raise LookupError(f"no tenant {tenant_id}")
        tenant.retention_days = days
        audit.record(
            session,
            tenant_id=tenant_id,
            operator_id=operator_id,
            action="settings",
            subject="retention",
            details={"retention_days": days},
        )
