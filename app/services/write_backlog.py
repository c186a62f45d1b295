"""The writer's sweep: which tenants have sends waiting to be written, found in PostgreSQL.

The writer is woken by whoever schedules a send (a scan, a plan step, a person's "recover"),
and one run claims at most a batch. A wake-up lost with Redis, or a backlog larger than one
batch, would otherwise wait for the next scan that happens to schedule something. The cron
sweep asks PostgreSQL, the source of truth, which tenants have due sends and wakes the writer
for each, so the queue is rebuilt from the database however Redis was lost.

The sweep queues at most one run per tenant at a time: a Redis flag (SET NX) marks a run it
queued, and the run drops the flag as it starts. A run that outlasts the sweep's interval
(a slow model) therefore does not gather a queue of runs behind it. A flag lost with Redis,
or left by a run that never started, lets the next sweep through (the flag expires).
"""

from __future__ import annotations

from sqlalchemy import text

from app import queue, runtime
from app.services.write import STALE_AFTER

FLAG_TTL_SECONDS = queue.JOB_TIMEOUTS["write_due"]
"""A queued run starts well within this, or it was lost and the sweep may queue another."""

_WAITING = text("""
SELECT DISTINCT tenant_id FROM scheduled_actions
WHERE kind = 'send' AND due_at <= now()
  AND (status = 'pending' OR (status = 'running' AND updated_at < now() - make_interval(secs => :stale_seconds)))
  AND NOT EXISTS (  -- as the writer's claim: a paused campaign's sends wait, and wake no one
      SELECT 1 FROM enrollments AS e JOIN campaigns AS c ON c.id = e.campaign_id
      WHERE e.id = scheduled_actions.enrollment_id AND c.status IN ('paused', 'killed'))
ORDER BY tenant_id
""")


def tenants_waiting() -> list[int]:
    """The tenants with a due send the writer has not written (or whose writer died)."""
    with runtime.session_scope() as session:
        return list(session.execute(_WAITING, {"stale_seconds": STALE_AFTER.total_seconds()}).scalars())


def wake_writers() -> int:
    """Enqueue one `write_due` per tenant with sends waiting and no sweep's run still queued; the
    number of tenants woken."""
    connection = runtime.redis_client()
    woken = 0
    for tenant_id in tenants_waiting():
        if connection.set(_flag(tenant_id), 1, nx=True, ex=FLAG_TTL_SECONDS):
            queue.enqueue(connection, "write_due", tenant_id=tenant_id)
            woken += 1
    return woken


def run_started(tenant_id: int) -> None:
    """A writer run for the tenant has started: the next sweep may queue another."""
    runtime.redis_client().delete(_flag(tenant_id))


def _flag(tenant_id: int) -> str:
    return f"lre:writer:sweep-queued:{tenant_id}"
