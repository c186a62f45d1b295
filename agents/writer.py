"""The writer agent: thin RQ jobs over `app/services/write.py`.

Safe to run twice and on several workers at once: actions are claimed with `FOR UPDATE SKIP
LOCKED`, and the outbox dedupe key refuses a second message for the same lead, node and
channel, so a re-run (cron has no lock; RQ re-runs abandoned jobs) writes nothing twice.
"""

from __future__ import annotations

from typing import Any

from agents.job_log import one_line
from app import queue, runtime
from app.services import agent_runs, write, write_backlog

BATCH = 200
"""Sends claimed per run: a full batch means more may wait, so the run queues the next one."""


@one_line
def write_due(tenant_id: int) -> dict[str, Any]:
    """Turn the tenant's due sends into checked outbox rows, then wake the sender; a full batch
    queues the next run at once, so a backlog drains without waiting for the cron sweep."""
    write_backlog.run_started(tenant_id)
    with agent_runs.tracked_run(agent="writer", tenant_id=tenant_id) as counts:
        counts.update(write.write_due(tenant_id=tenant_id, limit=BATCH))
    if counts.get("claimed", 0) >= BATCH:
        queue.enqueue(runtime.redis_client(), "write_due", tenant_id=tenant_id)
    return counts


@one_line
def write_all() -> dict[str, Any]:
    """The cron entry: one `write_due` job per tenant that PostgreSQL says has sends waiting."""
    with agent_runs.tracked_run(agent="writer") as counts:
        counts["tenants"] = write_backlog.wake_writers()
    return counts
