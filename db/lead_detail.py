"""Reads for the Leads page's call list and lead drawer: one lead at a time, or the top few.

Same conventions as `db/queries.py`: each function takes an `Engine` or an open `Connection`
and the tenant id first, returns a frozen dataclass or a DataFrame, and says which index of
`db/models/` it leans on. Every read here touches a bounded number of rows however many
leads and events the tenant has: one lead's rows through the per-lead indexes, or a candidate
set cut short by index order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from .queries import _NAME, Bind, _connection, _frame, _now

QUEUE_CANDIDATES = 1_000
TIMELINE_LIMIT = 40
INSIGHT_PURPOSE = "insight"
LEAD_OWN_KINDS = ("form", "call", "meeting", "email_in", "sms_in")


_DAYS = "(extract(epoch FROM (CAST(:now AS timestamptz) - l.last_activity_at)) / 86400)::float8"


def shown_zone(*names: str | None) -> str:
    """The first of `names` that is a time zone this machine knows, else UTC (a CRM may hold "EST5" or "").

    Resolved in Python rather than against `pg_timezone_names`, which PostgreSQL builds by
    reading the whole zone database on every query (a tenth of a second).
    """
    for name in names:
        if not name:
            continue
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return name
    return "UTC"


# --- who to call first ------------------------------------------------------------------------


# The candidate rows carry what the queue shows, so the merge needs no second visit to `leads`.
_COLUMNS = (
    "l.id, l.first_name, l.last_name, l.company, l.owner_id, l.recovery_state, l.intent_score, l.deal_value, "
    "l.last_activity_at"
)


def priority_queue(
    bind: Bind,
    tenant_id: int,
    *,
    states: Sequence[str],
    half_life_days: float,
    limit: int = 10,
    candidates: int = QUEUE_CANDIDATES,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """The `limit` leads in `states` with the highest priority, computed in SQL exactly as
    `app.domain.priority.priority` does: score ÷ 100 × deal value × 0.5 ^ (days silent ÷ half-life).

    Columns: id, name, company, owner, state, score, value, days_silent, priority; best first,
    ties to the higher score, then the lower id.

    The formula is computed over a candidate set, never over the whole tenant: the `candidates`
    best intent scores in those states (a walk down ix_leads_score that stops after that many
    matches) and, per state, the `candidates` most recently active leads (a backward range of
    ix_leads_silence_scan). The queue is exact whenever a tenant has at most `candidates` leads
    in a state; above that, a lead is left out only when it is both outside the best scores and
    outside the freshest activity of its state, where only an outsized deal value could lift it
    into the top few. That is the price of answering in milliseconds at a million leads: deal
    value has no index, and a full pass would read every lead of the tenant.
    """
    if limit < 1 or candidates < limit:
        raise ValueError(f"need 1 <= limit <= candidates, got limit={limit}, candidates={candidates}")
    sql = text(
        f"""
        WITH by_score AS (
            SELECT {_COLUMNS} FROM leads l
            WHERE l.tenant_id = :tenant_id AND l.recovery_state = ANY(:states)
            ORDER BY l.intent_score DESC
            LIMIT :candidates
        ), by_recency AS (
            SELECT r.* FROM unnest(CAST(:states AS text[])) AS s(state)
            CROSS JOIN LATERAL (
                SELECT {_COLUMNS} FROM leads l
                WHERE l.tenant_id = :tenant_id AND l.recovery_state = s.state
                ORDER BY l.last_activity_at DESC
                LIMIT :candidates
            ) r
        ), l AS (
            SELECT * FROM by_score UNION SELECT * FROM by_recency
        )
        SELECT l.id, {_NAME} AS name, l.company, o.name AS owner, l.recovery_state AS state,
               l.intent_score AS score, l.deal_value::float8 AS value, {_DAYS} AS days_silent,
               (l.intent_score / 100.0 * l.deal_value::float8
                * power(0.5::float8, greatest({_DAYS}, 0) / :half_life))::float8 AS priority
        FROM l LEFT JOIN operators o ON o.id = l.owner_id
        ORDER BY priority DESC, l.intent_score DESC, l.id
        LIMIT :limit
        """
    ).bindparams(bindparam("states", type_=ARRAY(Text)))
    params = {
        "tenant_id": tenant_id,
        "states": list(states),
        "half_life": half_life_days,
        "candidates": candidates,
        "limit": limit,
        "now": _now(now),
    }
    with _connection(bind) as conn:
        return _frame(conn.execute(sql, params))


# --- the drawer -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadHeader:
    """The drawer's first lines: who the lead is and where they stand.

    `days_silent` is days since `last_activity_at`; `zone` the IANA zone their times are shown
    in (theirs when valid, else the tenant's, else UTC); `local_now` the wall-clock time there.
    """

    id: int
    name: str
    company: str | None
    email: str | None
    phone: str | None
    owner: str | None
    state: str
    stage: str
    source: str
    score: int
    deal_value: float
    rung: int
    days_silent: float
    last_activity_at: dt.datetime
    last_contacted_at: dt.datetime | None
    zone: str
    local_now: dt.datetime


def lead_header(bind: Bind, tenant_id: int, lead_id: int, *, now: dt.datetime | None = None) -> LeadHeader | None:
    """The lead's header (see `LeadHeader`), or None when the tenant has no such lead; a primary-key probe."""
    sql = text(
        f"""
        SELECT l.id, {_NAME} AS name, l.company, l.email, l.phone, o.name AS owner, l.recovery_state AS state,
               l.stage, l.source, l.intent_score AS score, l.deal_value::float8 AS deal_value,
               l.silence_level AS rung, {_DAYS} AS days_silent, l.last_activity_at, l.last_contacted_at,
               l.timezone, t.timezone AS tenant_zone
        FROM leads l
        JOIN tenants t ON t.id = l.tenant_id
        LEFT JOIN operators o ON o.id = l.owner_id
        WHERE l.tenant_id = :tenant_id AND l.id = :lead_id
        """
    )
    at = _now(now)
    with _connection(bind) as conn:
        row = conn.execute(sql, {"tenant_id": tenant_id, "lead_id": lead_id, "now": at}).mappings().first()
    if row is None:
        return None
    values = dict(row)
    zone = shown_zone(values.pop("timezone"), values.pop("tenant_zone"))
    local_now = at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return LeadHeader(**values, zone=zone, local_now=local_now)


def lead_timeline(
    bind: Bind, tenant_id: int, lead_id: int, *, zone: str = "UTC", limit: int = TIMELINE_LIMIT
) -> pd.DataFrame:
    """Everything that happened to one lead, newest first, at most `limit` rows.

    Columns: at (UTC instant), local_at (wall-clock time in `zone`: the drawer passes the
    `LeadHeader.zone`),
    kind (activity, message, event, reply, conversion, enrollment), what (the sub-kind: an
    activity's kind, a message's channel, an event's type, a reply's intent, a conversion's
    method, a campaign's name), detail (summary, subject, reply text, URL…), status (a message's
    status, a reply's sentiment, an enrollment's status; else empty).

    Each source is read newest first and cut at `limit` before the merge, through the per-lead
    indexes: ix_activities_lead_time, ix_outbound_messages_lead (and ix_message_events_message
    for those messages' events), ix_inbound_messages_lead, ix_conversions_lead, ix_enrollments_lead.
    """
    sql = text(
        """
        WITH lead AS (
            SELECT l.id FROM leads l WHERE l.tenant_id = :tenant_id AND l.id = :lead_id
        ), messages AS (
            SELECT m.id, m.channel, m.subject, m.body, m.status, coalesce(m.sent_at, m.created_at) AS at
            FROM outbound_messages m JOIN lead ON m.lead_id = lead.id
            WHERE m.tenant_id = :tenant_id
        ), merged AS (
            (SELECT a.occurred_at AS at, 'activity' AS kind, a.kind AS what, a.summary AS detail, '' AS status
             FROM activities a JOIN lead ON a.lead_id = lead.id
             WHERE a.tenant_id = :tenant_id ORDER BY a.occurred_at DESC LIMIT :limit)
            UNION ALL
            (SELECT m.at, 'message', m.channel, coalesce(m.subject, left(m.body, 140)), m.status
             FROM messages m ORDER BY m.at DESC LIMIT :limit)
            UNION ALL
            (SELECT e.occurred_at, 'event', e.event_type, coalesce(e.url, m.subject, m.channel), ''
             FROM messages m JOIN message_events e ON e.message_id = m.id
             ORDER BY e.occurred_at DESC LIMIT :limit)
            UNION ALL
            (SELECT i.received_at, 'reply', coalesce(i.intent, i.channel), left(i.body, 280), coalesce(i.sentiment, '')
             FROM inbound_messages i JOIN lead ON i.lead_id = lead.id
             WHERE i.tenant_id = :tenant_id ORDER BY i.received_at DESC LIMIT :limit)
            UNION ALL
            (SELECT c.converted_at, 'conversion', c.method, to_char(c.value, 'FM999,999,990.00'), ''
             FROM conversions c JOIN lead ON c.lead_id = lead.id
             WHERE c.tenant_id = :tenant_id ORDER BY c.converted_at DESC LIMIT :limit)
            UNION ALL
            (SELECT e.enrolled_at, 'enrollment', k.name,
                    CASE WHEN e.is_control THEN 'held out as control' ELSE 'rung ' || e.rung END, e.status
             FROM enrollments e JOIN lead ON e.lead_id = lead.id JOIN campaigns k ON k.id = e.campaign_id
             WHERE e.tenant_id = :tenant_id ORDER BY e.enrolled_at DESC LIMIT :limit)
        )
        SELECT merged.at, merged.kind, merged.what, merged.detail, merged.status
        FROM merged
        ORDER BY merged.at DESC, merged.kind
        LIMIT :limit
        """
    )
    with _connection(bind) as conn:
        frame = _frame(conn.execute(sql, {"tenant_id": tenant_id, "lead_id": lead_id, "limit": limit}))
    at = pd.to_datetime(frame["at"], utc=True)
    frame.insert(1, "local_at", at.dt.tz_convert(shown_zone(zone)).dt.tz_localize(None))
    return frame


# --- what an AI insight is told ----------------------------------------------------------------


@dataclass(frozen=True)
class InsightSignals:
    """The facts about one lead an insight is built from, as stored (the service words them).

    Counts cover the last `window_days`: `opens`/`clicks` are the larger of tracking events and
    activities (a click may arrive as both), `replies` inbound messages, `sent` our messages that
    left (sent or delivered). `last_own_*` is the last thing the lead did themselves (a form,
    call, meeting or message in); `reply_*` their latest reply; `recent_replies` the bodies of
    their last few replies, newest first (where objections are looked for).
    """

    first_name: str
    state: str
    stage: str
    source: str
    score: int
    deal_value: float
    rung: int
    days_silent: float
    has_email: bool
    has_phone: bool
    interest: str | None
    window_days: int
    opens: int
    clicks: int
    replies: int
    sent: int
    days_since_sent: float | None
    last_own_kind: str | None
    last_own_summary: str | None
    days_since_own: float | None
    reply_intent: str | None
    reply_sentiment: str | None
    days_since_reply: float | None
    recent_replies: tuple[str, ...]


def insight_signals(
    bind: Bind,
    tenant_id: int,
    lead_id: int,
    *,
    window_days: int = 30,
    replies: int = 3,
    now: dt.datetime | None = None,
) -> InsightSignals | None:
    """The lead's `InsightSignals`, or None when the tenant has no such lead.

    One statement of per-lead probes: ix_activities_lead_time (a range of the window, and the
    newest own activity), ix_outbound_messages_lead and ix_message_events_message,
    ix_inbound_messages_lead.
    """
    sql = text(
        """
        WITH clock AS (SELECT CAST(:now AS timestamptz) AS at),
        lead AS (
            SELECT l.* FROM leads l WHERE l.tenant_id = :tenant_id AND l.id = :lead_id
        ), acts AS (
            SELECT count(*) FILTER (WHERE a.kind = 'open') AS opens,
                   count(*) FILTER (WHERE a.kind = 'click') AS clicks
            FROM activities a JOIN lead ON a.lead_id = lead.id
            WHERE a.tenant_id = :tenant_id AND a.occurred_at > (SELECT at FROM clock) - make_interval(days => :window)
        ), sent AS (
            SELECT count(*) FILTER (WHERE m.status IN ('sent', 'delivered')
                                    AND coalesce(m.sent_at, m.created_at)
                                        > (SELECT at FROM clock) - make_interval(days => :window)) AS sent,
                   max(m.sent_at) AS last_sent
            FROM outbound_messages m JOIN lead ON m.lead_id = lead.id
            WHERE m.tenant_id = :tenant_id
        ), events AS (
            SELECT count(*) FILTER (WHERE e.event_type = 'open') AS opens,
                   count(*) FILTER (WHERE e.event_type = 'click') AS clicks
            FROM outbound_messages m JOIN lead ON m.lead_id = lead.id
            JOIN message_events e ON e.message_id = m.id
            WHERE m.tenant_id = :tenant_id AND e.occurred_at > (SELECT at FROM clock) - make_interval(days => :window)
        ), own AS (
            SELECT a.kind, a.summary, a.occurred_at FROM activities a JOIN lead ON a.lead_id = lead.id
            WHERE a.tenant_id = :tenant_id AND a.kind = ANY(:own_kinds)
            ORDER BY a.occurred_at DESC LIMIT 1
        ), said AS (
            SELECT i.body, i.intent, i.sentiment, i.received_at FROM inbound_messages i JOIN lead ON i.lead_id = lead.id
            WHERE i.tenant_id = :tenant_id ORDER BY i.received_at DESC, i.id DESC LIMIT :replies
        )
        SELECT lead.first_name, lead.recovery_state AS state, lead.stage, lead.source, lead.intent_score AS score,
               lead.deal_value::float8 AS deal_value, lead.silence_level AS rung,
               (extract(epoch FROM (SELECT at FROM clock) - lead.last_activity_at) / 86400)::float8 AS days_silent,
               lead.email IS NOT NULL AND lead.consent_email AS has_email,
               lead.phone IS NOT NULL AS has_phone,
               nullif(trim(coalesce(lead.attributes ->> 'interest', lead.attributes ->> 'product',
                                    lead.attributes ->> 'service')), '') AS interest,
               greatest(acts.opens, events.opens) AS opens, greatest(acts.clicks, events.clicks) AS clicks,
               (SELECT count(*) FROM inbound_messages i WHERE i.lead_id = lead.id AND i.tenant_id = :tenant_id
                  AND i.received_at > (SELECT at FROM clock) - make_interval(days => :window)) AS replies,
               sent.sent,
               (extract(epoch FROM (SELECT at FROM clock) - sent.last_sent) / 86400)::float8 AS days_since_sent,
               own.kind AS last_own_kind, own.summary AS last_own_summary,
               (extract(epoch FROM (SELECT at FROM clock) - own.occurred_at) / 86400)::float8 AS days_since_own,
               latest.intent AS reply_intent, latest.sentiment AS reply_sentiment,
               (extract(epoch FROM (SELECT at FROM clock) - latest.received_at) / 86400)::float8 AS days_since_reply,
               coalesce((SELECT array_agg(body ORDER BY received_at DESC) FROM said), '{}') AS recent_replies
        FROM lead CROSS JOIN acts CROSS JOIN sent CROSS JOIN events
        LEFT JOIN own ON true
        LEFT JOIN LATERAL (SELECT * FROM said ORDER BY received_at DESC LIMIT 1) latest ON true
        """
    ).bindparams(bindparam("own_kinds", type_=ARRAY(Text)))
    params = {
        "tenant_id": tenant_id,
        "lead_id": lead_id,
        "now": _now(now),
        "window": window_days,
        "replies": replies,
        "own_kinds": list(LEAD_OWN_KINDS),
    }
    with _connection(bind) as conn:
        row = conn.execute(sql, params).mappings().first()
    if row is None:
        return None
    values = dict(row)
    values["recent_replies"] = tuple(values["recent_replies"])
    return InsightSignals(window_days=window_days, **values)


@dataclass(frozen=True)
class StoredInsight:
    """An insight already written for these facts: its JSON output, the model that wrote it
    ('offline' for the fallback), when, and its generation id."""

    id: int
    model: str
    output: str
    prompt_hash: str
    created_at: dt.datetime


def stored_insight(bind: Bind, tenant_id: int, prompt_hashes: Sequence[str]) -> StoredInsight | None:
    """The newest stored insight under the first of `prompt_hashes` that has one (earlier = preferred).

    One probe of the partial index ix_ai_generations_cache (tenant_id, prompt_hash, id DESC) per hash.
    """
    if not prompt_hashes:
        return None
    sql = text(
        """
        SELECT g.id, g.model, g.output, g.prompt_hash, g.created_at
        FROM unnest(CAST(:hashes AS text[])) WITH ORDINALITY AS wanted(hash, position)
        CROSS JOIN LATERAL (
            SELECT id, model, output, prompt_hash, created_at FROM ai_generations
            WHERE tenant_id = :tenant_id AND prompt_hash = wanted.hash AND NOT served_from_cache
              AND purpose = :purpose
            ORDER BY id DESC LIMIT 1
        ) g
        ORDER BY wanted.position
        LIMIT 1
        """
    ).bindparams(bindparam("hashes", type_=ARRAY(Text)))
    params = {"tenant_id": tenant_id, "hashes": list(prompt_hashes), "purpose": INSIGHT_PURPOSE}
    with _connection(bind) as conn:
        row = conn.execute(sql, params).mappings().first()
    return None if row is None else StoredInsight(**dict(row))
