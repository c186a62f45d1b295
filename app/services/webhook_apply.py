"""The applier: trusted webhook deliveries, stored raw by the api, applied in bulk by a worker.

Why a job and not the request: a provider wants its 2xx fast (SendGrid posts up to a thousand
events per request and retries on timeouts), and applying touches many tables. The route stores
the delivery and asks for an applier run (`request_apply`); any worker host runs it.

Exactly once: a run claims waiting deliveries with `FOR UPDATE SKIP LOCKED` (two appliers never
take the same one), applies them and marks them `applied` in the same transaction. A worker
killed mid-batch rolls the whole batch back and leaves the deliveries `received` for the next
run; what an applier writes is deduplicated by the database (unique event ids and natural keys),
so even a delivery the provider sent twice is applied once.

Batching runs, not requests: like score requests, a Redis flag (SET NX) marks that a run is on
its way, so a burst of deliveries enqueues one job. The flag is dropped before the run claims,
so a delivery stored after the claim finds the flag gone and enqueues the next run.

Each endpoint has its applier (`APPLIERS`): a function that takes the session and a batch of
that endpoint's deliveries and returns what it did with each.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from redis import Redis
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import queue, runtime
from app.domain import privacy
from app.services import sendgrid_apply, twilio_status
from app.services.deliveries import Applied, Delivery

FLAG_KEY = "lre:webhooks:apply-queued"
FLAG_TTL_SECONDS = 60
BATCH = 10
"""Deliveries per transaction: at SendGrid's 1,000 events each, 10,000 events applied at once. A
delivery waits for the batch before its own to end, so a batch's time is most of the apply lag;
below ten, the fixed cost of a batch (its statements, their plans) grows to a tenth of its work."""
RUN_BUDGET_SECONDS = 120.0
"""How long one run keeps claiming batches before it hands over to a fresh job (the job timeout is 180 s)."""

Applier = Callable[[Session, Sequence[Delivery]], Mapping[int, Applied]]

APPLIERS: dict[str, Applier] = {
    sendgrid_apply.ENDPOINT: sendgrid_apply.apply,
    twilio_status.ENDPOINT: twilio_status.apply_status,
}
"""endpoint (as stored in `webhook_deliveries.endpoint`) → its applier."""

READ_IN_DATABASE = frozenset({sendgrid_apply.ENDPOINT})
"""Endpoints whose applier reads the stored bodies inside PostgreSQL: the claim does not fetch them
(a batch of SendGrid deliveries is ~15 MB), and their `Delivery.body` is empty."""

_CLAIM = text(
    """
    SELECT id, provider, endpoint, headers, received_at, tenant_id,
           CASE WHEN endpoint = ANY(CAST(:read_in_database AS text[])) THEN '' ELSE body END AS body
    FROM webhook_deliveries
    WHERE result = 'received'
    ORDER BY id
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
    """
)

_NO_FLUSH_WAIT = text("SET LOCAL synchronous_commit = off")
_NO_JIT = text("SET LOCAL jit = off")

_MARK = text(
    """
    UPDATE webhook_deliveries AS d
    SET result = 'applied', applied_at = clock_timestamp(), updated_at = now(),
        event_count = a.events, applied_count = a.applied, duplicate_count = a.duplicates,
        unmatched_count = a.unmatched, ignored_count = a.ignored, error = a.note
    FROM unnest(CAST(:ids AS bigint[]), CAST(:events AS int[]), CAST(:applied AS int[]), CAST(:duplicates AS int[]),
                CAST(:unmatched AS int[]), CAST(:ignored AS int[]), CAST(:notes AS text[]))
         AS a(id, events, applied, duplicates, unmatched, ignored, note)
    WHERE d.id = a.id
    """
)


def request_apply(connection: Redis) -> bool:
    """Ask for an applier run soon; True when this call enqueued it (False: one is on its way)."""
    if not connection.set(FLAG_KEY, 1, nx=True, ex=FLAG_TTL_SECONDS):
        return False
    queue.enqueue(connection, "apply_webhooks")
    return True


def apply_pending(
    *, batch: int = BATCH, max_batches: int = 1000, budget_seconds: float = RUN_BUDGET_SECONDS
) -> dict[str, int]:
    """Apply waiting deliveries, a batch per transaction, until none wait (or `max_batches`, or the
    time budget: then it asks for the next run itself).

    One connection serves the whole run: a worker's sessions have no pool, and a connection per
    batch cost a server process's start and cold caches every 10,000 events.
    """
    runtime.redis_client().delete(FLAG_KEY)
    totals: dict[str, int] = defaultdict(int)
    deadline = time.monotonic() + budget_seconds
    with runtime.engine().connect() as connection, Session(bind=connection) as session:
        for _ in range(max_batches):
            with session.begin():
                done = apply_batch(session, batch=batch)
            if not done:
                break
            totals["deliveries"] += len(done)
            for applied in done.values():
                totals["events"] += applied.events
                totals["applied"] += applied.applied
                totals["duplicates"] += applied.duplicates
                totals["unmatched"] += applied.unmatched
                totals["ignored"] += applied.ignored
            if time.monotonic() > deadline:
                request_apply(runtime.redis_client())
                break
        else:
            request_apply(runtime.redis_client())
    return dict(totals)


def apply_batch(session: Session, *, batch: int) -> dict[int, Applied]:
    """Claim up to `batch` waiting deliveries, apply each endpoint's share, mark them applied.

    The commit does not wait for the WAL to reach the disk (`synchronous_commit = off` for this
    transaction only): the deliveries themselves were committed durably by the route before it
    answered, and this transaction is all or nothing, so a server crash in the instant after
    the commit loses it whole, leaving the deliveries `received` to be applied again. The wait
    was a large share of each batch's time. Nor is it compiled (`jit = off`): the row counts
    its plans rest on are guesses (a set-returning function counts as 100 rows), and a draft of the
    staging statement whose guess crossed `jit_above_cost` spent 90 ms a batch compiling itself.
    """
    session.execute(_NO_FLUSH_WAIT)
    session.execute(_NO_JIT)
    rows = session.execute(_CLAIM, {"batch": batch, "read_in_database": sorted(READ_IN_DATABASE)}).mappings().all()
    by_endpoint: dict[str, list[Delivery]] = defaultdict(list)
    for row in rows:
        by_endpoint[row["endpoint"]].append(Delivery(**row))
    done: dict[int, Applied] = {}
    for endpoint, deliveries in by_endpoint.items():
        applier = APPLIERS.get(endpoint)
        if applier is None:
            done.update({d.id: Applied(notes=[f"no applier for {endpoint}"]) for d in deliveries})
            continue
        results = applier(session, deliveries)
        done.update({d.id: results.get(d.id, Applied()) for d in deliveries})
    if done:
        _mark(session, done)
    return done


def _mark(session: Session, done: Mapping[int, Applied]) -> None:
    ids = sorted(done)
    session.execute(
        _MARK,
        {
            "ids": ids,
            "events": [done[i].events for i in ids],
            "applied": [done[i].applied for i in ids],
            "duplicates": [done[i].duplicates for i in ids],
            "unmatched": [done[i].unmatched for i in ids],
            "ignored": [done[i].ignored for i in ids],
            "notes": [privacy.scrub_contacts("; ".join(done[i].notes) or None) for i in ids],
        },
    )
