"""The rollup agent: thin RQ jobs over `app/services/rollup.py`.

Safe to run twice, or two at once: each run rewrites the same recent days from the same raw
rows, under a per-tenant lock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agents.job_log import one_line
from app import queue, runtime
from app.services import ab_decisions, agent_runs, rollup, scan


@one_line
def refresh_tenant(tenant_id: int, days_back: int = rollup.DAYS_BACK) -> dict[str, Any]:
    """Rewrite this tenant's rollups of the last few local days (more when a late fact asks: a
    conversion reported days after it happened), then settle any A/B test that reached its verdict."""
    with agent_runs.tracked_run(agent="rollup", tenant_id=tenant_id) as counts:
        counts["rows"] = rollup.refresh_tenant(tenant_id=tenant_id, days_back=days_back)
        counts["ab_decided"] = ab_decisions.decide_running(tenant_id=tenant_id, now=datetime.now(UTC))
    return counts


@one_line
def refresh_all() -> dict[str, Any]:
    """The cron sweep: one `refresh_rollups` job per tenant."""
    ids = scan.tenant_ids()
    connection = runtime.redis_client()
    for tenant_id in ids:
        queue.enqueue(connection, "refresh_rollups", tenant_id=tenant_id)
    return {"tenants": len(ids)}
