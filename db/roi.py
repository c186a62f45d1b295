"""ROI at the tenant's own unit prices, over time, and the naive before/after comparison.

Read queries like those of `db/queries.py` (same conventions: tenant id first, hand-written SQL,
frozen dataclasses or DataFrames back, money as float in frames), in a module of their own.

Definitions:

- *window*: the last `days` calendar days of the tenant's time zone, today included; the days
  of `metrics_daily` are the tenant's local days too, so the two agree.
- *messages sent* per channel: `metrics_daily.sent` (messages handed to a provider).
- *message cost*: email sent × email unit price + SMS sent × SMS unit price (the prices come in
  as arguments: the tenant's, see `app.domain.pricing`).
- *AI cost*: `ai_generations.cost_usd` of every generation made in the window, whatever its
  purpose (writing, insights) and whether or not its message was sent: tokens are paid when spent.
- *fixed cost*: the tenant's fixed monthly cost (platform and seats) prorated per day, the
  daily share coming in as an argument (`app.domain.pricing.prorated_fixed_cost` of one day),
  on every day of the window.
- *cost* = message cost + AI cost + fixed cost; *revenue*, *conversions*: `metrics_daily`
  (conversions credited to a message); *ROI* = (revenue − cost) ÷ cost, NaN/None when nothing
  was spent.

Speed at 1M leads / 10M events: the money comes from the rollup (a window is at most a few
thousand `metrics_daily` rows, read on ix_metrics_daily_tenant_day) and from an index-only range
of ix_ai_generations_tenant_time (it includes cost_usd); no raw events are read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import pandas as pd
from sqlalchemy import Connection, text

from .queries import (
    Bind,
    _connection,
    _frame,
    _now,
)

Grain = Literal["day", "week"]
GRAINS: tuple[Grain, ...] = ("day", "week")


def unit_price_settings(bind: Bind, tenant_id: int) -> dict[str, Any]:
    """The tenant's `settings` jsonb (empty when unset or no such tenant); a primary-key probe."""
    sql = text("SELECT settings FROM tenants WHERE id = :tenant_id")
    with _connection(bind) as conn:
        found = conn.execute(sql, {"tenant_id": tenant_id}).scalar()
    return dict(found) if isinstance(found, dict) else {}


def _local_window(conn: Connection, tenant_id: int, days: int, now: dt.datetime | None) -> tuple[str, dt.date, dt.date]:
    """(time zone, first day, last day) of the window in the tenant's calendar."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    row = conn.execute(
        text(
            "SELECT timezone, (CAST(:now AS timestamptz) AT TIME ZONE timezone)::date AS today "
            "FROM tenants WHERE id = :t"
        ),
        {"now": _now(now), "t": tenant_id},
    ).one_or_none()
    zone, today = (row.timezone, row.today) if row is not None else ("UTC", _now(now).date())
    return zone, today - dt.timedelta(days=days - 1), today


_OVER_TIME_SQL = """
WITH m AS (
    SELECT day,
           coalesce(sum(sent) FILTER (WHERE channel = 'email'), 0) AS email_sent,
           coalesce(sum(sent) FILTER (WHERE channel = 'sms'), 0) AS sms_sent,
           sum(conversions) AS conversions, sum(revenue) AS revenue
    FROM metrics_daily
    WHERE tenant_id = :tenant_id AND day BETWEEN :first AND :last
    GROUP BY day
), g AS (
    SELECT (created_at AT TIME ZONE :zone)::date AS day, sum(cost_usd) AS ai_cost
    FROM ai_generations
    WHERE tenant_id = :tenant_id
      AND created_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :zone)
      AND created_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :zone)
    GROUP BY 1
), d AS (
    SELECT d::date AS day, coalesce(m.email_sent, 0) AS email_sent, coalesce(m.sms_sent, 0) AS sms_sent,
           coalesce(m.conversions, 0) AS conversions, coalesce(m.revenue, 0) AS revenue,
           coalesce(g.ai_cost, 0) AS ai_cost, CAST(:fixed_daily AS numeric) AS fixed_cost
    FROM generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') d
    LEFT JOIN m ON m.day = d::date
    LEFT JOIN g ON g.day = d::date
), p AS (
    SELECT date_trunc(:grain, day)::date AS period, sum(email_sent) AS email_sent, sum(sms_sent) AS sms_sent,
           sum(conversions) AS conversions, sum(revenue) AS revenue,
           sum(email_sent) * CAST(:email_price AS numeric) + sum(sms_sent) * CAST(:sms_price AS numeric)
               AS message_cost,
           sum(ai_cost) AS ai_cost, sum(fixed_cost) AS fixed_cost
    FROM d GROUP BY 1
), c AS (
    SELECT p.*, message_cost + ai_cost + fixed_cost AS cost FROM p
)
SELECT period, email_sent::bigint, sms_sent::bigint, (email_sent + sms_sent)::bigint AS sent,
       conversions::bigint, revenue::float8, message_cost::float8, ai_cost::float8, fixed_cost::float8,
       cost::float8, (revenue - cost)::float8 AS net, ((revenue - cost) / nullif(cost, 0))::float8 AS roi,
       (sum(revenue - cost) OVER w / nullif(sum(cost) OVER w, 0))::float8 AS cumulative_roi
