"""Read queries for the console: every figure a page shows is defined here, once.

Each function takes an `Engine` (or an open `Connection`) and, for tenant data, the tenant id
first, and returns a frozen dataclass or a pandas DataFrame: pages never see SQL or ORM
objects, and `st.cache_data` can pickle what comes back.

Why hand-written SQL rather than ORM queries: these are reporting reads whose speed at 1M
leads depends on the exact shape (one grouped pass, FILTER clauses, LIMITs that let an index
scan stop early, a loose index scan over `agent_runs`). Each query says which index of
`db/models/` it leans on. Money comes back as `Decimal` in dataclasses (exact totals) and as
float in DataFrames (for charts and tables).

Shared definitions, used by several figures:

- *silence threshold*: the first (smallest) rung of the tenant's silence ladder, in hours.
- *silent now*: a lead in state `active` or `silent` whose `last_activity_at` is older than the
  silence threshold; it went quiet and no recovery campaign is working on it yet (the scanner
  will pick it up, or it is held back by the per-run cap, the cool-down or a suppression).
- *worked leads*: leads in states `in_recovery`, `replied`, `recovered` or `lost`: every lead a
  recovery has touched (control leads are held out and never contacted, so they are not worked).
- *recovered (window)*: distinct leads with a conversion in the window whose method is not
  `organic` (an organic conversion came back on its own, e.g. a control lead: not our doing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, Result, text

from .models import LEAD_STATES

Bind = Engine | Connection

WORKED_STATES = ("in_recovery", "replied", "recovered", "lost")
SILENT_STATES = ("active", "silent")
LEADS_COUNT_CAP = 10_000
LEAD_SORTS = {
    "score": "l.intent_score DESC, l.deal_value DESC, l.id",
    "value": "l.deal_value DESC, l.intent_score DESC, l.id",
    "longest_silent": "l.last_activity_at ASC, l.id",
    "recent": "l.last_activity_at DESC, l.id DESC",
}


@contextmanager
def _connection(bind: Bind) -> Iterator[Connection]:
    """Use the caller's connection (and its transaction) when given one, else borrow from the pool."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as connection:
        yield connection


def _frame(result: Result[Any]) -> pd.DataFrame:
    """A DataFrame that keeps its columns even when the query returned no row."""
    return pd.DataFrame([tuple(row) for row in result], columns=list(result.keys()))


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else dt.datetime.now(dt.UTC)


# Scalar subquery: the tenant's silence threshold as a cut-off instant. Postgres evaluates it
# once (an InitPlan), so `last_activity_at < (cut)` can still use ix_leads_silence_scan.
_SILENCE_CUT = """(
    SELECT CAST(:now AS timestamptz) - make_interval(hours => (SELECT min(h) FROM unnest(t.silence_ladder_hours) h))
    FROM tenants t WHERE t.id = :tenant_id
)"""

_NAME = "trim(l.first_name || ' ' || l.last_name)"
_DAYS_SILENT = (
    "round((extract(epoch FROM (CAST(:now AS timestamptz) - l.last_activity_at)) / 86400)::numeric, 1)::float8"
)


# --- tenants -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TenantRow:
    """A tenant as the picker shows it."""

    id: int
    slug: str
    name: str
    timezone: str


def list_tenants(bind: Bind) -> list[TenantRow]:
    """Every tenant, by name (tens of rows: the picker filters them by who is signed in)."""
    sql = text("SELECT id, slug, name, timezone FROM tenants ORDER BY name, id")
    with _connection(bind) as conn:
        return [TenantRow(int(r.id), r.slug, r.name, r.timezone) for r in conn.execute(sql)]


@dataclass(frozen=True)
class TenantSettings:
    """The rules a tenant sends by, as the Settings page shows them."""

    id: int
    slug: str
    name: str
    timezone: str
    silence_ladder_hours: tuple[int, ...]
    cooldown_hours: int
    holdout_percent: int
    scan_cap: int
    quiet_start_hour: int
    quiet_end_hour: int
    send_window_start_hour: int
    send_window_end_hour: int
    sender_name: str
    sender_email: str
    sender_phone: str | None
    physical_address: str
    monthly_budget: Decimal
    ai_monthly_budget: Decimal


