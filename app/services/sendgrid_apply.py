"""Applying SendGrid event batches, set-based: a batch of deliveries in a handful of statements.

The applier (`apply`, registered in app/services/webhook_apply.APPLIERS) gets up to 50 stored
deliveries of up to 1,000 events each. Python parses the bodies and flattens the events we act
on (app/domain/sendgrid_events.py); one JSON parameter, expanded by `jsonb_array_elements`,
loads them into a temporary table, matched to our messages as it loads; then a few
statements, each over the whole batch (see bench/results/ingest.json for what it sustains):

1. Match: by the custom args at the event's top level (`message_id` with its `tenant_id`,
   and `lead_id` when present), so an event can only touch the tenant's own row; an event
   without them falls back to SendGrid's message id (`sg_message_id` up to its first '.', the
   X-Message-Id our request got back, shared by up to 1,000 recipients) plus the recipient
   address. No match: the event stays in the raw body and is counted `unmatched`.
2. Deduplicate: SendGrid delivers at least once, sometimes under a new `sg_event_id`, so
   an event is new only if neither its id nor its natural key (message, event, timestamp,
   URL) is in `message_events` or earlier in the batch (`INSERT … ON CONFLICT DO NOTHING`).
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

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from redis.exceptions import RedisError
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from app import runtime
from app.domain.sendgrid_events import STATUS_OF_RANK, EventFacts, MalformedBatch, interpret, parse_batch
from app.services import reactions, score_requests
from app.services.deliveries import Applied, Delivery
from app.services.reactions import StopEvent

log = logging.getLogger(__name__)

ENDPOINT = "sendgrid/events"

STOPS = {"bounce": StopEvent.BOUNCED, "spam": StopEvent.SPAM_REPORT, "unsubscribe": StopEvent.UNSUBSCRIBED}
"""Suppression reason → why the lead's enrollments stop."""

_COLUMNS = (
    ("delivery_id", "bigint"),
    ("ordinal", "int"),
    ("event", "text"),
    ("kind", "text"),
    ("occurred_at", "timestamptz"),  # staged as Unix seconds
    ("stamp", "text"),
    ("sg_event_id", "text"),
    ("provider_id", "text"),
    ("email", "text"),
    ("url", "text"),
    ("url_key", "text"),
    ("arg_message", "bigint"),
    ("arg_tenant", "bigint"),
    ("arg_lead", "bigint"),
    ("by_args", "boolean"),
    ("rank", "int"),
    ("error_code", "text"),
    ("error", "text"),
    ("suppression", "text"),
)
"""The staged columns: each row's JSON array is (delivery id, position, *EventFacts)."""
_FIELDS = ", ".join(
    f"to_timestamp(CAST(r->>{i} AS float8)) AS {name}"
    if kind == "timestamptz"
    else f"CAST(r->>{i} AS {kind}) AS {name}"
    for i, (name, kind) in enumerate(_COLUMNS)
)

_STAGE = text(
    f"""
    CREATE TEMPORARY TABLE sg_batch ON COMMIT DROP AS
    WITH staged AS (
        SELECT {_FIELDS} FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS r
    ), matched AS (
        SELECT s.*, coalesce(a.id, b.id) AS message_id, coalesce(a.tenant_id, b.tenant_id) AS tenant_id,
               coalesce(a.lead_id, b.lead_id) AS lead_id, coalesce(a.to_address, b.to_address) AS to_address
        FROM staged AS s
        LEFT JOIN outbound_messages AS a
               ON s.by_args AND a.id = s.arg_message AND a.tenant_id = s.arg_tenant AND a.channel = 'email'
              AND (s.arg_lead IS NULL OR a.lead_id = s.arg_lead)
        LEFT JOIN LATERAL (
            SELECT o.id, o.tenant_id, o.lead_id, o.to_address FROM outbound_messages AS o
            WHERE NOT s.by_args AND o.provider_message_id = s.provider_id AND o.channel = 'email'
              AND lower(o.to_address) = s.email
            ORDER BY o.id LIMIT 1
        ) AS b ON true
    ), keyed AS (
        SELECT m.*, 'sendgrid:' || m.message_id || ':' || m.event || ':' || m.stamp || ':' || m.url_key AS natural_key
        FROM matched AS m
    )
    SELECT k.*,
           k.message_id IS NOT NULL
           AND row_number() OVER (PARTITION BY k.natural_key ORDER BY k.delivery_id, k.ordinal) = 1
           AND (k.sg_event_id IS NULL
                OR row_number() OVER (PARTITION BY k.sg_event_id, k.message_id IS NULL
                                      ORDER BY k.delivery_id, k.ordinal) = 1) AS candidate,
           false AS inserted
    FROM keyed AS k
    """
)

