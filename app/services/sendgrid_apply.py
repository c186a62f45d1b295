"""Applying SendGrid event batches, set-based: a batch of deliveries in a handful of statements.

The applier (`apply`, registered in app/services/webhook_apply.APPLIERS) gets up to 50 stored
deliveries of up to 1,000 events each and never reads their bodies in Python: PostgreSQL
expands them where they are stored (app/services/sendgrid_read.py) into a temporary table of
flat events, matched to our messages as it loads. Then a few statements, each over the whole
batch (see bench/results/ingest.json for what it sustains):

1. Match: by the custom args at the event's top level (`message_id` with its `tenant_id`,
   and `lead_id` when present), so an event can only touch the tenant's own row; an event
   without them falls back to SendGrid's message id (`sg_message_id` up to its first '.', the
   X-Message-Id our request got back, shared by up to 1,000 recipients) plus the recipient
   address. No match: the event stays in the raw body and is counted `unmatched`.
2. Deduplicate: SendGrid delivers at least once, sometimes under a new `sg_event_id`, so
   an event is new only if neither its id nor its natural key (message, event, timestamp,
   URL) is in `message_events` or earlier in the batch: one `INSERT … ON CONFLICT DO NOTHING`
   in key order, the first copy of the batch first, and what it returns is what is new.
   Only new events have effects, so a replayed batch changes nothing.
3. Effects of the new events: the message's status moves forward only (held → sent →
   failed → delivered; see the domain module), a held row is resolved; opens and clicks join
   the lead's timeline and a click resets its silence (the rule of app/services/activities.py,
   in bulk); bounces, drops for a bad address, spam reports and unsubscribes suppress the
   address and stop the lead's enrollments (app/services/reactions.py); engaged leads are
   queued for rescoring once the transaction commits; deliveries, opens, clicks and bounces of
   messages whose enrollment runs are queued for its plan (`campaign_run.fire_due` hears them).

Everything runs in the caller's transaction (webhook_apply commits it with the deliveries
marked applied), so a worker killed mid-batch leaves nothing half applied.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis.exceptions import RedisError
from sqlalchemy import event, text
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from app import runtime
from app.domain.sendgrid_events import STATUS_OF_RANK, MalformedBatch, storable
from app.services import reactions, score_requests
from app.services.deliveries import Applied, Delivery
from app.services.reactions import Stop, StopEvent, Suppression
from app.services.sendgrid_read import STAGE

log = logging.getLogger(__name__)

ENDPOINT = "sendgrid/events"

STOPS = {"bounce": StopEvent.BOUNCED, "spam": StopEvent.SPAM_REPORT, "unsubscribe": StopEvent.UNSUBSCRIBED}
"""Suppression reason → why the lead's enrollments stop."""

_INSERT_NEW = text(
    """
    CREATE TEMPORARY TABLE sg_new ON COMMIT DROP AS
    WITH added AS (
        INSERT INTO message_events (tenant_id, message_id, lead_id, channel, event_type, occurred_at,
                                    provider_event_id, natural_key, url, payload)
        SELECT s.tenant_id, s.message_id, s.lead_id, 'email', s.kind, s.occurred_at, s.sg_event_id, s.natural_key,
               s.url, jsonb_build_object('delivery_id', s.delivery_id, 'index', s.ordinal)
        FROM sg_batch AS s
        WHERE s.message_id IS NOT NULL
        ORDER BY s.natural_key COLLATE "C", s.delivery_id, s.ordinal
        ON CONFLICT DO NOTHING
        RETURNING payload
    )
    SELECT b.delivery_id, b.ordinal, b.event, b.kind, b.occurred_at, b.url, b.message_id, b.tenant_id, b.lead_id,
           b.to_address, b.rank, b.error_code, b.error, b.suppression
    FROM added AS a
    JOIN sg_batch AS b ON b.delivery_id = CAST(a.payload->>'delivery_id' AS bigint)
                      AND b.ordinal = CAST(a.payload->>'index' AS int)
    """
)
"""The new events, inserted in natural-key order (two appliers meeting on the same keys wait for each
other instead of deadlocking; in byte order: 43,000 keys sort in ~29 ms, ~45 ms in the collation),
a copy seen earlier in the batch or in `message_events` skipped.

The event's payload is a pointer to it (`webhook_deliveries.id` and its index in that body), not
a copy: the raw delivery keeps every byte SendGrid sent, and a second copy of 45,000 events cost
the applier a third of its time (parsing each body again, and the WAL to write it)."""

_COUNTS = text(
    """
    SELECT b.delivery_id, count(*) AS events, count(*) FILTER (WHERE NOT b.acted) AS ignored,
           count(*) FILTER (WHERE b.acted AND b.message_id IS NULL) AS unmatched,
           count(*) FILTER (WHERE b.message_id IS NOT NULL) AS matched, coalesce(max(n.applied), 0) AS applied
    FROM sg_batch AS b
    LEFT JOIN (SELECT delivery_id, count(*) AS applied FROM sg_new GROUP BY delivery_id) AS n
           ON n.delivery_id = b.delivery_id
    GROUP BY b.delivery_id
    """
)