def tenant_settings(bind: Bind, tenant_id: int) -> TenantSettings | None:
    """The tenant's silence ladder, cool-down, hold-out share, quiet hours (tenant-local hours,
    start inclusive, end exclusive, wrapping midnight), send window, sender identity and budgets;
    None when the tenant does not exist."""
    sql = text(
        """
        SELECT id, slug, name, timezone, silence_ladder_hours, cooldown_hours, holdout_percent, scan_cap,
               quiet_start_hour, quiet_end_hour, send_window_start_hour, send_window_end_hour,
               sender_name, sender_email, sender_phone, physical_address, monthly_budget, ai_monthly_budget
        FROM tenants WHERE id = :tenant_id
        """
    )
    with _connection(bind) as conn:
        row = conn.execute(sql, {"tenant_id": tenant_id}).mappings().first()
    if row is None:
        return None
    values = dict(row)
    values["silence_ladder_hours"] = tuple(values["silence_ladder_hours"])
    return TenantSettings(**values)


# --- dashboard -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecoverySummary:
    """The dashboard's hero figures for one tenant at one instant.

    - `silent_now`: leads *silent now* (see the module docstring): quiet past the silence
      threshold and not yet in a recovery.
    - `in_recovery`: leads in state `in_recovery`: a recovery campaign is messaging them
      (control leads excluded).
    - `replied`: leads in state `replied`: they answered and wait for a rep.
    - `recovery_rate`: leads in state `recovered` ÷ *worked leads* (all time, from lead states);
      None when no lead has been worked yet.
    - `states`: lead counts by `recovery_state` (every state present, zeros included).
    """

    silent_now: int
    in_recovery: int
    replied: int
    recovery_rate: float | None
    states: dict[str, int]
    silence_threshold_hours: int
    total_leads: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total_leads", sum(self.states.values()))


def recovery_summary(bind: Bind, tenant_id: int, *, now: dt.datetime | None = None) -> RecoverySummary:
    """The dashboard's stock figures (definitions on `RecoverySummary`; the period figures are
    `db.dashboard.period_figures`): one grouped pass over the tenant's leads on ix_leads_silence_scan."""
    at = _now(now)
    states_sql = text(
        f"""
        SELECT recovery_state,
               count(*) AS leads,
               count(*) FILTER (WHERE last_activity_at < {_SILENCE_CUT}) AS quiet
        FROM leads WHERE tenant_id = :tenant_id
        GROUP BY recovery_state
        """
    )
    threshold_sql = text("SELECT min(h) FROM tenants t, unnest(t.silence_ladder_hours) h WHERE t.id = :tenant_id")
    params = {"tenant_id": tenant_id, "now": at}
    with _connection(bind) as conn:
        rows = conn.execute(states_sql, params).all()
        threshold = conn.execute(threshold_sql, params).scalar()
    states = dict.fromkeys(LEAD_STATES, 0) | {r.recovery_state: int(r.leads) for r in rows}
    silent = sum(int(r.quiet) for r in rows if r.recovery_state in SILENT_STATES)
    worked = sum(states[s] for s in WORKED_STATES)
    return RecoverySummary(
        silent_now=silent,
        in_recovery=states["in_recovery"],
        replied=states["replied"],
        recovery_rate=states["recovered"] / worked if worked else None,
        states=states,
        silence_threshold_hours=int(threshold or 0),
    )


@dataclass(frozen=True)
class LeadFilter:
    """What the Leads page narrows the table to; hashable so pages can cache on it."""

    states: tuple[str, ...] = ()
    min_score: int = 0
    search: str = ""
    sort: str = "score"


