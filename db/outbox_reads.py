"""The Agents page's outbox and the reply heat-map's reads: what was written and sent, and when leads answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, text

from .queries import (
    _NAME,
    Bind,
    _connection,
    _frame,
    _now,
)

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
