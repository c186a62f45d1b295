"""One pass of every scheduled agent, now: what `python -m app tick` enqueues.

Operators catch up after downtime with it, and tests drive the loop through it instead of
calling services: the jobs go onto the same queues cron uses, and the workers do the work.
Each job is idempotent, so a tick on top of cron's own pass only repeats harmless work.
"""

from __future__ import annotations

from collections.abc import Sequence

from app import queue, runtime

PER_TENANT = ("scan_tenant", "fire_due", "write_due", "send_due", "refresh_rollups")
"""In the loop's order: who is silent, what the plans do next, write, send, then the figures."""


def enqueue_tick(*, tenant_ids: Sequence[int]) -> list[tuple[str, int]]:
    """Enqueue the pass for each tenant; the (job, tenant) pairs, in the order they were queued."""
    connection = runtime.redis_client()
    queued = []
    for tenant_id in tenant_ids:
        for name in PER_TENANT:
            queue.enqueue(connection, name, tenant_id=tenant_id)
            queued.append((name, tenant_id))
    return queued
