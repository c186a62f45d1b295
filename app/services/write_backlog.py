"""The writer's sweep: which tenants have sends waiting to be written, found in PostgreSQL.

The writer is woken by whoever schedules a send (a scan, a plan step, a person's "recover"),
and one run claims at most a batch. A wake-up lost with Redis, or a backlog larger than one
batch, would otherwise wait for the next scan that happens to schedule something. The cron
sweep asks PostgreSQL, the source of truth, which tenants have due sends and wakes the writer
for each, so the queue is rebuilt from the database however Redis was lost.
"""

from __future__ import annotations

from sqlalchemy import text

from app import queue, runtime
from app.services.write import STALE_AFTER

_WAITING = text("""
SELECT DISTINCT tenant_id FROM scheduled_actions
WHERE kind = 'send' AND due_at <= now()
  AND (status = 'pending' OR (status = 'running' AND updated_at < now() - make_interval(secs => :stale_seconds)))
ORDER BY tenant_id
""")


def tenants_waiting() -> list[int]:
    """The tenants with a due send the writer has not written (or whose writer died)."""
    with runtime.session_scope() as session:
        return list(session.execute(_WAITING, {"stale_seconds": STALE_AFTER.total_seconds()}).scalars())


def wake_writers() -> int:
    """Enqueue one `write_due` per tenant with sends waiting; the number of tenants woken."""
    ids = tenants_waiting()
    connection = runtime.redis_client()
    for tenant_id in ids:
        queue.enqueue(connection, "write_due", tenant_id=tenant_id)
    return len(ids)
