"""Which due sends are drafted through a Message Batch (half price) instead of a direct call.

A send whose slot is at least BATCH_LEAD away does not need its draft now: the Message
Batches API answers most batches within the hour at half the price. Such a send is deferred
here, inside the write job, when Claude would otherwise be called for it: no operator
template and no cache entry fits, Claude is configured, not paused, within budget, and no
person is waiting (a "Recover now" send stays direct). The first lead of a request key asks
(its request is stored with a `custom_id`); later leads of the same key, in this batch or
while an earlier ask is in flight, wait for that answer and are filled from our cache when it
arrives, so batching keeps the cache's share of answers. Its action stays `running` and the
writer's claim skips it; `app/services/batch_writes.py` writes the outbox row. An ask is paid
only when its answer comes, so until then each is held against the month's AI budget at
ASK_ESTIMATE_USD: a spent budget stops deferring as it stops direct calls.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, null, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from app.ai import claude
from app.ai.cache import cache_key
from app.ai.writer import Writer
from app.settings import Settings
from db.models import AIBatchRequest

if TYPE_CHECKING:
    from app.services.write import Due

BATCH_LEAD = timedelta(hours=1)
# What an ask is held against the AI budget until its answer's real cost is recorded: a batch
# draft of ~1,500 fresh input and ~150 output tokens on a Sonnet-priced model, at batch prices.
ASK_ESTIMATE_USD = Decimal("0.002")

IN_FLIGHT = text(
    "SELECT count(*) FROM ai_batch_requests WHERE tenant_id = :tenant_id AND status IN ('queued', 'submitted')"
)
OPEN_ASKS = text(
    """
    SELECT prompt_hash FROM ai_batch_requests
    WHERE tenant_id = :tenant_id AND prompt_hash = ANY(:digests) AND status IN ('queued', 'submitted')
    """
).bindparams(bindparam("digests", type_=ARRAY(Text)))


def custom_id(action_id: int) -> str:
    return f"lre-action-{action_id}"


def deferrable(due: Due, writer: Writer, now: datetime) -> bool:
    """A draft worth waiting for: Claude would be called, nobody is waiting, the slot is far enough."""
    if due.asked_by_person or not writer.would_call_claude or not isinstance(writer.claude, claude.ClaudeWriter):
        return False
    if due.timing.send_at(due.context.channel, now) - now < BATCH_LEAD:
        return False
    return writer.without_claude(due.context) is None


def defer(
    session: Session,
    tenant_id: int,
    due: list[Due],
    writer: Writer,
    tally: Counter[str],
    now: datetime,
    settings: Settings,
) -> list[Due]:
    """Store the deferrable sends as batch requests (one transaction); return the ones to write now."""
    if not settings.anthropic_batch_writes:
        return due
    later = [item for item in due if deferrable(item, writer, now)]
    if not later:
        return due
    assert isinstance(writer.claude, claude.ClaudeWriter)
    model = writer.claude.model
    digests = {item.action_id: cache_key(item.context).digest() for item in later}
    with session.begin():
        params = {"tenant_id": tenant_id, "digests": sorted(set(digests.values()))}
        asking = set(session.execute(OPEN_ASKS, params).scalars())
        writer.spent_usd += session.execute(IN_FLIGHT, {"tenant_id": tenant_id}).scalar_one() * ASK_ESTIMATE_USD
        rows = []
        for item in later:
            digest = digests[item.action_id]
            asks = digest not in asking
            if asks and not writer.would_call_claude:
                continue  # the budget is spent, asks in flight included: written now, offline
            asking.add(digest)
            writer.spent_usd += ASK_ESTIMATE_USD if asks else Decimal(0)
            rows.append(_row(tenant_id, item, digest, model, now, asks))
        if rows:
            statement = insert(AIBatchRequest).values(rows).on_conflict_do_nothing(index_elements=["action_id"])
            session.execute(statement)
    tally["batched"] += len(rows)
    deferred = {row["action_id"] for row in rows}
    return [item for item in due if item.action_id not in deferred]


def _row(tenant_id: int, due: Due, digest: str, model: str, now: datetime, asks: bool) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "action_id": due.action_id,
        "lead_id": due.context.lead_id,
        "prompt_hash": digest,
        "model": model,
        "send_at": due.timing.send_at(due.context.channel, now),
        "status": "queued" if asks else "waiting",
        "custom_id": custom_id(due.action_id) if asks else None,
        "request": claude.first_request(model, due.context) if asks else null(),  # SQL NULL, not JSON null
    }
