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
   their ask just made; a waiter whose ask left nothing reusable (the answer named its own
   lead, or failed) asks itself in the next batch while its slot is still an hour away.

`now` is injected (tests); the API's clock decides nothing here.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from anthropic import Anthropic, AnthropicError
from anthropic.types import Message
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger

from app import queue, runtime
from app.ai import claude
from app.ai import client as clients
from app.ai.batch import BatchAnswers, StoredResult
from app.ai.claude import usage_of
from app.ai.cost import cost_usd
from app.ai.writer import Writer
from app.services import write, write_defer
from app.settings import get_settings

FALLBACK_MARGIN = timedelta(minutes=15)
REPORT = (
    *("submitted", "submit_failed", "batches_created", "batches_in_progress", "batches_ended", "poll_failed"),
    *("results_succeeded", "results_errored", "results_canceled", "results_expired"),
    *("written", "late_fallbacks", "late_answers", "asked_again", "closed_unwritten"),
    *("ai", "ai_cache", "offline", "canceled", "cost_microdollars"),
)
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
# Batches with a request whose result we have not read, including sends written offline before
# it came (their answer is paid all the same); a batch ends within 24 hours, so two days bound it.
OPEN_BATCHES = text(
    """
    SELECT DISTINCT batch_id FROM ai_batch_requests
    WHERE batch_id IS NOT NULL AND result_type IS NULL AND created_at > now() - interval '2 days'
    """
)
ANSWERED = text(
    """
    UPDATE ai_batch_requests
    SET status = 'answered', result_type = :result_type, result = CAST(:result AS jsonb), updated_at = now()
    WHERE custom_id = :custom_id AND batch_id = :batch_id AND status = 'submitted'
    RETURNING id
    """
)
# An answer that came after its send was written offline was still paid for: it goes on the books.
LATE_ANSWER = text(
    """
    INSERT INTO ai_generations
        (tenant_id, purpose, model, prompt_hash, lead_id, output, tokens_in, tokens_out, tokens_cache_read, cost_usd)
    SELECT tenant_id, 'write', :model, prompt_hash || :personal || lead_id, lead_id, :output,
           :tokens_in, :tokens_out, :tokens_cache_read, :cost_usd
    FROM ai_batch_requests
    WHERE custom_id = :custom_id AND batch_id = :batch_id AND status = 'done' AND result_type IS NULL
    """
)
MARK_LATE = text(
    """
    UPDATE ai_batch_requests SET result_type = :result_type, updated_at = now()
    WHERE custom_id = :custom_id AND batch_id = :batch_id AND status = 'done' AND result_type IS NULL
    """
)
READY = text(
    """
    SELECT r.id, r.tenant_id, r.action_id, r.lead_id, r.send_at, r.model, r.prompt_hash, r.result_type, r.result,
           r.custom_id IS NOT NULL AS asks, a.status AS action_status
    FROM ai_batch_requests AS r
    JOIN scheduled_actions AS a ON a.id = r.action_id
    WHERE r.status <> 'done'
      AND (r.status = 'answered'
           OR r.send_at <= :deadline
           OR (r.status = 'waiting' AND NOT EXISTS (
                   SELECT 1 FROM ai_batch_requests AS q
                   WHERE q.tenant_id = r.tenant_id AND q.prompt_hash = r.prompt_hash
                     AND q.status IN ('queued', 'submitted'))))
      AND NOT EXISTS (  -- a paused campaign's sends wait, as in the writer's claim
          SELECT 1 FROM enrollments AS e JOIN campaigns AS c ON c.id = e.campaign_id
          WHERE e.id = a.enrollment_id AND c.status = 'paused')
    ORDER BY r.tenant_id, asks DESC, r.id
    LIMIT :limit
    FOR UPDATE OF r SKIP LOCKED
    """
)
ASK_AGAIN = text(
    """
    UPDATE ai_batch_requests
    SET status = 'queued', custom_id = :custom_id, request = CAST(:request AS jsonb), updated_at = now()
    WHERE id = :id AND status = 'waiting'
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
    return {key: tally[key] for key in REPORT} | dict(tally)


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
                message = item.result.message if item.result.type == "succeeded" else None
                params = {"custom_id": item.custom_id, "batch_id": batch_id, "result_type": item.result.type}
                json_message = message.model_dump_json() if message is not None else None
                stored = session.execute(ANSWERED, {**params, "result": json_message}).first()
                if stored is None and message is not None:
                    session.execute(LATE_ANSWER, {**params, **_late(message)})
                    tally["late_answers"] += 1
                if stored is None:
                    session.execute(MARK_LATE, params)
                tally[f"results_{item.result.type}"] += 1
        tally["batches_ended"] += 1


def _late(message: Message) -> dict[str, Any]:
    usage = usage_of(message)
    return {
        "model": message.model,
        "personal": ":lead-",  # never served from the cache (app.ai.cache.personal_hash)
        "output": json.dumps({"rejected": ["answered after its slot's offline fallback"]}),
        "tokens_in": usage.uncached_input,
        "tokens_out": usage.output_tokens,
        "tokens_cache_read": usage.cache_read_tokens,
        "cost_usd": cost_usd(message.model, usage, batch=True),
    }


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


def _write_tenant(session: Session, tenant_id: int, ready: list[Any], now: datetime, tally: Counter[str]) -> None:
    """Write one tenant's ready rows; a row whose action is no longer running (canceled, killed) is closed unwritten."""
    gone = [row.id for row in ready if row.action_status != "running"]
    session.execute(DONE, {"ids": gone})
    tally["closed_unwritten"] += len(gone)
    rows = [row for row in ready if row.action_status == "running"]
    if not rows:
        return
    by_action = {row.action_id: row for row in rows}
    prepared = write.prepare_claimed(session, tenant_id, list(by_action), tally, now)
    order = {row.action_id: n for n, row in enumerate(rows)}  # askers first
    due = sorted(prepared.due, key=lambda item: order[item.action_id])
    answers = {row.lead_id: StoredResult(row.result_type, row.result) for row in rows}
    model = rows[0].model
    writer = Writer(BatchAnswers(model, answers), prepared.cache, budget_usd=None)
    written: list[tuple[write.Due, Any]] = []
    asked_again: list[Any] = []
    asking: set[str] = set()
    for item in due:
        row = by_action[item.action_id]
        if not row.asks and row.send_at - now >= write_defer.BATCH_LEAD and writer.without_claude(item.context) is None:
            asked_again.append(_ask_again(session, row, item, model, asking))
            continue
        written.append((item, writer.write(item.context)))
    slots = {row.action_id: row.send_at for row in rows}
    write.finish(session, [(skip.action_id, skip.status, skip.reason) for skip in prepared.skipped])
    write.store(session, tenant_id, written, tally, now, slots)
    waiting = {row.id for row in asked_again}
    session.execute(DONE, {"ids": [row.id for row in rows if row.id not in waiting]})
    tally["late_fallbacks"] += sum(1 for row in rows if row.result_type is None and row.id not in waiting)
    tally["asked_again"] += len(asking)


def _ask_again(session: Session, row: Any, due: write.Due, model: str, asking: set[str]) -> Any:
    """A waiter whose ask gave no answer it can reuse (kept personal, or failed) asks itself, time allowing.

    The first such waiter of a request key becomes its new ask; the others keep waiting on it.
    """
    if row.prompt_hash not in asking:
        asking.add(row.prompt_hash)
        params = {"id": row.id, "custom_id": write_defer.custom_id(row.action_id)}
        session.execute(ASK_AGAIN, {**params, "request": json.dumps(claude.first_request(model, due.context))})
    return row
