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
    unsubscribe_link_days: int = 365
    retention_days: int | None = None
    """Days closed leads are kept before they are anonymised; None: for good."""


def tenant_settings(bind: Bind, tenant_id: int) -> TenantSettings | None:
    """The tenant's silence ladder, cool-down, hold-out share, quiet hours (tenant-local hours,
    start inclusive, end exclusive, wrapping midnight), send window, sender identity and budgets;
    None when the tenant does not exist."""
    sql = text(
        """
        SELECT id, slug, name, timezone, silence_ladder_hours, cooldown_hours, holdout_percent, scan_cap,
               quiet_start_hour, quiet_end_hour, send_window_start_hour, send_window_end_hour,
               sender_name, sender_email, sender_phone, physical_address, monthly_budget, ai_monthly_budget,
               unsubscribe_link_days, retention_days
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
