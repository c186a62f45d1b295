"""Reads of the Recovery dashboard: period deltas, the recovery funnel, the filtered worklist, the feed.

Same conventions as `db/queries.py`: an `Engine` (or open `Connection`) and the tenant id
first; frozen dataclasses or DataFrames back; each function names the index it leans on.
The page refreshes these every few seconds at 1M leads, so every read here is either a
range of a (tenant, time) index, a LIMIT that lets an index scan stop early, or a sum over
the `metrics_daily` rollup; none of them reads the tenant's whole event history.

Definitions (the page's tooltips repeat them):

- *period*: the last `days` days up to now, (now − days, now]; the *previous period* is the
  `days` days before it. Rollup figures use whole UTC days, today included, like the ROI page.
- *entered recovery*: enrollments of the period that are not held out (`is_control` false);
  *left recovery*: such enrollments whose `completed_at` (set when one completes, stops or
  fails) falls in the period. entered − left is the change of the *in recovery* stock since
  the period began.
- *went quiet*: leads that are silent now (queries' definition) whose silence began in the
  period, i.e. whose `last_activity_at` plus the silence threshold falls in it.
- *replied*: distinct leads with a reply (`inbound_messages`) received in the period.
- *recovered* / *revenue*: distinct leads with a non-organic conversion in the period, and the
  value of those conversions (as `queries.recovery_summary`).
- funnel stages after the first count *messages*, as `metrics_daily` defines them: sent,
  delivered, engaged (opens, or clicks where a row counted more clicks than opens: an SMS has
  no open), replies, and conversions credited to a message; whole local days come from the
  rollup, today so far from the raw rows (see `period_figures`).

Why `enrollments` is scanned by tenant: the table has no (tenant, enrolled_at) index yet, so
the period pass reads the tenant's enrollments once (a few per lead that went quiet; ~70 ms
for 70,000 of them) and derives every enrollment figure of the page from that single pass;
the feed reads the newest enrollments backwards on the primary key, which follows insertion
order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from sqlalchemy import text

from .models.messaging import EVENT_TYPES
from .queries import _SILENCE_CUT, LEAD_SORTS, Bind, _connection, _frame, _now

PERIODS = (7, 30, 90)
FEED_LIMIT = 20
SILENT_SORTS = {
    "score": LEAD_SORTS["score"],
    "value": LEAD_SORTS["value"],
    "longest_silent": LEAD_SORTS["longest_silent"],
    "recently_silent": LEAD_SORTS["recent"],
}
NO_OWNER = 0
"""The owner id that stands for "nobody owns this lead" in `SilentFilter.owners`."""


def _check_days(days: int) -> None:
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")


# --- the period: hero deltas and the funnel -------------------------------------------------


@dataclass(frozen=True)
class PeriodFigures:
    """What happened in the period and the one before it (definitions in the module docstring)."""

    days: int
    went_quiet: int
    entered: int
    entered_before: int
    left: int
    replied: int
    replied_before: int
    recovered: int
    recovered_before: int
    revenue: Decimal
    revenue_before: Decimal
    sent: int
    delivered: int
    engaged: int
    replies: int
    conversions: int

    @property
    def in_recovery_change(self) -> int:
        """How much the *in recovery* stock grew since the period began."""
        return self.entered - self.left

    @property
    def rate(self) -> float | None:
        """Leads recovered in the period ÷ leads that entered recovery in it."""
        return self.recovered / self.entered if self.entered else None

    @property
    def rate_before(self) -> float | None:
        return self.recovered_before / self.entered_before if self.entered_before else None


_PERIOD_SQL = """
WITH cut AS (
    SELECT CAST(:now AS timestamptz) - make_interval(hours => (SELECT min(h) FROM unnest(t.silence_ladder_hours) h))
           AS at
    FROM tenants t WHERE t.id = :tenant_id
), quiet AS (
    -- ix_leads_silence_scan: one range per silent state
    SELECT count(*) AS went_quiet FROM leads l
    WHERE l.tenant_id = :tenant_id AND l.recovery_state IN ('active', 'silent')
      AND l.last_activity_at < (SELECT at FROM cut)
      AND l.last_activity_at >= (SELECT at FROM cut) - make_interval(days => :days)
), enrolled AS (
    -- the tenant's enrollments, once (ix_enrollments_tenant_status's tenant prefix)
    SELECT count(*) FILTER (WHERE enrolled_at > :start AND enrolled_at <= :now) AS entered,
           count(*) FILTER (WHERE enrolled_at > :before AND enrolled_at <= :start) AS entered_before,
           count(*) FILTER (WHERE completed_at > :start AND completed_at <= :now) AS left_
    FROM enrollments WHERE tenant_id = :tenant_id AND NOT is_control
), replied AS (
    -- ix_inbound_messages_inbox's tenant prefix; replies are a few per hundred messages
    SELECT count(DISTINCT lead_id) FILTER (WHERE received_at > :start) AS replied,
           count(DISTINCT lead_id) FILTER (WHERE received_at <= :start) AS replied_before
    FROM inbound_messages
    WHERE tenant_id = :tenant_id AND received_at > :before AND received_at <= :now
), won AS (
    -- ix_conversions_tenant_time, one range over both periods
    SELECT count(DISTINCT lead_id) FILTER (WHERE converted_at > :start) AS recovered,
           count(DISTINCT lead_id) FILTER (WHERE converted_at <= :start) AS recovered_before,
           coalesce(sum(value) FILTER (WHERE converted_at > :start), 0) AS revenue,
           coalesce(sum(value) FILTER (WHERE converted_at <= :start), 0) AS revenue_before
    FROM conversions
    WHERE tenant_id = :tenant_id AND method <> 'organic' AND converted_at > :before AND converted_at <= :now
), rolled AS (
    -- whole local days before today, ix_metrics_daily_tenant_day
    SELECT coalesce(sum(sent), 0) AS sent, coalesce(sum(delivered), 0) AS delivered,
           coalesce(sum(greatest(opened, clicked)), 0) AS engaged, coalesce(sum(replied), 0) AS replies,
           coalesce(sum(conversions), 0) AS conversions
    FROM metrics_daily WHERE tenant_id = :tenant_id AND day >= :first_day AND day < :today
), sent_today AS (
    -- ix_outbound_messages_tenant_sent
    SELECT count(*) AS sent FROM outbound_messages
    WHERE tenant_id = :tenant_id AND sent_at >= :midnight AND sent_at <= :now
), events_today AS (
    -- ix_message_events_tenant_type_time, grouped as the rollup groups (campaign × channel)
    SELECT coalesce(sum(delivered), 0) AS delivered, coalesce(sum(greatest(opened, clicked)), 0) AS engaged,
           coalesce(sum(replied), 0) AS replies
    FROM (
        SELECT count(*) FILTER (WHERE e.event_type = 'delivered') AS delivered,
               count(*) FILTER (WHERE e.event_type = 'open') AS opened,
               count(*) FILTER (WHERE e.event_type = 'click') AS clicked,
               count(*) FILTER (WHERE e.event_type = 'reply') AS replied
        FROM message_events e JOIN outbound_messages m ON m.id = e.message_id
        WHERE e.tenant_id = :tenant_id AND e.event_type IN ('delivered', 'open', 'click', 'reply')
          AND e.occurred_at >= :midnight AND e.occurred_at <= :now
        GROUP BY m.campaign_id, e.channel
    ) per_group
), won_today AS (
    -- ix_conversions_tenant_time
    SELECT count(*) AS conversions FROM conversions
    WHERE tenant_id = :tenant_id AND channel IS NOT NULL AND converted_at >= :midnight AND converted_at <= :now
), funnel AS (
    SELECT r.sent + s.sent AS sent, r.delivered + e.delivered AS delivered, r.engaged + e.engaged AS engaged,
           r.replies + e.replies AS replies, r.conversions + w.conversions AS conversions
    FROM rolled r, sent_today s, events_today e, won_today w
)
SELECT * FROM quiet, enrolled, replied, won, funnel
"""


def local_today(zone_name: str | None, now: dt.datetime) -> tuple[dt.date, dt.datetime]:
    """The tenant's calendar day at `now` and the instant it began (UTC for an unknown zone name)."""
    try:
        zone = ZoneInfo(zone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    today = now.astimezone(zone).date()
    return today, dt.datetime.combine(today, dt.time(), tzinfo=zone)


def period_figures(bind: Bind, tenant_id: int, *, days: int = 30, now: dt.datetime | None = None) -> PeriodFigures:
    """The period's flows and the previous period's (see `PeriodFigures`), in one statement:
    ranges of ix_leads_silence_scan, ix_conversions_tenant_time and ix_metrics_daily_tenant_day,
    the tenant's replies and one pass over its enrollments.

    The funnel's message stages are the rollup's whole days (the tenant's local days, as
    `metrics_daily` is written) before today, plus today so far counted from the raw rows with
    the rollup's own definitions: the rollup is only as fresh as its last run, and today's rows
    are a thin, indexed slice, so the funnel moves while the agents work."""
    _check_days(days)
    at = _now(now)
    start = at - dt.timedelta(days=days)
    with _connection(bind) as conn:
        zone_name = conn.execute(text("SELECT timezone FROM tenants WHERE id = :t"), {"t": tenant_id}).scalar()
        today, midnight = local_today(zone_name, at)
        params = {
            "tenant_id": tenant_id,
            "now": at,
            "start": start,
            "before": start - dt.timedelta(days=days),
            "days": days,
            "today": today,
            "first_day": today - dt.timedelta(days=days - 1),
            "midnight": midnight,
        }
        row = conn.execute(text(_PERIOD_SQL), params).one()
    return PeriodFigures(
        days=days,
        went_quiet=int(row.went_quiet),
        entered=int(row.entered),
        entered_before=int(row.entered_before),
        left=int(row.left_),
        replied=int(row.replied),
        replied_before=int(row.replied_before),
        recovered=int(row.recovered),
        recovered_before=int(row.recovered_before),
        revenue=Decimal(row.revenue),
        revenue_before=Decimal(row.revenue_before),
        sent=int(row.sent),
        delivered=int(row.delivered),
        engaged=int(row.engaged),
        replies=int(row.replies),
        conversions=int(row.conversions),
    )


# --- the silent-leads worklist, filtered in SQL ----------------------------------------------


@dataclass(frozen=True)
class SilentFilter:
    """What the worklist is narrowed to; hashable so the page can cache on it.

    `rungs`: last ladder rung contacted (0: never), any when empty; `owners`: owner operator
    ids, `NO_OWNER` for unowned leads, any when empty; value and score bounds inclusive,
    None for open-ended; `sort` one of `SILENT_SORTS`.
    """

    rungs: tuple[int, ...] = ()
    owners: tuple[int, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    min_score: int = 0
    max_score: int = 100
    sort: str = "score"

    @property
    def narrows(self) -> bool:
        """Whether any filter is set (the sort aside): the empty state then says to widen it."""
        bounds = (self.min_value, self.max_value) != (None, None) or (self.min_score, self.max_score) != (0, 100)
        return bool(self.rungs or self.owners or bounds)


def _silent_where(silent_filter: SilentFilter) -> tuple[str, dict[str, Any]]:
    """Extra WHERE clauses of a filter, from fixed fragments and bound parameters only."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if silent_filter.rungs:
        clauses.append("l.silence_level = ANY(:rungs)")
        params["rungs"] = list(silent_filter.rungs)
    if silent_filter.owners:
        owned = [o for o in silent_filter.owners if o != NO_OWNER]
        either = ["l.owner_id = ANY(:owners)"] if owned else []
        if NO_OWNER in silent_filter.owners:
            either.append("l.owner_id IS NULL")
        clauses.append("(" + " OR ".join(either) + ")")
        params["owners"] = owned
    if silent_filter.min_value is not None:
        clauses.append("l.deal_value >= :min_value")
        params["min_value"] = silent_filter.min_value
    if silent_filter.max_value is not None:
        clauses.append("l.deal_value <= :max_value")
        params["max_value"] = silent_filter.max_value
    if silent_filter.min_score > 0:
        clauses.append("l.intent_score >= :min_score")
        params["min_score"] = silent_filter.min_score
    if silent_filter.max_score < 100:
        clauses.append("l.intent_score <= :max_score")
        params["max_score"] = silent_filter.max_score
    return "".join(f" AND {c}" for c in clauses), params


_SILENT_CUT = _SILENCE_CUT
_SILENCE_SORTS = {"longest_silent": "ASC", "recently_silent": "DESC"}


def _silent_candidates(sort: str, where: str) -> str:
    """The rows to sort. By score: one walk down ix_leads_score. By silence: one ordered range of
    ix_leads_silence_scan per silent state, each stopped at `limit`, then merged; a single
    `recovery_state IN (...)` range cannot come out of the index in time order, and would sort
    every silent lead of the tenant."""
    if sort not in _SILENCE_SORTS:
        return f"""SELECT l.* FROM leads l
            WHERE l.tenant_id = :tenant_id AND l.recovery_state IN ('active', 'silent')
              AND l.last_activity_at < {_SILENT_CUT}{where}"""
    direction = _SILENCE_SORTS[sort]
    return " UNION ALL ".join(
        f"""(SELECT l.* FROM leads l
            WHERE l.tenant_id = :tenant_id AND l.recovery_state = '{state}'
              AND l.last_activity_at < {_SILENT_CUT}{where}
            ORDER BY l.last_activity_at {direction}, l.id {direction} LIMIT :limit)"""
        for state in ("active", "silent")
    )


def silent_leads(
    bind: Bind,
    tenant_id: int,
    silent_filter: SilentFilter = SilentFilter(),
    *,
    limit: int = 25,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """The leads *silent now* that pass the filter, in its sort order, at most `limit`.

    Columns: id, name, company, score, value, days_silent, rung,
    state, owner, last_activity_at. Sorting by score walks ix_leads_score and stops after
    `limit` matches; the silence sorts walk ix_leads_silence_scan in time order (see
    `_silent_candidates`). A filter that almost nothing matches makes either walk read on to
    the end of its range: at a million leads that is the slow case, not the usual one.
    """
    if silent_filter.sort not in SILENT_SORTS:
        raise ValueError(f"sort must be one of {sorted(SILENT_SORTS)}, got {silent_filter.sort!r}")
    where, params = _silent_where(silent_filter)
    sql = text(
        f"""
        SELECT l.id, trim(l.first_name || ' ' || l.last_name) AS name, l.company, l.intent_score AS score,
               l.deal_value::float8 AS value,
               round((extract(epoch FROM (CAST(:now AS timestamptz) - l.last_activity_at)) / 86400)::numeric, 1)::float8
                   AS days_silent,
               l.silence_level AS rung, l.recovery_state AS state, o.name AS owner, l.last_activity_at
        FROM ({_silent_candidates(silent_filter.sort, where)}) l
        LEFT JOIN operators o ON o.id = l.owner_id
        ORDER BY {SILENT_SORTS[silent_filter.sort]}
        LIMIT :limit
        """
    )
    with _connection(bind) as conn:
        return _frame(conn.execute(sql, params | {"tenant_id": tenant_id, "now": _now(now), "limit": limit}))


@dataclass(frozen=True)
class Owner:
    id: int
    name: str


def owners(bind: Bind, tenant_id: int) -> list[Owner]:
    """The tenant's operators, by name, for the owner filter (tens of rows; uq_operators_tenant_id_email)."""
    sql = text("SELECT id, name FROM operators WHERE tenant_id = :tenant_id ORDER BY name, id")
    with _connection(bind) as conn:
        return [Owner(int(r.id), r.name) for r in conn.execute(sql, {"tenant_id": tenant_id})]


# --- the live feed ---------------------------------------------------------------------------

_FEED_SQL = """
WITH RECURSIVE agents AS (
    SELECT min(agent) AS agent FROM agent_runs
    UNION ALL
    SELECT (SELECT min(r.agent) FROM agent_runs r WHERE r.agent > a.agent) FROM agents a WHERE a.agent IS NOT NULL
), items AS (
    (SELECT e.occurred_at AS at, e.event_type AS kind, e.channel, e.lead_id, '' AS detail
     FROM unnest(CAST(:event_types AS text[])) AS t(event_type)
     CROSS JOIN LATERAL (
         SELECT e.occurred_at, e.event_type, e.channel, e.lead_id FROM message_events e
         WHERE e.tenant_id = :tenant_id AND e.event_type = t.event_type AND e.occurred_at <= :now
         ORDER BY e.occurred_at DESC LIMIT :n
     ) AS e
     ORDER BY e.occurred_at DESC LIMIT :n)
    UNION ALL
    (SELECT m.created_at, 'message', m.channel, m.lead_id, m.status
     FROM outbound_messages m WHERE m.tenant_id = :tenant_id AND m.created_at <= :now
     ORDER BY m.created_at DESC LIMIT :n)
    UNION ALL
    (SELECT i.received_at, 'inbound', i.channel, i.lead_id, coalesce(i.intent, '')
     FROM inbound_messages i WHERE i.tenant_id = :tenant_id AND i.received_at <= :now
     ORDER BY i.received_at DESC LIMIT :n)
    UNION ALL
    (SELECT c.converted_at, 'conversion', c.channel, c.lead_id, c.value::text
     FROM conversions c WHERE c.tenant_id = :tenant_id AND c.converted_at <= :now
     ORDER BY c.converted_at DESC LIMIT :n)
    UNION ALL
    (SELECT en.enrolled_at, CASE WHEN en.is_control THEN 'held_out' ELSE 'enrolled' END, NULL, en.lead_id,
            'rung ' || en.rung
     FROM enrollments en WHERE en.tenant_id = :tenant_id AND en.enrolled_at <= :now
     ORDER BY en.id DESC LIMIT :n)
    UNION ALL
    (SELECT r.started_at, 'agent', NULL, NULL, r.agent || ' ' || r.status
     FROM agents a CROSS JOIN LATERAL (
         SELECT * FROM agent_runs r
         WHERE r.agent = a.agent AND r.tenant_id = :tenant_id AND r.started_at <= :now
         ORDER BY r.started_at DESC LIMIT :n
     ) r
     WHERE a.agent IS NOT NULL)
)
SELECT it.at, it.kind, it.channel, it.lead_id, trim(l.first_name || ' ' || l.last_name) AS lead, it.detail
FROM (SELECT * FROM items ORDER BY at DESC LIMIT :n) it
LEFT JOIN leads l ON l.id = it.lead_id
ORDER BY it.at DESC, it.kind
"""


def activity_feed(
    bind: Bind, tenant_id: int, *, limit: int = FEED_LIMIT, now: dt.datetime | None = None
) -> pd.DataFrame:
    """The newest `limit` things that happened in the tenant, newest first.

    Columns: at, kind (a message event type such as delivered/open/click/bounce; `message`: an
    outbox row written, `detail` its status; `inbound`: a reply, `detail` its intent;
    `conversion`, `detail` its value; `enrolled` / `held_out`, `detail` the rung; `agent`, `detail`
    agent and status), channel, lead_id, lead (name), detail. Each source gives its newest
    `limit` rows off its own index (the newest `limit` of each event type off
    ix_message_events_tenant_type_time, ix_outbound_messages_tenant_time,
    ix_inbound_messages_inbox's tenant prefix, ix_conversions_tenant_time, the enrollments'
    primary key backwards, ix_agent_runs_agent_time per agent), then the merge keeps `limit`.
    """
    with _connection(bind) as conn:
        params = {"tenant_id": tenant_id, "now": _now(now), "n": limit, "event_types": list(EVENT_TYPES)}
        return _frame(conn.execute(text(_FEED_SQL), params))
