"""metrics_daily for seeded tenants, computed from the raw rows in one INSERT … SELECT.

Computing the rollup in SQL after the load, rather than alongside the generator, makes it
exactly what an aggregate over the raw tables says, by construction. Days are the tenant's
local calendar days (a sales team reads "yesterday" in its own time zone). Definitions:
sent = messages with `sent_at`, by sent day, with their cost plus the AI cost of drafting
them; delivered/opened/clicked/bounced(+undelivered SMS)/replied = provider events of that
type; unsubscribed = unsubscribe events plus STOP or "remove me" replies; conversions and
revenue = conversions credited to a message (control-group conversions have no channel and
are read from `conversions` when lift is computed).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

ROLLUP_SQL = """
WITH t AS (SELECT * FROM unnest(CAST(:tenants AS bigint[]), CAST(:zones AS text[])) AS z(id, timezone))
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
    WHERE m.tenant_id = ANY(:tenants) AND m.sent_at IS NOT NULL
    UNION ALL
    SELECT e.tenant_id, m.campaign_id, e.channel, (e.occurred_at AT TIME ZONE t.timezone)::date,
           0, (e.event_type = 'delivered')::int, (e.event_type = 'open')::int, (e.event_type = 'click')::int,
           (e.event_type = 'reply')::int, (e.event_type IN ('bounce', 'undelivered'))::int,
           (e.event_type = 'unsubscribe')::int, 0, 0, 0
    FROM message_events e
    JOIN outbound_messages m ON m.id = e.message_id
    JOIN t ON t.id = e.tenant_id
    WHERE e.tenant_id = ANY(:tenants)
      AND e.event_type IN ('delivered', 'open', 'click', 'reply', 'bounce', 'undelivered', 'unsubscribe')
    UNION ALL
    SELECT i.tenant_id, m.campaign_id, i.channel, (i.received_at AT TIME ZONE t.timezone)::date,
           0, 0, 0, 0, 0, 0, 1, 0, 0, 0
    FROM inbound_messages i
    JOIN outbound_messages m ON m.id = i.message_id
    JOIN t ON t.id = i.tenant_id
    WHERE i.tenant_id = ANY(:tenants) AND i.intent = 'unsubscribe'
    UNION ALL
    SELECT c.tenant_id, c.campaign_id, c.channel, (c.converted_at AT TIME ZONE t.timezone)::date,
           0, 0, 0, 0, 0, 0, 0, 1, c.value, 0
    FROM conversions c
    JOIN t ON t.id = c.tenant_id
    WHERE c.tenant_id = ANY(:tenants) AND c.channel IS NOT NULL
) AS facts
GROUP BY tenant_id, campaign_id, channel, day
"""


def roll_up(conn: Connection, zones: dict[int, str], at: object) -> int:
    """Insert the rollups of these tenants ({tenant id: time zone}); returns the rows written.

    The zones come as parameters rather than from `tenants`, so the rollup can run in the
    bulk seed's recovery lane, which cannot see the lead lane's uncommitted tenant rows.
    """
    conn.execute(text("SET LOCAL work_mem = '128MB'"))  # hash the joins in memory, not in batches on disk
    params = {"tenants": list(zones), "zones": list(zones.values()), "at": at}
    result = conn.execute(text(ROLLUP_SQL), params)
    conn.execute(text("RESET work_mem"))
    return int(result.rowcount or 0)