FROM c WINDOW w AS (ORDER BY period) ORDER BY period
"""


def roi_over_time(
    bind: Bind,
    tenant_id: int,
    *,
    days: int = 30,
    grain: Grain = "day",
    email_price: Decimal,
    sms_price: Decimal,
    fixed_daily: Decimal = Decimal(0),
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """One row per day (or per Monday-started week) of the window, empty days as zeros.

    Columns: period (the day, or the Monday of the week; the first and last weeks may be
    partial), email_sent, sms_sent, sent, conversions, revenue, message_cost, ai_cost,
    fixed_cost (`fixed_daily` × the period's days), cost, net (revenue − cost), roi (NaN when
    nothing was spent), cumulative_roi (the ROI of the window's start up to and including this
    period). See the module's definitions.
    """
    if grain not in GRAINS:
        raise ValueError(f"grain must be 'day' or 'week', got {grain!r}")
    with _connection(bind) as conn:
        zone, first, last = _local_window(conn, tenant_id, days, now)
        params = {
            "tenant_id": tenant_id,
            "first": first,
            "last": last,
            "zone": zone,
            "grain": grain,
            "email_price": email_price,
            "sms_price": sms_price,
            "fixed_daily": fixed_daily,
        }
        return _frame(conn.execute(text(_OVER_TIME_SQL), params))


def roi_by_channel(
    bind: Bind,
    tenant_id: int,
    *,
    days: int = 30,
    email_price: Decimal,
    sms_price: Decimal,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """The window's figures per channel at these prices, from metrics_daily (ix_metrics_daily_tenant_day).

    Columns: channel, sent, replied, conversions, revenue, cost (sent × the channel's unit
    price; neither AI cost nor the fixed cost is split by channel), roi (NaN when the channel cost nothing).
    """
    sql = text(
        """
        WITH c AS (
            SELECT channel, sum(sent) AS sent, sum(replied) AS replied, sum(conversions) AS conversions,
                   sum(revenue) AS revenue,
                   sum(sent) * CASE channel WHEN 'email' THEN CAST(:email_price AS numeric)
                                            WHEN 'sms' THEN CAST(:sms_price AS numeric) ELSE 0 END AS cost
            FROM metrics_daily WHERE tenant_id = :tenant_id AND day BETWEEN :first AND :last
            GROUP BY channel
        )
        SELECT channel, sent::bigint, replied::bigint, conversions::bigint, revenue::float8, cost::float8,
               ((revenue - cost) / nullif(cost, 0))::float8 AS roi
        FROM c ORDER BY revenue DESC, channel
        """
    )
    with _connection(bind) as conn:
        _, first, last = _local_window(conn, tenant_id, days, now)
        params = {
            "tenant_id": tenant_id,
            "first": first,
            "last": last,
            "email_price": email_price,
            "sms_price": sms_price,
        }
        return _frame(conn.execute(sql, params))


@dataclass(frozen=True)
class PricedTotals:
    """The window's sums of `roi_over_time` (same definitions); `roi` None when nothing was spent,
    `cost_per_conversion` None when nothing converted."""

    days: int
    sent: int
    conversions: int
    revenue: float
    message_cost: float
    ai_cost: float
    fixed_cost: float
    cost: float
    roi: float | None
    cost_per_conversion: float | None


def totals(frame: pd.DataFrame, days: int) -> PricedTotals:
    """The sums of a `roi_over_time` frame (any grain: the periods partition the window)."""
    revenue, cost = float(frame["revenue"].sum()), float(frame["cost"].sum())
    conversions = int(frame["conversions"].sum())
    return PricedTotals(
        days=days,
        sent=int(frame["sent"].sum()),
        conversions=conversions,
        revenue=revenue,
        message_cost=float(frame["message_cost"].sum()),
        ai_cost=float(frame["ai_cost"].sum()),
        fixed_cost=float(frame["fixed_cost"].sum()),
        cost=cost,
        roi=(revenue - cost) / cost if cost > 0 else None,
        cost_per_conversion=cost / conversions if conversions else None,
    )


def recovered_leads(bind: Bind, tenant_id: int, *, days: int = 30, now: dt.datetime | None = None) -> int:
    """Distinct leads with a non-organic conversion in the window (the tenant's local days), on an
    index range of ix_conversions_tenant_time. Organic conversions came back on their own."""
    sql = text(
        """
        SELECT count(DISTINCT lead_id) FROM conversions
        WHERE tenant_id = :tenant_id AND method <> 'organic'
          AND converted_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :zone)
          AND converted_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :zone)
          AND converted_at <= :now
        """
    )
    with _connection(bind) as conn:
        zone, first, last = _local_window(conn, tenant_id, days, now)
        params = {"tenant_id": tenant_id, "first": first, "last": last, "zone": zone, "now": _now(now)}
        return int(conn.execute(sql, params).scalar() or 0)


# --- naive before/after ----------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One side of the before/after comparison: [start, end), its `leads` and how many `recovered`."""

    start: dt.datetime
    end: dt.datetime
    leads: int
    recovered: int

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    @property
    def rate(self) -> float | None:
        return self.recovered / self.leads if self.leads else None


