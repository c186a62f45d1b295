"""The batch agent's use-case: submit the deferred drafts, poll their batches, write the outbox rows.

Three steps, each safe to run twice and on several workers (rows are claimed `FOR UPDATE
SKIP LOCKED`, the outbox dedupe key refuses a second message):
1. submit: queued asks go out as one Message Batch (`messages.batches.create`), at most
   MAX_REQUESTS a batch; a failed submit leaves them queued for the next run (or the offline
   writer when their slot comes);
2. poll: each open batch is retrieved; an ended one's results (`messages.batches.results`,
   matched by `custom_id`) are stored on their rows: succeeded with the Message, or errored,
   canceled or expired;
3. write: the rows that are ready are written through the same writer and store as direct
   drafts, with the slot they were deferred for. Ready means: an ask whose answer is in; a
   row waiting on an ask that is answered; or any open row whose slot is within
   FALLBACK_MARGIN of `now`, which gets the offline writer when no answer came. A lead who
   has replied, unsubscribed or been suppressed since the deferral is canceled there, as in
   the direct path. Askers are written before waiters, so the waiters hit the cache entry
   their ask just made.

`now` is injected (tests); the API's clock decides nothing here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from anthropic import Anthropic, AnthropicError
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger

from app import queue, runtime
from app.ai import client as clients
from app.ai.batch import BatchAnswers, StoredResult
from app.ai.writer import Writer
from app.services import write
from app.settings import get_settings

FALLBACK_MARGIN = timedelta(minutes=15)
MAX_REQUESTS = 5_000

QUEUED = text(
    """
    SELECT id, custom_id, request FROM ai_batch_requests
    WHERE status = 'queued' ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED
    """
)
SUBMITTED = text(
    """
    UPDATE ai_batch_requests SET status = 'submitted', batch_id = :batch_id, updated_at = now()
    WHERE id = ANY(:ids) AND status = 'queued'
    """
).bindparams(bindparam("ids", type_=ARRAY(BigInteger)))
OPEN_BATCHES = text("SELECT DISTINCT batch_id FROM ai_batch_requests WHERE status = 'submitted'")
ANSWERED = text(
    """
    UPDATE ai_batch_requests
    SET status = 'answered', result_type = :result_type, result = CAST(:result AS jsonb), updated_at = now()
    WHERE custom_id = :custom_id AND batch_id = :batch_id AND status = 'submitted'
    """
)
READY = text(
    """
    SELECT r.id, r.tenant_id, r.action_id, r.lead_id, r.send_at, r.model, r.result_type, r.result,
           r.custom_id IS NOT NULL AS asks
    FROM ai_batch_requests AS r
    WHERE r.status <> 'done'
      AND (r.status = 'answered'
           OR r.send_at <= :deadline
           OR (r.status = 'waiting' AND NOT EXISTS (
                   SELECT 1 FROM ai_batch_requests AS a
                   WHERE a.tenant_id = r.tenant_id AND a.prompt_hash = r.prompt_hash
                     AND a.status IN ('queued', 'submitted'))))
    ORDER BY r.tenant_id, asks DESC, r.id
    LIMIT :limit
    FOR UPDATE OF r SKIP LOCKED
    """
)
DONE = text("UPDATE ai_batch_requests SET status = 'done', updated_at = now() WHERE id = ANY(:ids)").bindparams(
    bindparam("ids", type_=ARRAY(BigInteger))
)


def run(*, now: datetime | None = None, limit: int = MAX_REQUESTS) -> dict[str, Any]:
    """One tick of the batch agent: submit, poll, write; returns what it did."""
    tally: Counter[str] = Counter()
    settings = get_settings()
    client = clients.from_settings(settings)
    with runtime.session_scope() as session:
        if client is not None:
            _submit(session, client, limit, tally)
            _poll(session, client, tally)
        _write_ready(session, now or datetime.now(UTC), limit, tally)
    return dict(tally)


def _submit(session: Session, client: Anthropic, limit: int, tally: Counter[str]) -> None:
    with session.begin():
        rows = session.execute(QUEUED, {"limit": limit}).all()
        if not rows:
            return
        requests = [{"custom_id": row.custom_id, "params": row.request} for row in rows]
        try:
            batch = client.messages.batches.create(requests=requests)  # type: ignore[arg-type]
        except AnthropicError:
            tally["submit_failed"] += len(rows)
            return
        session.execute(SUBMITTED, {"batch_id": batch.id, "ids": [row.id for row in rows]})
    tally["submitted"] += len(rows)
    tally["batches_created"] += 1


def _poll(session: Session, client: Anthropic, tally: Counter[str]) -> None:
    with session.begin():
        batch_ids = list(session.execute(OPEN_BATCHES).scalars())
    for batch_id in batch_ids:
        try:
            batch = client.messages.batches.retrieve(batch_id)
            if batch.processing_status != "ended":
                tally["batches_in_progress"] += 1
                continue
            results = list(client.messages.batches.results(batch_id))
        except AnthropicError:
            tally["poll_failed"] += 1
            continue
        with session.begin():
            for item in results:
                message = item.result.message.model_dump_json() if item.result.type == "succeeded" else None
                params = {"custom_id": item.custom_id, "batch_id": batch_id, "result_type": item.result.type}
                session.execute(ANSWERED, {**params, "result": message})
                tally[f"results_{item.result.type}"] += 1
        tally["batches_ended"] += 1


def _write_ready(session: Session, now: datetime, limit: int, tally: Counter[str]) -> None:
    """Write every ready row in one transaction (no API call happens in it), tenant by tenant."""
    by_tenant: dict[int, list[Any]] = defaultdict(list)
    with session.begin():
        for row in session.execute(READY, {"deadline": now + FALLBACK_MARGIN, "limit": limit}):
            by_tenant[row.tenant_id].append(row)
        for tenant_id, rows in by_tenant.items():
            _write_tenant(session, tenant_id, rows, now, tally)
    if tally["written"]:
        for tenant_id in by_tenant:
            queue.enqueue(runtime.redis_client(), "send_due", tenant_id=tenant_id)


def _write_tenant(session: Session, tenant_id: int, rows: list[Any], now: datetime, tally: Counter[str]) -> None:
    by_action = {row.action_id: row for row in rows}
    prepared = write.prepare_claimed(session, tenant_id, list(by_action), tally, now)
    order = {row.action_id: n for n, row in enumerate(rows)}  # askers first
    due = sorted(prepared.due, key=lambda item: order[item.action_id])
    answers = {row.lead_id: StoredResult(row.result_type, row.result) for row in rows}
    model = rows[0].model
    writer = Writer(BatchAnswers(model, answers), prepared.cache, budget_usd=None)
    written = [(item, writer.write(item.context)) for item in due]
    slots = {row.action_id: row.send_at for row in rows}
    write.finish(session, [(skip.action_id, skip.status, skip.reason) for skip in prepared.skipped])
    write.store(session, tenant_id, written, tally, now, slots)
    session.execute(DONE, {"ids": [row.id for row in rows]})
    tally["late_fallbacks"] += sum(1 for row in rows if row.result_type is None)
