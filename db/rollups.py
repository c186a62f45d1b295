"""metrics_daily, computed from the raw rows in one INSERT … SELECT.

Two callers, one definition: the demo seed rolls up every day of its tenants after the load,
and the rollup agent (`app/services/rollup.py`) rolls up the last few local days of a tenant
every few minutes, so the ROI page and the dashboard's funnel follow live activity. Computing
the rollup in SQL from the raw tables, rather than counting as events arrive, makes it exactly
what an aggregate over the raw tables says, by construction, and a rerun rewrites the same rows. Days are the tenant's
local calendar days (a sales team reads "yesterday" in its own time zone). Definitions:
sent = messages with `sent_at`, by sent day, with their cost plus the AI cost of drafting
them; delivered/opened/clicked/bounced(+undelivered SMS)/replied = provider events of that
type; unsubscribed = unsubscribe events plus STOP or "remove me" replies; conversions and
revenue = conversions credited to a message (control-group conversions have no channel and
are read from `conversions` when lift is computed).
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

ROLLUP_SQL = """
WITH t AS (SELECT * FROM unnest(CAST(:tenants AS bigint[]), CAST(:zones AS text[])) AS z(id, timezone)),
since AS (SELECT coalesce(CAST(:since AS timestamptz), '-infinity') AS at)
INSERT INTO metrics_daily (tenant_id, campaign_id, channel, day, sent, delivered, opened, clicked,
                           replied, bounced, unsubscribed, conversions, revenue, cost_usd, created_at, updated_at)
SELECT tenant_id, campaign_id, channel, day,
       sum(sent), sum(delivered), sum(opened), sum(clicked), sum(replied), sum(bounced), sum(unsubscribed),
       sum(conversions), sum(revenue), sum(cost_usd), :at, :at
FROM (
    SELECT m.tenant_id, m.campaign_id, m.channel, (m.sent_at AT TIME ZONE t.timezone)::date AS day,
           1 AS sent, 0 AS delivered, 0 AS opened, 0 AS clicked, 0 AS replied, 0 AS bounced,
           0 AS unsubscribed, 0 AS conversions, 0::numeric AS revenue,
           m.cost_usd + coalesce(g.cost_usd, 0) AS cost_usd
    FROM outbound_messages m
    JOIN t ON t.id = m.tenant_id
    LEFT JOIN ai_generations g ON g.id = m.ai_generation_id
    WHERE m.tenant_id = ANY(:tenants) AND m.sent_at >= (SELECT at FROM since)
    UNION ALL
    SELECT e.tenant_id, m.campaign_id, e.channel, (e.occurred_at AT TIME ZONE t.timezone)::date,
           0, (e.event_type = 'delivered')::int, (e.event_type = 'open')::int, (e.event_type = 'click')::int,
           (e.event_type = 'reply')::int, (e.event_type IN ('bounce', 'undelivered'))::int,
           (e.event_type = 'unsubscribe')::int, 0, 0, 0
    FROM message_events e
    JOIN outbound_messages m ON m.id = e.message_id
    JOIN t ON t.id = e.tenant_id
    WHERE e.tenant_id = ANY(:tenants) AND e.occurred_at >= (SELECT at FROM since)
      AND e.event_type IN ('delivered', 'open', 'click', 'reply', 'bounce', 'undelivered', 'unsubscribe')
    UNION ALL
    SELECT i.tenant_id, m.campaign_id, i.channel, (i.received_at AT TIME ZONE t.timezone)::date,
           0, 0, 0, 0, 0, 0, 1, 0, 0, 0
    FROM inbound_messages i
    JOIN outbound_messages m ON m.id = i.message_id
    JOIN t ON t.id = i.tenant_id
    WHERE i.tenant_id = ANY(:tenants) AND i.received_at >= (SELECT at FROM since) AND i.intent = 'unsubscribe'
    UNION ALL
    SELECT c.tenant_id, c.campaign_id, c.channel, (c.converted_at AT TIME ZONE t.timezone)::date,
           0, 0, 0, 0, 0, 0, 0, 1, c.value, 0
    FROM conversions c
    JOIN t ON t.id = c.tenant_id
    WHERE c.tenant_id = ANY(:tenants) AND c.converted_at >= (SELECT at FROM since) AND c.channel IS NOT NULL
) AS facts
GROUP BY tenant_id, campaign_id, channel, day
"""


def roll_up(conn: Connection, zones: dict[int, str], at: object, *, since: datetime | None = None) -> int:
    """Insert the rollups of these tenants ({tenant id: time zone}); returns the rows written.

    Only facts at or after `since` count (all of them when None); the caller deletes the days
    it rewrites first. The zones come as parameters rather than from `tenants`, so the rollup
    can run in the bulk seed's recovery lane, which cannot see the lead lane's uncommitted
    tenant rows. Each fact's time column has a (tenant, time) index, so a recent `since` reads
    only a range.
    """
    conn.execute(text("SET LOCAL work_mem = '128MB'"))  # hash the joins in memory, not in batches on disk
    params = {"tenants": list(zones), "zones": list(zones.values()), "at": at, "since": since}
    result = conn.execute(text(ROLLUP_SQL), params)
    conn.execute(text("RESET work_mem"))
    return int(result.rowcount or 0)


def refresh_days(conn: Connection, *, tenant_id: int, timezone: str, first_day: date, at: datetime) -> int:
    """Rewrite the tenant's rollups from local day `first_day` on; returns the rows written.

    Run it in one transaction: readers see the old days or the new ones, never a gap. Two
    concurrent refreshes of one tenant queue on an advisory lock instead of both inserting.
    """
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('metrics_daily'), CAST(:t AS int))"), {"t": tenant_id})
    conn.execute(
        text("DELETE FROM metrics_daily WHERE tenant_id = :t AND day >= :first_day"),
        {"t": tenant_id, "first_day": first_day},
    )
    since = datetime.combine(first_day, time(0), ZoneInfo(timezone))
    return roll_up(conn, {tenant_id: timezone}, at, since=since)