@dataclass(frozen=True)
class LeadsPage:
    """One page of the leads table.

    - `rows`: id, name, company, email, state, score, value, days_silent, rung, owner, source,
      stage, last_activity_at.
    - `total`: leads matching the filter, counted up to `LEADS_COUNT_CAP`; `total_capped` says
      the true number is larger (an exact count of a million rows is not worth a second).
    """

    rows: pd.DataFrame
    total: int
    total_capped: bool
    offset: int
    limit: int


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _lead_where(tenant_id: int, lead_filter: LeadFilter) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of a filter, built only from fixed fragments and bound parameters."""
    clauses = ["l.tenant_id = :tenant_id"]
    params: dict[str, Any] = {"tenant_id": tenant_id}
    if lead_filter.states:
        clauses.append("l.recovery_state = ANY(:states)")
        params["states"] = list(lead_filter.states)
    if lead_filter.min_score > 0:
        clauses.append("l.intent_score >= :min_score")
        params["min_score"] = lead_filter.min_score
    term = lead_filter.search.strip()
    if term:
        clauses.append(
            "(l.first_name || ' ' || l.last_name ILIKE :term OR l.email ILIKE :term OR l.company ILIKE :term)"
        )
        params["term"] = f"%{_escape_like(term)}%"
    return " AND ".join(clauses), params


def leads_page(
    bind: Bind,
    tenant_id: int,
    lead_filter: LeadFilter = LeadFilter(),
    *,
    limit: int = 50,
    offset: int = 0,
    now: dt.datetime | None = None,
) -> LeadsPage:
    """A filtered, sorted page of the tenant's leads and how many match (see `LeadsPage`).

    Sorting by score walks ix_leads_score; the count stops at `LEADS_COUNT_CAP` rows.
    """
    if lead_filter.sort not in LEAD_SORTS:
        raise ValueError(f"sort must be one of {sorted(LEAD_SORTS)}, got {lead_filter.sort!r}")
    where, params = _lead_where(tenant_id, lead_filter)
    rows_sql = text(
        f"""
        SELECT l.id, {_NAME} AS name, l.company, l.email, l.recovery_state AS state, l.intent_score AS score,
               l.deal_value::float8 AS value, {_DAYS_SILENT} AS days_silent, l.silence_level AS rung,
               o.name AS owner, l.source, l.stage, l.last_activity_at
        FROM leads l LEFT JOIN operators o ON o.id = l.owner_id
        WHERE {where}
        ORDER BY {LEAD_SORTS[lead_filter.sort]}
        LIMIT :limit OFFSET :offset
        """
    )
    count_sql = text(f"SELECT count(*) FROM (SELECT 1 FROM leads l WHERE {where} LIMIT :cap) matching")
    with _connection(bind) as conn:
        rows = _frame(conn.execute(rows_sql, params | {"now": _now(now), "limit": limit, "offset": offset}))
        total = int(conn.execute(count_sql, params | {"cap": LEADS_COUNT_CAP + 1}).scalar_one())
    return LeadsPage(
        rows=rows,
        total=min(total, LEADS_COUNT_CAP),
        total_capped=total > LEADS_COUNT_CAP,
        offset=offset,
        limit=limit,
    )


# The lead map shows every lead of a tenant of up to SCATTER_ALL_UP_TO leads (WebGL draws
# 100,000 points smoothly), and a fixed sample of SCATTER_SAMPLE above that. Why a smaller
# sample than the all-points bound: measured at 1M leads (bench/pages.py, 333k leads in a
# tenant), walking the hash index for 100,000 rows costs ~1-2.5 s of the Leads page's cold
# render, 25,000 about a quarter of that; on a 460-px chart 25,000 points already cover every
# cell a rep can tell apart, and a selection is capped at 10,000 leads anyway
# (app/services/scan.MAX_RECOVER_SELECTION). A tenant of up to 100k reads its leads in one
# range of the tenant, not by the hash.
SCATTER_ALL_UP_TO = 100_000
SCATTER_SAMPLE = 25_000


def lead_scatter(
    bind: Bind,
    tenant_id: int,
    *,
    limit: int = SCATTER_SAMPLE,
    all_up_to: int = SCATTER_ALL_UP_TO,
    now: dt.datetime | None = None,
) -> tuple[pd.DataFrame, int]:
    """Every lead of the tenant as a point (days silent × intent score), and how many leads there are.

    Columns: id, name, days_silent, intent_score, deal_value (float), recovery_state. When the
    tenant has more than `max(all_up_to, limit)` leads, a deterministic sample of exactly `limit`
    of them: the leads with the smallest `md5(id)`, which is the same set on every call and
    spread evenly over states, scores and ages (ids carry no order the hash keeps). Rows come
    ordered by id.

    The sample walks ix_leads_sample (tenant, md5(id), id) and stops after `limit` rows; it is
    put in id order here rather than by a second SQL sort, which would spill to disk at this size.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    count_sql = text("SELECT count(*) FROM leads WHERE tenant_id = :tenant_id")
    columns = f"""l.id, {_NAME} AS name, {_DAYS_SILENT} AS days_silent, l.intent_score,
               l.deal_value::float8 AS deal_value, l.recovery_state"""
    all_sql = text(f"SELECT {columns} FROM leads l WHERE l.tenant_id = :tenant_id ORDER BY l.id")
    sample_sql = text(
        f"SELECT {columns} FROM leads l WHERE l.tenant_id = :tenant_id ORDER BY md5(l.id::text), l.id LIMIT :limit"
    )
    with _connection(bind) as conn:
        total = int(conn.execute(count_sql, {"tenant_id": tenant_id}).scalar_one())
        params = {"tenant_id": tenant_id, "now": _now(now), "limit": limit}
        if total <= max(limit, all_up_to):
            return _frame(conn.execute(all_sql, params)), total
        frame = _frame(conn.execute(sample_sql, params))
    return frame.sort_values("id", ignore_index=True), total