_STATUS_CASE = " ".join(f"WHEN {rank} THEN '{status}'" for rank, status in sorted(STATUS_OF_RANK.items()))

_MOVE_STATUSES = text(
    f"""
    WITH target AS (
        SELECT DISTINCT ON (message_id) message_id, rank, occurred_at, error_code, error
        FROM sg_new WHERE rank > 0
        ORDER BY message_id, rank DESC, occurred_at
    ), moving AS (
        SELECT o.id, t.rank, t.occurred_at, t.error_code, t.error
        FROM target AS t JOIN outbound_messages AS o ON o.id = t.message_id
        WHERE CASE o.status WHEN 'held' THEN 0 WHEN 'sent' THEN 1 WHEN 'failed' THEN 2 WHEN 'delivered' THEN 3 END
              < t.rank
        ORDER BY o.id
        FOR NO KEY UPDATE OF o
    )
    UPDATE outbound_messages AS o
    SET status = CASE m.rank {_STATUS_CASE} END,
        sent_at = CASE WHEN m.rank <> 2 THEN coalesce(o.sent_at, m.occurred_at) ELSE o.sent_at END,
        delivered_at = CASE WHEN m.rank = 3 THEN m.occurred_at ELSE o.delivered_at END,
        error_code = CASE WHEN m.rank = 2 THEN m.error_code ELSE o.error_code END,
        last_error = CASE WHEN m.rank = 2 THEN m.error ELSE o.last_error END,
        updated_at = now()
    FROM moving AS m
    WHERE o.id = m.id
    """
)
"""Rows are locked in id order (two appliers never deadlock on them), and the rank is checked on
the locked row: a status another transaction moved meanwhile is compared as it is now."""

_TIMELINE = text(
    """
    INSERT INTO activities (tenant_id, lead_id, kind, channel, occurred_at, summary, details)
    SELECT tenant_id, lead_id, kind, 'email', occurred_at,
           CASE kind WHEN 'click' THEN 'Clicked a link in an email' ELSE 'Opened an email' END,
           jsonb_strip_nulls(jsonb_build_object('message_id', message_id, 'url', url))
    FROM sg_new WHERE kind IN ('open', 'click')
    ORDER BY delivery_id, ordinal
    """
)

_CLICKS_RESET_SILENCE = text(
    """
    WITH clicks AS (
        SELECT lead_id, max(occurred_at) AS at FROM sg_new WHERE kind = 'click' GROUP BY lead_id
    ), resetting AS (
        SELECT l.id, c.at FROM clicks AS c JOIN leads AS l ON l.id = c.lead_id
        WHERE l.last_activity_at < c.at
        ORDER BY l.id
        FOR NO KEY UPDATE OF l
    )
    UPDATE leads AS l
    SET last_activity_at = r.at, silence_level = 0, updated_at = now(),
        recovery_state = CASE WHEN l.recovery_state IN ('silent', 'in_recovery', 'control', 'lost')
                              THEN 'active' ELSE l.recovery_state END
    FROM resetting AS r
    WHERE l.id = r.id
    """
)

_PLAN_EVENTS = text(
    """
    INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key, payload)
    SELECT e.tenant_id, e.id, e.lead_id, 'event', NULL, s.occurred_at, 'sendgrid:' || s.delivery_id || ':' || s.ordinal,
           jsonb_build_object(
               'event', CASE s.kind WHEN 'delivered' THEN 'delivered' WHEN 'open' THEN 'opened'
                                    WHEN 'click' THEN 'clicked' ELSE 'bounced' END,
               'at', s.occurred_at,
               'episode', CAST(substring(o.dedupe_key FROM '\\:e([0-9]+)\\:') AS int))
    FROM sg_new AS s
    JOIN outbound_messages AS o ON o.id = s.message_id
    JOIN enrollments AS e ON e.id = o.enrollment_id AND e.status = 'active'
    WHERE s.kind IN ('delivered', 'open', 'click', 'bounce')
    ORDER BY s.delivery_id, s.ordinal
    ON CONFLICT (dedupe_key) DO NOTHING
    """
)
"""What the running plans hear: the message's delivery, opens, clicks and bounces, queued for the
enrollment that sent it, in the episode that sent it (app/services/campaign_run.py fires them)."""

_OPT_OUTS = text(
    """
    SELECT tenant_id, lead_id, to_address, suppression, min(occurred_at) AS at,
           string_agg(DISTINCT event, ', ' ORDER BY event) AS events
    FROM sg_new WHERE suppression IS NOT NULL
    GROUP BY tenant_id, lead_id, to_address, suppression
    ORDER BY tenant_id, at, lead_id, suppression
    """
)
"""Each opted-out recipient once per reason, at its first such event of the batch."""

