"""Step 2 of the pipeline (docs/pipeline.md): due `send` actions become checked outbox rows.

Three kinds of transaction, none of them open while a model is thinking:
1. claim: one statement flips up to `limit` due actions to `running` (`FOR UPDATE SKIP LOCKED`,
   so parallel workers split the work), and a handful of set-based reads build every lead's
   context and load the cache entries the batch may need;
2. the writer runs with no transaction open (Claude may take seconds per lead);
3. store, per chunk of CHUNK messages: generations, outbox rows (`ON CONFLICT (dedupe_key) DO
   NOTHING`) and the actions marked `done`, so a job killed mid-batch loses one chunk at most.

Each outbox row is scheduled (`scheduled_for`) into its lead's best contact window when that
comes within `best_time.MAX_DELAY` and inside the hours the lead may be contacted (send
window minus the tenant's quiet hours, in the lead's zone), else at the first allowed moment:
the sender only claims due rows, so the slot is chosen once, here, where whole batches are
at hand for one set-based read of the leads' histories. The sender still checks the hours
when it claims the row (settings may have changed since).

A crash between 1 and 3 leaves actions `running`; a later run reclaims those older than
STALE_AFTER. Writing twice is harmless because the outbox dedupe key refuses the second row,
and an action reclaimed MAX_CLAIMS times is canceled rather than retried forever.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, bindparam, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger, Text

from app import queue, runtime
from app.ai.cache import PURPOSE, BatchCache, cache_key
from app.ai.context import LeadContext, PastActivity, TemplateText
from app.ai.features import LARGE_DEAL_MIN_LEADS, LARGE_DEAL_PERCENTILE
from app.ai.writer import Writer, WrittenMessage
from app.domain import best_time
from app.domain.best_time import BestWindow
from app.domain.outreach import Reach, address_for
from app.domain.plan import Plan, load_plan
from app.domain.plan.timing import plan_hours
from app.domain.sending_window import QuietHours, Window, allowed_hours
from app.services import write_defer, write_reads, write_rules
from app.services.scan import RECOVER_NOW_SOURCE
from app.settings import get_settings
from db import ai_budget as budget_reads
from db.models import AIGeneration, OutboundMessage

STALE_AFTER = timedelta(minutes=30)
CHUNK = 25

CLAIM = text(
    """
    WITH due AS (
        SELECT id FROM scheduled_actions
        WHERE tenant_id = :tenant_id AND kind = 'send' AND due_at <= now()
          AND (status = 'pending'
               OR (status = 'running' AND updated_at < now() - make_interval(secs => :stale_seconds)))
          AND NOT EXISTS (  -- a paused campaign's sends wait; a killed one's were canceled
              SELECT 1 FROM enrollments AS e JOIN campaigns AS c ON c.id = e.campaign_id
              WHERE e.id = scheduled_actions.enrollment_id AND c.status IN ('paused', 'killed'))
          AND NOT EXISTS (  -- drafting through a Message Batch: the batch agent writes it (batch_writes)
              SELECT 1 FROM ai_batch_requests AS r WHERE r.action_id = scheduled_actions.id AND r.status <> 'done')
        ORDER BY due_at, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE scheduled_actions AS a
    SET status = 'running', updated_at = now(),
        payload = a.payload || jsonb_build_object('claims', COALESCE((a.payload ->> 'claims')::int, 0) + 1)
    FROM due WHERE a.id = due.id
    RETURNING a.id
    """
)

IN_OUTBOX = text("SELECT dedupe_key FROM outbound_messages WHERE dedupe_key = ANY(:keys)").bindparams(
    bindparam("keys", type_=ARRAY(Text))
)

FINISH = text(
    """
    UPDATE scheduled_actions AS a
    SET status = r.status, updated_at = now(),
        payload = CASE WHEN r.reason = '' THEN a.payload ELSE a.payload || jsonb_build_object('reason', r.reason) END
    FROM unnest(:ids, :statuses, :reasons) AS r(id, status, reason)
    WHERE a.id = r.id AND a.status = 'running'
    """
).bindparams(
    bindparam("ids", type_=ARRAY(BigInteger)),
    bindparam("statuses", type_=ARRAY(Text)),
    bindparam("reasons", type_=ARRAY(Text)),
)


@dataclass(frozen=True)
class Timing:
    """What decides when the message goes out: the lead's zone, the tenant's hours, the best window."""

    timezone: str | None
    window: Window
    quiet: QuietHours
    best: BestWindow
    plan: Plan | None = None
    """The campaign's plan, whose own send window and quiet hours narrow the tenant's."""

    def send_at(self, channel: str, now: datetime) -> datetime:
        allowed = allowed_hours(channel, self.window, self.quiet)
        narrowed = allowed & plan_hours(self.plan, channel) if self.plan is not None else allowed
        return best_time.preferred_send_time(now, self.timezone, narrowed or allowed, self.best)


@dataclass(frozen=True)
class Due:
    """A claimed send we will write: the action, where the message goes, and what the writer knows."""

    action_id: int
    campaign_id: int | None
    enrollment_id: int | None
    node: str
    to_address: str
    dedupe_key: str
    context: LeadContext
    timing: Timing
    variant: str | None = None
    """The plan's A/B arm for this lead, kept on the outbox row for the per-variant rates."""
    asked_by_person: bool = False
    """"Recover now": a rep is waiting, so the draft is never deferred to a batch."""


@dataclass(frozen=True)
class Skip:
    """A claimed action we will not write, and why (kept in its payload for the console)."""

    action_id: int
    status: str
    reason: str


@dataclass
class Batch:
    due: list[Due]
    skipped: list[Skip]
    cache: BatchCache
    budget_usd: Decimal | None


def write_due(*, tenant_id: int, limit: int = 200, now: datetime | None = None) -> dict[str, Any]:
    """Write the tenant's due sends into the outbox and hand them to the sender; safe to run twice.

    `now` replaces the clock for the leads' histories and the scheduling of each message (tests);
    which actions are due always counts from the database's clock.
    """
    tally: Counter[str] = Counter()
    with runtime.session_scope() as session:
        with session.begin():
            batch = _prepare(session, tenant_id, limit, tally, now or datetime.now(UTC))
            finish(session, [(skip.action_id, skip.status, skip.reason) for skip in batch.skipped])
        settings = get_settings()
        with Writer.from_settings(settings, cache=batch.cache, budget_usd=batch.budget_usd) as writer:
            direct = write_defer.defer(session, tenant_id, batch.due, writer, tally, now or datetime.now(UTC), settings)
            for chunk in _chunks(direct, CHUNK):
                written = [(due, writer.write(due.context)) for due in chunk]
                with session.begin():
                    store(session, tenant_id, written, tally, now or datetime.now(UTC))
    if tally["written"]:
        queue.enqueue(runtime.redis_client(), "send_due", tenant_id=tenant_id)
    return _report(tally)


def _prepare(session: Session, tenant_id: int, limit: int, tally: Counter[str], now: datetime) -> Batch:
    ids = list(
        session.execute(CLAIM, {"tenant_id": tenant_id, "limit": limit, "stale_seconds": STALE_AFTER.total_seconds()})
        .scalars()
        .all()
    )
    tally["claimed"] = len(ids)
    if not ids:
        return Batch([], [], BatchCache(), None)
    return prepare_claimed(session, tenant_id, ids, tally, now)


def prepare_claimed(session: Session, tenant_id: int, ids: list[int], tally: Counter[str], now: datetime) -> Batch:
    """The claimed send actions `ids` as Dues (with the cache entries they may need) and Skips."""
    params = {
        "tenant_id": tenant_id,
        "ids": ids,
        "large_percentile": LARGE_DEAL_PERCENTILE,
        "large_min_leads": LARGE_DEAL_MIN_LEADS,
        "asked_by_person": f"{RECOVER_NOW_SOURCE}%",
    }
    rows = session.execute(write_reads.CONTEXTS, params).all()
    recent = write_reads.recent(session, tenant_id, [row.lead_id for row in rows])
    templates = write_reads.templates(session, tenant_id, rows)
    best = write_reads.best_windows(session, tenant_id, rows, now)
    plans = _plans(rows)
    planned = [
        _plan(tenant_id, row, recent.get(row.lead_id, ()), templates, best.get(row.lead_id, best_time.NO_WINDOW))
        for row in rows
    ]
    planned = [_with_plan(item, plans.get(row.campaign_id)) for item, row in zip(planned, rows, strict=True)]
    due = [item for item in planned if isinstance(item, Due)]
    skipped = [item for item in planned if isinstance(item, Skip)]
    due, skipped = _drop_already_written(session, due, skipped)
    for skip in skipped:
        tally["duplicates" if skip.status == "done" else "canceled"] += 1
    digests = {cache_key(item.context).digest() for item in due}
    return Batch(due, skipped, BatchCache.load(session, tenant_id, digests), _ai_budget_left(session, tenant_id))


def _plan(
    tenant_id: int,
    row: Row[Any],
    recent: tuple[PastActivity, ...],
    templates: dict[Any, tuple[str, TemplateText]],
    best: BestWindow,
) -> Due | Skip:
    reason = write_rules.why_not(row)
    if reason:
        return Skip(row.action_id, "canceled", reason)
    rung = write_rules.rung(row)
    reach = Reach(row.email, row.consent_email, row.email_suppressed, row.phone, row.consent_sms, row.sms_suppressed)
    channel = write_rules.channel(row.payload or {}, rung, reach)
    address = address_for(channel, reach) if channel else None
    if channel is None or address is None:
        return Skip(row.action_id, "canceled", "no channel with an address, consent and no suppression")
    spec = write_reads.node_spec(row.plan, row.node)
    node = row.node or f"rung-{rung}"
    context = write_reads.lead_context(tenant_id, row, rung, channel, recent, spec, templates)
    dedupe_key = write_rules.outbox_key(tenant_id, row, node, channel)
    timing = Timing(
        row.timezone,
        Window(row.send_window_start_hour, row.send_window_end_hour),
        QuietHours(row.quiet_start_hour, row.quiet_end_hour),
        best,
    )
    variant = (row.payload or {}).get("variant")
    return Due(
        row.action_id, row.campaign_id, row.enrollment_id, node, address, dedupe_key, context, timing, variant,
        bool(row.asked_by_person),
    )  # fmt: skip


def _plans(rows: Sequence[Row[Any]]) -> dict[int, Plan]:
    """Each campaign's plan of the batch, parsed once (a plan that does not parse narrows nothing)."""
    stored = {row.campaign_id: row.plan for row in rows if row.campaign_id is not None}
    parsed = {campaign: load_plan(plan) for campaign, plan in stored.items()}
    return {campaign: plan for campaign, plan in parsed.items() if isinstance(plan, Plan)}


def _with_plan(item: Due | Skip, plan: Plan | None) -> Due | Skip:
    if isinstance(item, Skip) or plan is None:
        return item
    return replace(item, timing=replace(item.timing, plan=plan))


def _drop_already_written(session: Session, due: list[Due], skipped: list[Skip]) -> tuple[list[Due], list[Skip]]:
    """Reclaimed actions whose message is already in the outbox need no second draft (nor its cost)."""
    if not due:
        return due, skipped
    existing = set(session.execute(IN_OUTBOX, {"keys": [item.dedupe_key for item in due]}).scalars())
    fresh = [item for item in due if item.dedupe_key not in existing]
    done = [Skip(item.action_id, "done", "already in the outbox") for item in due if item.dedupe_key in existing]
    return fresh, skipped + done


def _ai_budget_left(session: Session, tenant_id: int) -> Decimal | None:
    """What this tenant may still spend on Claude this month; a budget of 0 means no cap."""
    return budget_reads.ai_budget(session.connection(), tenant_id).left


def _chunks(items: list[Due], size: int) -> Iterator[list[Due]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def store(
    session: Session,
    tenant_id: int,
    written: list[tuple[Due, WrittenMessage]],
    tally: Counter[str],
    now: datetime,
    slots: dict[int, datetime] | None = None,
) -> None:
    """Generations, outbox rows pointing at them, the actions: one transaction; `slots`: send times kept, by action."""
    generation_ids = _insert_generations(session, tenant_id, written)
    sendable = [(due, message) for due, message in written if message.ok]
    rows = [_outbox_row(tenant_id, due, message, generation_ids.get(due.action_id), now) for due, message in sendable]
    for row, (due, _) in zip(rows, sendable, strict=True):
        row["scheduled_for"] = (slots or {}).get(due.action_id, row["scheduled_for"])
    tally["scheduled_later"] += sum(1 for row in rows if row["scheduled_for"] > now)
    inserted = set()
    if rows:
        statement = pg_insert(OutboundMessage).values(rows).on_conflict_do_nothing(index_elements=["dedupe_key"])
        inserted = set(session.execute(statement.returning(OutboundMessage.dedupe_key)).scalars())
    finished = [(due.action_id, "done", "") for due, _ in sendable]
    finished += [(due.action_id, "canceled", "draft failed the checks") for due, m in written if not m.ok]
    finish(session, finished)
    _count(tally, written, inserted)


def _insert_generations(session: Session, tenant_id: int, written: list[tuple[Due, WrittenMessage]]) -> dict[int, int]:
    """Store every generation; return the id of the one each message's text came from, by action."""
    rows, owners = [], []
    for due, message in written:
        for record in message.generations:
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "purpose": PURPOSE,
                    "model": record.model,
                    "prompt_hash": record.prompt_hash,
                    "lead_id": due.context.lead_id,
                    "output": record.output,
                    "tokens_in": record.usage.uncached_input,
                    "tokens_out": record.usage.output_tokens,
                    "tokens_cache_read": record.usage.cache_read_tokens,
                    "cost_usd": record.cost_usd,
                    "served_from_cache": record.served_from_cache,
                    "latency_ms": record.latency_ms,
                }
            )
            owners.append(due.action_id)
    if not rows:
        return {}
    statement = insert(AIGeneration).returning(AIGeneration.id, sort_by_parameter_order=True)
    ids = session.execute(statement, rows).scalars().all()
    return dict(zip(owners, ids, strict=True))  # later rows of an action win: its final generation