def score_distribution(bind: Bind, tenant_id: int, states: Sequence[str] = ()) -> pd.DataFrame:
    """How many of the tenant's leads (optionally only in `states`) fall in each intent-score band.

    Columns: band_start (0, 10, …, 90; the last band holds 90-100), band ("90-100"), leads.
    All ten bands are present, zeros included. An index-only pass over ix_leads_score when no
    state is given.
    """
    state_clause = "AND recovery_state = ANY(:states)" if states else ""
    sql = text(
        f"""
        WITH counted AS (
            SELECT least(intent_score / 10, 9) * 10 AS band_start, count(*) AS leads
            FROM leads WHERE tenant_id = :tenant_id {state_clause}
            GROUP BY 1
        )
        SELECT b AS band_start,
               b || '-' || CASE WHEN b = 90 THEN 100 ELSE b + 9 END AS band,
               coalesce(counted.leads, 0) AS leads
        FROM generate_series(0, 90, 10) b LEFT JOIN counted ON counted.band_start = b
        ORDER BY b
        """
    )
    with _connection(bind) as conn:
        return _frame(conn.execute(sql, {"tenant_id": tenant_id, "states": list(states)}))


# --- campaigns -----------------------------------------------------------------------------

CAMPAIGN_STATUS_ORDER = ("running", "scheduled", "paused", "draft", "completed", "archived")