_INSERT_NEW = text(
    """
    WITH added AS (
        INSERT INTO message_events (tenant_id, message_id, lead_id, channel, event_type, occurred_at,
                                    provider_event_id, natural_key, url, payload)
        SELECT s.tenant_id, s.message_id, s.lead_id, 'email', s.kind, s.occurred_at, s.sg_event_id, s.natural_key,
               s.url, jsonb_build_object('delivery_id', s.delivery_id, 'index', s.ordinal)
        FROM sg_batch AS s
        WHERE s.candidate
        ORDER BY s.natural_key
        ON CONFLICT DO NOTHING
        RETURNING natural_key
    )
    UPDATE sg_batch AS b SET inserted = true FROM added AS a WHERE b.natural_key = a.natural_key AND b.candidate
    """
)
"""The event's payload is a pointer to it (`webhook_deliveries.id` and its index in that body), not
a copy: the raw delivery keeps every byte SendGrid sent, and a second copy of 45,000 events cost
the applier a third of its time (parsing each body again, and the WAL to write it)."""

_COUNTS = text(
    """
    SELECT delivery_id,
           count(*) FILTER (WHERE inserted) AS applied,
           count(*) FILTER (WHERE message_id IS NOT NULL AND NOT inserted) AS duplicates,
           count(*) FILTER (WHERE message_id IS NULL) AS unmatched
    FROM sg_batch GROUP BY delivery_id
    """
)

_STATUS_CASE = " ".join(f"WHEN {rank} THEN '{status}'" for rank, status in sorted(STATUS_OF_RANK.items()))

_MOVE_STATUSES = text(
    f"""
    WITH target AS (
        SELECT DISTINCT ON (message_id) message_id, rank, occurred_at, error_code, error
        FROM sg_batch WHERE inserted AND rank > 0
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
    FROM sg_batch WHERE inserted AND kind IN ('open', 'click')
    ORDER BY delivery_id, ordinal
    """
)

_CLICKS_RESET_SILENCE = text(
    """
    WITH clicks AS (
        SELECT lead_id, max(occurred_at) AS at FROM sg_batch WHERE inserted AND kind = 'click' GROUP BY lead_id
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
    SELECT e.tenant_id, e.id, e.lead_id, 'event', NULL, s.occurred_at, 'sendgrid:' || s.natural_key,
           jsonb_build_object(
               'event', CASE s.kind WHEN 'delivered' THEN 'delivered' WHEN 'open' THEN 'opened'
                                    WHEN 'click' THEN 'clicked' ELSE 'bounced' END,
               'at', s.occurred_at,
               'episode', CAST(substring(o.dedupe_key FROM '\\:e([0-9]+)\\:') AS int))
    FROM sg_batch AS s
    JOIN outbound_messages AS o ON o.id = s.message_id
    JOIN enrollments AS e ON e.id = o.enrollment_id AND e.status = 'active'
    WHERE s.inserted AND s.kind IN ('delivered', 'open', 'click', 'bounce')
    ORDER BY s.delivery_id, s.ordinal
    ON CONFLICT (dedupe_key) DO NOTHING
    """
)
"""What the running plans hear: the message's delivery, opens, clicks and bounces, queued for the
enrollment that sent it, in the episode that sent it (app/services/campaign_run.py fires them)."""

