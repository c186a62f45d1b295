"""Batching "this lead's score is stale" requests into one scorer job per tenant.

Webhooks record activity one event at a time, thousands a second at peak. A scorer job per
event would flood the low queue and the `agent_runs` ledger, so each event only adds its lead
to a Redis set per tenant, and the first event after the set was last drained enqueues one
`rescore_pending` job (a flag taken with SET NX marks that a job is on its way).

Why nothing is lost: a request adds the lead *before* it tries the flag, and the job drops the
flag *before* it drains the set. A lead added after the drain finds the flag gone and enqueues
the next job; one added before it is drained by this job. The flag expires, so a job lost
with a flushed queue blocks nothing for long, and the 15-minute sweep rescores everyone anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis import Redis

from app import queue

FLAG_TTL_SECONDS = 300


def pending_key(tenant_id: int) -> str:
    return f"lre:scores:pending:{tenant_id}"


def flag_key(tenant_id: int) -> str:
    return f"lre:scores:queued:{tenant_id}"


def request_rescore(connection: Redis, *, tenant_id: int, lead_ids: Sequence[int]) -> bool:
    """Ask for these leads to be rescored soon; True when this call enqueued the tenant's job."""
    if not lead_ids:
        return False
    connection.sadd(pending_key(tenant_id), *[int(i) for i in lead_ids])
    if not connection.set(flag_key(tenant_id), 1, nx=True, ex=FLAG_TTL_SECONDS):
        return False
    queue.enqueue(connection, "rescore_pending", tenant_id=tenant_id)
    return True


def take_pending(connection: Redis, *, tenant_id: int) -> list[int]:
    """Every lead asked for since the last drain, removed from the set (sorted)."""
    connection.delete(flag_key(tenant_id))
    pipe = connection.pipeline(transaction=True)
    pipe.smembers(pending_key(tenant_id))
    pipe.delete(pending_key(tenant_id))
    members, _ = pipe.execute()
    return sorted(int(m) for m in members)