def campaigns(bind: Bind, tenant_id: int) -> pd.DataFrame:
    """The tenant's campaigns, running first, with their enrollments and results so far.

    Columns: id, name, kind, status, channel (None: the plan mixes channels), starts_at,
    enrolled (every enrollment), active (status active or waiting), control (held out),
    completed, stopped (stopped or failed), sent, replied, conversions, revenue, cost (the last
    five summed over all days of metrics_daily for the campaign).
    """
    sql = text(
        """
        WITH e AS (
            SELECT campaign_id,
                   count(*) AS enrolled,
                   count(*) FILTER (WHERE status IN ('active', 'waiting')) AS active,
                   count(*) FILTER (WHERE status = 'control') AS control,
                   count(*) FILTER (WHERE status = 'completed') AS completed,
                   count(*) FILTER (WHERE status IN ('stopped', 'failed')) AS stopped
            FROM enrollments WHERE tenant_id = :tenant_id GROUP BY campaign_id
        ), m AS (
            SELECT campaign_id, sum(sent) AS sent, sum(replied) AS replied, sum(conversions) AS conversions,
                   sum(revenue) AS revenue, sum(cost_usd) AS cost
            FROM metrics_daily WHERE tenant_id = :tenant_id AND campaign_id IS NOT NULL GROUP BY campaign_id
        )
        SELECT c.id, c.name, c.kind, c.status, c.channel, c.starts_at,
               coalesce(e.enrolled, 0) AS enrolled, coalesce(e.active, 0) AS active,
               coalesce(e.control, 0) AS control, coalesce(e.completed, 0) AS completed,
               coalesce(e.stopped, 0) AS stopped,
               coalesce(m.sent, 0) AS sent, coalesce(m.replied, 0) AS replied,
               coalesce(m.conversions, 0) AS conversions,
               coalesce(m.revenue, 0)::float8 AS revenue, coalesce(m.cost, 0)::float8 AS cost
        FROM campaigns c
        LEFT JOIN e ON e.campaign_id = c.id
        LEFT JOIN m ON m.campaign_id = c.id
        WHERE c.tenant_id = :tenant_id
        ORDER BY array_position(CAST(:order AS text[]), c.status), c.created_at DESC, c.id DESC
        """
    )
    with _connection(bind) as conn:
        return _frame(conn.execute(sql, {"tenant_id": tenant_id, "order": list(CAMPAIGN_STATUS_ORDER)}))


# --- replies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inbox:
    """The replies inbox.

    - `rows`: id, received_at, channel, from_address, lead_id, lead (name), intent, sentiment,
      priority, body, suggested_reply, handled_at, handled_by (operator name). Unhandled first;
      within that, priority high → medium → not yet triaged → low; newest first.
    - `unhandled`: replies nobody has handled yet; `unhandled_high`: those of high priority.
    """

    rows: pd.DataFrame
    unhandled: int
    unhandled_high: int


def replies_inbox(bind: Bind, tenant_id: int, *, include_handled: bool = False, limit: int = 50) -> Inbox:
    """The inbox (see `Inbox`); unhandled replies come off ix_inbound_messages_inbox."""
    handled_clause = "" if include_handled else "AND i.handled_at IS NULL"
    rows_sql = text(
        f"""
        SELECT i.id, i.received_at, i.channel, i.from_address, i.lead_id, {_NAME} AS lead,
               i.intent, i.sentiment, i.priority, i.body, i.suggested_reply, i.handled_at,
               o.name AS handled_by
        FROM inbound_messages i
        LEFT JOIN leads l ON l.id = i.lead_id
        LEFT JOIN operators o ON o.id = i.handled_by
        WHERE i.tenant_id = :tenant_id {handled_clause}
        ORDER BY (i.handled_at IS NOT NULL),
                 CASE i.priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 WHEN 'low' THEN 3 ELSE 2 END,
                 i.received_at DESC, i.id DESC
        LIMIT :limit
        """
    )
    counts_sql = text(
        """
        SELECT count(*) AS unhandled, count(*) FILTER (WHERE priority = 'high') AS high
        FROM inbound_messages WHERE tenant_id = :tenant_id AND handled_at IS NULL
        """
    )
    params = {"tenant_id": tenant_id, "limit": limit}
    with _connection(bind) as conn:
        rows = _frame(conn.execute(rows_sql, params))
        counts = conn.execute(counts_sql, params).one()
    return Inbox(rows=rows, unhandled=int(counts.unhandled), unhandled_high=int(counts.high))


# --- ROI -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldoutGroup:
    """One side of the comparison: `leads`, how many `recovered`, and their revenue per lead as
    a sum and a sum of squares (non-converters count as zero), enough for a Welch interval."""

    leads: int
    recovered: int
    revenue: Decimal
    revenue_squares: Decimal