def _outbox_row(
    tenant_id: int, due: Due, message: WrittenMessage, generation_id: int | None, now: datetime
) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "campaign_id": due.campaign_id,
        "enrollment_id": due.enrollment_id,
        "lead_id": due.context.lead_id,
        "node": due.node,
        "channel": message.channel,
        "to_address": due.to_address,
        "subject": message.subject,
        "body": message.body,
        "source": message.source,
        "template_version_id": message.template_version_id,
        "ai_generation_id": generation_id,
        "status": "pending",
        "dedupe_key": due.dedupe_key,
        "scheduled_for": due.timing.send_at(message.channel, now),
        "variant": due.variant if isinstance(due.variant, str) else None,
    }


def finish(session: Session, outcomes: list[tuple[int, str, str]]) -> None:
    if outcomes:
        ids, statuses, reasons = (list(column) for column in zip(*outcomes, strict=True))
        session.execute(FINISH, {"ids": ids, "statuses": statuses, "reasons": reasons})


def _count(tally: Counter[str], written: list[tuple[Due, WrittenMessage]], inserted: set[str]) -> None:
    for due, message in written:
        tally["api_calls"] += message.api_calls
        tally["cost_microdollars"] += int(message.cost_usd * 1_000_000)
        for record in message.generations:
            tally["tokens_in"] += record.usage.uncached_input
            tally["tokens_out"] += record.usage.output_tokens
            tally["tokens_cache_read"] += record.usage.cache_read_tokens
        tally["ai_rejected"] += message.rejected_by_checks
        if not message.ok:
            tally["canceled"] += 1
            continue
        tally["written" if due.dedupe_key in inserted else "duplicates"] += 1
        tally[message.source] += 1


def _report(tally: Counter[str]) -> dict[str, Any]:
    keys = (
        "claimed",
        "written",
        "duplicates",
        "canceled",
        "scheduled_later",
        "ai",
        "ai_cache",
        "offline",
        "template",
        "ai_rejected",
        "api_calls",
        "batched",
    )
    report: dict[str, Any] = {key: tally[key] for key in keys}
    report.update(tokens_in=tally["tokens_in"], tokens_out=tally["tokens_out"])
    report["tokens_cache_read"] = tally["tokens_cache_read"]
    report["cost_usd"] = float(Decimal(tally["cost_microdollars"]) / 1_000_000)
    return report
