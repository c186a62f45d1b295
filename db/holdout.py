"""The hold-out comparison for ROI's lift: treated against control leads over a period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text

from .queries import Bind, _connection, _now

# --- ROI: the hold-out -----------------------------------------------------------------------------------


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