_ENGAGED = text(
    """
    SELECT tenant_id, array_agg(DISTINCT lead_id ORDER BY lead_id) AS lead_ids
    FROM sg_new WHERE kind IN ('open', 'click') GROUP BY tenant_id ORDER BY tenant_id
    """
)


def apply(session: Session, deliveries: Sequence[Delivery]) -> dict[int, Applied]:
    """Apply a batch of stored SendGrid deliveries; what each did, by delivery id."""
    ids = sorted(d.id for d in deliveries)
    session.execute(text("SET LOCAL work_mem = '64MB'"))  # the batch's sorts and hashes stay in memory
    session.execute(text("DROP TABLE IF EXISTS pg_temp.sg_batch, pg_temp.sg_new"))
    done = {delivery_id: Applied(notes=[note]) for delivery_id, note in stage(session, ids).items()}
    session.execute(_INSERT_NEW)
    for row in session.execute(_COUNTS):
        done[row.delivery_id] = Applied(
            events=row.events,
            applied=row.applied,
            duplicates=row.matched - row.applied,
            unmatched=row.unmatched,
            ignored=row.ignored,
        )
    session.execute(_MOVE_STATUSES)
    session.execute(_TIMELINE)
    session.execute(_CLICKS_RESET_SILENCE)
    session.execute(_PLAN_EVENTS)
    apply_opt_outs(session)
    rescore_after_commit(session, {row.tenant_id: list(row.lead_ids) for row in session.execute(_ENGAGED)})
    return done


def stage(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Load the deliveries' events into `sg_batch`; returns why a delivery could not be read, by id.

    PostgreSQL's JSON refuses what Python's accepted at the door: a `\\u0000` escape or a lone
    surrogate in a string. When the batch's statement fails on one, each delivery is tried on its
    own, and a refused body is read as `storable` rewrites it (those strings cleaned), never
    altered where it is stored.
    """
    if _staged(session, ids, {}):
        return {}
    readable: list[int] = []
    cleaned: dict[int, str] = {}
    notes: dict[int, str] = {}
    for delivery_id in ids:
        if not _staged(session, [delivery_id], {}):
            body = session.execute(_BODY, {"id": delivery_id}).scalar_one()
            try:
                cleaned[delivery_id] = storable(body)
            except MalformedBatch as error:  # the door stores only arrays of objects; kept for safety
                notes[delivery_id] = f"not applied: {error}"
                continue
            if not _staged(session, [delivery_id], cleaned):
                notes[delivery_id] = "not applied: PostgreSQL cannot read its events"
                continue
        session.execute(text("DROP TABLE pg_temp.sg_batch"))
        readable.append(delivery_id)
    session.execute(STAGE, _stage_params(readable, cleaned))
    return notes


_BODY = text("SELECT body FROM webhook_deliveries WHERE id = :id")


def _staged(session: Session, ids: Sequence[int], cleaned: dict[int, str]) -> bool:
    try:
        with session.begin_nested():
            session.execute(STAGE, _stage_params(ids, cleaned))
    except DataError as error:
        log.info("SendGrid deliveries %s read one by one: %s", list(ids)[:5], str(error.orig).splitlines()[0])
        return False
    return True


def _stage_params(ids: Sequence[int], cleaned: dict[int, str]) -> dict[str, object]:
    kept = {i: body for i, body in cleaned.items() if i in set(ids)}
    return {"ids": list(ids), "cleaned_ids": list(kept), "cleaned": list(kept.values())}


def apply_opt_outs(session: Session) -> None:
    """Suppress the addresses of new bounces, drops, spam reports and unsubscribes; stop their leads.

    Two statements for the whole batch, whatever its tenants, reasons and times: a backlog of
    SendGrid's retries after an outage spans hours, and a statement per tenant, reason and minute
    cost seconds a batch. An address keeps the reason of its first event, and a lead stops at its
    first opt-out, with that event's time.
    """
    rows = session.execute(_OPT_OUTS).all()
    reactions.suppress_addresses(
        session,
        [Suppression(r.tenant_id, "email", r.to_address, r.suppression, f"SendGrid {r.events}") for r in rows],
    )
    reactions.stop_leads(
        session,
        [Stop(r.tenant_id, r.lead_id, STOPS[r.suppression], f"SendGrid {r.events}", r.at) for r in rows],
    )


def rescore_after_commit(session: Session, leads_by_tenant: dict[int, list[int]]) -> None:
    """Queue the engaged leads for rescoring once their events are committed (a scorer that ran
    before the commit would read the old counts and drain the request)."""
    if not leads_by_tenant:
        return
    pending = dict(leads_by_tenant)

    def request(_: Session) -> None:
        try:
            connection = runtime.redis_client()
            for tenant_id, lead_ids in sorted(pending.items()):
                score_requests.request_rescore(connection, tenant_id=tenant_id, lead_ids=lead_ids)
        except RedisError as error:  # the 15-minute rescore sweep catches up
            log.warning("rescoring after SendGrid events not queued: %s", error)

    event.listen(session, "after_commit", request, once=True)