_OPT_OUTS = text(
    """
    SELECT tenant_id, suppression, array_agg(DISTINCT to_address ORDER BY to_address) AS addresses,
           array_agg(DISTINCT lead_id ORDER BY lead_id) AS lead_ids, max(occurred_at) AS at,
           string_agg(DISTINCT event, ', ' ORDER BY event) AS events
    FROM sg_batch WHERE inserted AND suppression IS NOT NULL
    GROUP BY tenant_id, suppression, date_trunc('minute', occurred_at)
    ORDER BY tenant_id, at, suppression
    """
)

_ENGAGED = text(
    """
    SELECT tenant_id, array_agg(DISTINCT lead_id ORDER BY lead_id) AS lead_ids
    FROM sg_batch WHERE inserted AND kind IN ('open', 'click') GROUP BY tenant_id ORDER BY tenant_id
    """
)


def apply(session: Session, deliveries: Sequence[Delivery]) -> dict[int, Applied]:
    """Apply a batch of stored SendGrid deliveries; what each did, by delivery id."""
    batch = read_deliveries(deliveries)
    if not batch.facts:
        return batch.results
    session.execute(text("SET LOCAL work_mem = '64MB'"))  # the batch's sorts and hashes stay in memory
    session.execute(text("DROP TABLE IF EXISTS pg_temp.sg_batch"))
    session.execute(_STAGE, {"rows": batch.staged_rows()})
    session.execute(_INSERT_NEW)
    for row in session.execute(_COUNTS):
        done = batch.results[row.delivery_id]
        done.applied, done.duplicates, done.unmatched = row.applied, row.duplicates, row.unmatched
    session.execute(_MOVE_STATUSES)
    session.execute(_TIMELINE)
    session.execute(_CLICKS_RESET_SILENCE)
    session.execute(_PLAN_EVENTS)
    apply_opt_outs(session)
    rescore_after_commit(session, {row.tenant_id: list(row.lead_ids) for row in session.execute(_ENGAGED)})
    return batch.results


@dataclass
class Batch:
    """The deliveries as Python read them: what each did so far, and the events we act on."""

    results: dict[int, Applied] = field(default_factory=dict)
    facts: list[tuple[int, int, EventFacts]] = field(default_factory=list)
    """(delivery id, position in its body, facts) of every event we act on."""

    def staged_rows(self) -> str:
        """One JSON array of rows for `jsonb_array_elements`: PostgreSQL parses it in C, where adapting
        twenty arrays of 50,000 values through the driver cost seconds a batch."""
        return json.dumps([(delivery_id, position, *facts) for delivery_id, position, facts in self.facts])


def read_deliveries(deliveries: Sequence[Delivery]) -> Batch:
    """Each delivery's events: those we act on, with (delivery id, position); the rest counted ignored."""
    batch = Batch()
    for delivery in deliveries:
        try:
            events = parse_batch(delivery.body)
        except MalformedBatch as error:  # the route stores only arrays of objects; kept for safety
            batch.results[delivery.id] = Applied(notes=[f"not applied: {error}"])
            continue
        done = batch.results[delivery.id] = Applied(events=len(events))
        for position, raw in enumerate(events):
            facts = interpret(raw)
            if facts is None:
                done.ignored += 1
            else:
                batch.facts.append((delivery.id, position, facts))
    return batch


def apply_opt_outs(session: Session) -> None:
    """Suppress the addresses of new bounces, drops, spam reports and unsubscribes; stop their leads.

    One call per tenant, reason and minute (a batch is a few such groups, not one per event): the
    enrollments stop at the group's latest event, so the audit time is right to the minute.
    """
    for row in session.execute(_OPT_OUTS).all():
        reactions.suppress(
            session,
            tenant_id=row.tenant_id,
            channel="email",
            addresses=list(row.addresses),
            reason=row.suppression,
            note=f"SendGrid {row.events}",
        )
        reactions.stop_enrollments(
            session,
            tenant_id=row.tenant_id,
            lead_ids=list(row.lead_ids),
            event=STOPS[row.suppression],
            reason=f"SendGrid {row.events}",
            at=row.at,
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