@dataclass(frozen=True)
class HoldoutComparison:
    """Treated leads against the hold-out over the last `days` days.

    Definitions: a lead is *in the comparison* when it was enrolled in a campaign in the window;
    its first enrollment in the window decides its group and its start (a lead later enrolled
    elsewhere keeps the group it started in). *Control* = that enrollment `is_control` (held
    out, never contacted); *treated* = the others. A lead is *recovered* when it has a
    conversion, of any method, at or after that start and not in the future: organic ones count
    on both sides, since the lift is what treatment adds to what would have happened anyway.
    *Revenue* per lead = the value of those conversions, zero for a lead that did not convert.
    """

    days: int
    treated: HoldoutGroup
    control: HoldoutGroup


def holdout_comparison(
    bind: Bind, tenant_id: int, *, days: int = 90, now: dt.datetime | None = None
) -> HoldoutComparison:
    """One grouped pass (see `HoldoutComparison`): each lead's first enrollment read in lead order
    from ix_enrollments_tenant_lead (index-only, no sort), its conversions on ix_conversions_lead."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    end = _now(now)
    sql = text(
        """
        WITH started AS (
            SELECT DISTINCT ON (e.lead_id) e.lead_id, e.is_control, e.enrolled_at
            FROM enrollments e
            WHERE e.tenant_id = :tenant_id AND e.enrolled_at > :start AND e.enrolled_at <= :end
            ORDER BY e.lead_id, e.enrolled_at, e.id
        ), per_lead AS (
            SELECT s.is_control, count(c.id) > 0 AS recovered, coalesce(sum(c.value), 0) AS revenue
            FROM started s
            LEFT JOIN conversions c ON c.lead_id = s.lead_id AND c.tenant_id = :tenant_id
                 AND c.converted_at >= s.enrolled_at AND c.converted_at <= :end
            GROUP BY s.lead_id, s.is_control
        )
        SELECT is_control, count(*) AS leads, count(*) FILTER (WHERE recovered) AS recovered,
               coalesce(sum(revenue), 0) AS revenue, coalesce(sum(revenue * revenue), 0) AS revenue_squares
        FROM per_lead GROUP BY is_control
        """
    )
    params = {"tenant_id": tenant_id, "start": end - dt.timedelta(days=days), "end": end}
    with _connection(bind) as conn:
        found = {
            bool(row.is_control): HoldoutGroup(
                leads=int(row.leads),
                recovered=int(row.recovered),
                revenue=Decimal(row.revenue),
                revenue_squares=Decimal(row.revenue_squares),
            )
            for row in conn.execute(sql, params)
        }
    empty = HoldoutGroup(0, 0, Decimal(0), Decimal(0))
    return HoldoutComparison(days=days, treated=found.get(False, empty), control=found.get(True, empty))


# --- agents --------------------------------------------------------------------------------

HEARTBEAT_AGENT = "heartbeat"

# A loose index scan over ix_agent_runs_agent_time (agent, started_at DESC): walk the distinct
# agent names, then take each agent's newest runs for this tenant (and the tenant-less runs such
# as the heartbeat). The ledger grows by thousands of rows a day; this never reads them all.
_RUNS_PER_AGENT = """
    WITH RECURSIVE agents AS (
        SELECT min(agent) AS agent FROM agent_runs
        UNION ALL
        SELECT (SELECT min(r.agent) FROM agent_runs r WHERE r.agent > a.agent) FROM agents a WHERE a.agent IS NOT NULL
    )
    SELECT r.id, r.agent, r.status, r.tenant_id, r.job_id, r.counts, r.error, r.started_at, r.finished_at,
           extract(epoch FROM (r.finished_at - r.started_at))::float8 AS seconds, r.host
    FROM agents a
    CROSS JOIN LATERAL (
        SELECT * FROM agent_runs r
        WHERE r.agent = a.agent AND (r.tenant_id = :tenant_id OR r.tenant_id IS NULL)
        ORDER BY r.started_at DESC LIMIT :per_agent
    ) r
    WHERE a.agent IS NOT NULL
