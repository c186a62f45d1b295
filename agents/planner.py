"""The planner agent: thin RQ jobs over `app/services/campaign_run.py`, the plan interpreter's clock.

Every minute cron fans out one `fire_due` per tenant: campaigns scheduled to start now start
(their audience enrolled), then due timers (the recovery ladder's waits,
a send's no-open/no-reply) and the lead events queued for running plans move their enrollments.
Safe to run twice: the due actions are claimed `FOR UPDATE SKIP LOCKED` and marked done in the
same transaction as the step, and every send and timer it schedules has a unique dedupe key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agents.job_log import one_line
from app import queue, runtime
from app.services import agent_runs, campaign_lifecycle, campaign_run, scan


@one_line
def fire_due(tenant_id: int) -> dict[str, Any]:
    """Start the tenant's scheduled campaigns whose time has come, then step the enrollments whose
    timer is due or that heard an event; wake the writer if they sent."""
    with agent_runs.tracked_run(agent="planner", tenant_id=tenant_id) as counts:
        counts["started"] = len(campaign_lifecycle.start_due(tenant_id=tenant_id, now=datetime.now(UTC)))
        counts.update(campaign_run.fire_due(tenant_id=tenant_id))
    return counts


@one_line
def fire_all() -> dict[str, Any]:
    """The cron entry: one `fire_due` job per tenant, so tenants step in parallel."""
    with agent_runs.tracked_run(agent="planner") as counts:
        ids = scan.tenant_ids()
        connection = runtime.redis_client()
        for tenant_id in ids:
            queue.enqueue(connection, "fire_due", tenant_id=tenant_id)
        counts["tenants"] = len(ids)
    return counts