@dataclass(frozen=True)
class BeforeAfter:
    """Recovery rate in the `days` days before the engine started against the `days` days after.

    Definitions: the engine *started* at the tenant's first enrollment (the first lead the
    scanner took on, held out or not). *Before* = [start − days, start); *after* = [start,
    start + days), cut at now when the engine is younger than that. A period's *leads* are the
    tenant's leads created before the period ended; *recovered* = distinct leads with a
    conversion of any method in the period (before the engine every conversion was organic;
    after it, organic ones still happen: that is what the naive comparison cannot separate).
    `start` is None (and both periods absent) when the engine has enrolled nobody yet.
    """

    days: int
    start: dt.datetime | None
    before: Period | None
    after: Period | None

    @property
    def difference(self) -> float | None:
        """After rate minus before rate, as a ratio (0.05 = 5 points); None when a rate is missing."""
        if self.before is None or self.after is None or self.before.rate is None or self.after.rate is None:
            return None
        return self.after.rate - self.before.rate


def engine_start(bind: Bind, tenant_id: int) -> dt.datetime | None:
    """The tenant's first enrollment, or None: an index-only pass over the tenant's prefix of
    ix_enrollments_tenant_lead (enrolled_at is its third column, so no index orders it by time)."""
    sql = text("SELECT min(enrolled_at) FROM enrollments WHERE tenant_id = :tenant_id")
    with _connection(bind) as conn:
        found: dt.datetime | None = conn.execute(sql, {"tenant_id": tenant_id}).scalar()
    return found


def before_after(bind: Bind, tenant_id: int, *, days: int = 30, now: dt.datetime | None = None) -> BeforeAfter:
    """See `BeforeAfter`. Conversions on an index range of ix_conversions_tenant_time; the lead
    counts index-only on ix_leads_tenant_created (both FILTERs in one pass of the tenant's range)."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    end = _now(now)
    with _connection(bind) as conn:
        start = engine_start(conn, tenant_id)
        if start is None or start > end:
            return BeforeAfter(days=days, start=None, before=None, after=None)
        before_start, after_end = start - dt.timedelta(days=days), min(start + dt.timedelta(days=days), end)
        params = {"tenant_id": tenant_id, "before_start": before_start, "start": start, "after_end": after_end}
        leads = conn.execute(
            text(
                """
                SELECT count(*) FILTER (WHERE created_at < :start) AS before,
                       count(*) FILTER (WHERE created_at < :after_end) AS after
                FROM leads WHERE tenant_id = :tenant_id
                """
            ),
            params,
        ).one()
        recovered = conn.execute(
            text(
                """
                SELECT count(DISTINCT lead_id) FILTER (WHERE converted_at < :start) AS before,
                       count(DISTINCT lead_id) FILTER (WHERE converted_at >= :start) AS after
                FROM conversions
                WHERE tenant_id = :tenant_id AND converted_at >= :before_start AND converted_at < :after_end
                """
            ),
            params,
        ).one()
    return BeforeAfter(
        days=days,
        start=start,
        before=Period(before_start, start, int(leads.before), int(recovered.before)),
        after=Period(start, after_end, int(leads.after), int(recovered.after)),
    )