"""


def agent_runs_latest(bind: Bind, tenant_id: int, *, limit: int = 50) -> pd.DataFrame:
    """The newest `limit` agent runs of this tenant, and tenant-less runs (the cron heartbeat), newest first.

    Columns: id, agent, status, tenant_id (None: not tenant-bound), job_id, counts (dict),
    error, started_at, finished_at, seconds (run time; NaN while running), host.
    """
    sql = text(_RUNS_PER_AGENT + " ORDER BY r.started_at DESC, r.id DESC LIMIT :limit")
    with _connection(bind) as conn:
        return _frame(conn.execute(sql, {"tenant_id": tenant_id, "per_agent": limit, "limit": limit}))


def agent_status(bind: Bind, tenant_id: int) -> pd.DataFrame:
    """Each agent's most recent run for this tenant (or tenant-less), by agent name; columns as
    `agent_runs_latest`."""
    sql = text(_RUNS_PER_AGENT + " ORDER BY r.agent")
    with _connection(bind) as conn:
        return _frame(conn.execute(sql, {"tenant_id": tenant_id, "per_agent": 1}))


def last_heartbeat(bind: Bind) -> dt.datetime | None:
    """When the newest cron heartbeat run started (`agent = 'heartbeat'`, any tenant), or None.

    Proves cron enqueues and a worker runs jobs; one probe of ix_agent_runs_agent_time.
    """
    sql = text("SELECT max(started_at) FROM agent_runs WHERE agent = :agent")
    with _connection(bind) as conn:
        value: dt.datetime | None = conn.execute(sql, {"agent": HEARTBEAT_AGENT}).scalar()
    return value


# --- outbox ----------------------------------------------------------------------------------

OUTBOX_WINDOW = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Outbox:
    """The tenant's newest outbound messages and how the last 24 hours' messages stand.

    - `rows`: id, created_at, lead_id, lead (name), channel, to_address, subject, body, status,
      source, provider, provider_message_id, attempts, last_error, scheduled_for, sent_at;
      newest first. In sandbox mode this is where the "sent" messages can be read.
    - `last_24h`: {status: count} of the messages created in the last 24 hours.
    """

    rows: pd.DataFrame
    last_24h: dict[str, int] = field(default_factory=dict)


def outbox(
    bind: Bind, tenant_id: int, *, status: str | None = None, limit: int = 50, now: dt.datetime | None = None
) -> Outbox:
    """The outbox (see `Outbox`), optionally only rows of one `status`; both reads walk
    ix_outbound_messages_tenant_time backwards from now."""
    status_clause = "AND m.status = :status" if status else ""
    rows_sql = text(
        f"""
        SELECT m.id, m.created_at, m.lead_id, {_NAME} AS lead, m.channel, m.to_address, m.subject, m.body,
               m.status, m.source, m.provider, m.provider_message_id, m.attempts, m.last_error,
               m.scheduled_for, m.sent_at
        FROM outbound_messages m LEFT JOIN leads l ON l.id = m.lead_id
        WHERE m.tenant_id = :tenant_id {status_clause}
        ORDER BY m.created_at DESC, m.id DESC
        LIMIT :limit
        """
    )
    counts_sql = text(
        """
        SELECT status, count(*) AS n FROM outbound_messages
        WHERE tenant_id = :tenant_id AND created_at > CAST(:since AS timestamptz)
        GROUP BY status ORDER BY status
        """
    )
    params = {"tenant_id": tenant_id, "status": status, "limit": limit, "since": _now(now) - OUTBOX_WINDOW}
    with _connection(bind) as conn:
        rows = _frame(conn.execute(rows_sql, params))
        counts = {r.status: int(r.n) for r in conn.execute(counts_sql, params)}
    return Outbox(rows=rows, last_24h=counts)


def engagement_heatmap(bind: Bind, tenant_id: int, *, days: int = 90, now: dt.datetime | None = None) -> pd.DataFrame:
    """Replies (inbound_messages) and clicks (message_events 'click') of the last `days`, counted by
    the *lead's* local weekday (0 = Monday) and hour: columns weekday, hour, count; only the
    (weekday, hour) cells that hold events. An event with no lead, or a lead whose zone name
    Postgres does not know, is placed in the tenant's zone (then UTC). The replies are a range of
    ix_inbound_messages_inbox (by tenant), the clicks an index-only range of
    ix_message_events_tenant_type_time; the known zone names come from `known_zones`."""
    sql = text(
        """
        WITH events AS (
            SELECT lead_id, received_at AS at FROM inbound_messages
            WHERE tenant_id = :tenant_id AND received_at > CAST(:since AS timestamptz)
              AND received_at <= CAST(:now AS timestamptz)
            UNION ALL
            SELECT lead_id, occurred_at FROM message_events
            WHERE tenant_id = :tenant_id AND event_type = 'click' AND occurred_at > CAST(:since AS timestamptz)
              AND occurred_at <= CAST(:now AS timestamptz)
        ), zones AS (SELECT unnest(CAST(:zones AS text[])) AS name), local AS (
            SELECT e.at AT TIME ZONE coalesce(lz.name, tz.name, 'UTC') AS at
            FROM events e
            CROSS JOIN tenants t
            LEFT JOIN leads l ON l.id = e.lead_id
            LEFT JOIN zones lz ON lz.name = l.timezone
            LEFT JOIN zones tz ON tz.name = t.timezone
            WHERE t.id = :tenant_id
        )
        SELECT CAST(extract(isodow FROM at) AS int) - 1 AS weekday, CAST(extract(hour FROM at) AS int) AS hour,
               count(*) AS count
        FROM local GROUP BY 1, 2 ORDER BY 1, 2
        """
    )
    current = _now(now)
    params = {"tenant_id": tenant_id, "now": current, "since": current - dt.timedelta(days=days)}
    with _connection(bind) as conn:
        zones = sorted(known_zones(conn))
        # The planner guesses the zone joins 30x too large, which lifts the cost past
        # jit_above_cost: JIT then spends ~0.1 s compiling a query that runs in less.
        conn.execute(text("SET LOCAL jit = off"))
        return _frame(conn.execute(sql, params | {"zones": zones}))


_KNOWN_ZONES: dict[str, frozenset[str]] = {}


def known_zones(conn: Connection) -> frozenset[str]:
    """The zone names this server knows, read once per process and database: pg_timezone_names
    reads the whole zone database on every query (~0.1 s, a tenth of a page's budget), and its
    names change only with the server's tzdata."""
    key = conn.engine.url.render_as_string(hide_password=True)
    if key not in _KNOWN_ZONES:
        names = conn.execute(text("SELECT name FROM pg_timezone_names")).scalars()
        _KNOWN_ZONES[key] = frozenset(names)
    return _KNOWN_ZONES[key]


# --- AI budget --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AiBudget:
    """The tenant's monthly Claude budget and what this UTC calendar month has spent (USD)."""

    budget: Decimal
    spent: Decimal

    @property
    def left(self) -> Decimal | None:
        """What may still be spent this month; None when the budget is 0 (no cap)."""
        return None if not self.budget else max(self.budget - self.spent, Decimal(0))


def ai_budget(bind: Bind, tenant_id: int) -> AiBudget:
    """The writer's and the insight's one budget read: a range of ix_ai_generations_tenant_time
    from the start of the UTC month (stated, so it never depends on the session's time zone)."""
    sql = text(
        """
        SELECT t.ai_monthly_budget AS budget,
               (SELECT coalesce(sum(g.cost_usd), 0) FROM ai_generations g
                WHERE g.tenant_id = t.id
                  AND g.created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS spent
        FROM tenants t WHERE t.id = :tenant_id
        """
    )
    with _connection(bind) as conn:
        row = conn.execute(sql, {"tenant_id": tenant_id}).first()
    return AiBudget(Decimal(0), Decimal(0)) if row is None else AiBudget(Decimal(row.budget), Decimal(row.spent))
