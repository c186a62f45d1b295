"""The Replies page's thread: a lead's conversation, our messages and theirs, oldest first.

Apart from `db/queries.py` (the inbox itself) because that module is full.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, text

from .queries import (
    _NAME,
    Bind,
    _connection,
    _frame,
)

_THREAD = text(
    """
    (SELECT coalesce(m.sent_at, m.created_at) AS at, 'us' AS side, m.channel, m.subject, m.body, m.status AS note
     FROM outbound_messages m
     WHERE m.tenant_id = :tenant_id AND m.lead_id = :lead_id AND m.status <> 'canceled'
     ORDER BY coalesce(m.sent_at, m.created_at) DESC LIMIT :limit)
    UNION ALL
    (SELECT i.received_at, 'them', i.channel, NULL, i.body, i.intent
     FROM inbound_messages i WHERE i.tenant_id = :tenant_id AND i.lead_id = :lead_id
     ORDER BY i.received_at DESC LIMIT :limit)
    ORDER BY 1, 2
    """
)


def thread(engine: Engine, tenant_id: int, lead_id: int, *, limit: int = 20) -> pd.DataFrame:
    """at, side ('us' or 'them'), channel, subject, body, note (our status, or their intent); the last
    `limit` of each side (ix_outbound_messages_lead, ix_inbound_messages_lead)."""
    params = {"tenant_id": tenant_id, "lead_id": lead_id, "limit": limit}
    with engine.connect() as conn:
        result = conn.execute(_THREAD, params)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


_OWNERS = text(
    """
    SELECT l.id AS lead_id, o.name AS owner
    FROM leads l LEFT JOIN operators o ON o.id = l.owner_id
    WHERE l.tenant_id = :tenant_id AND l.id = ANY(CAST(:lead_ids AS bigint[]))
    """
)


def lead_owners(engine: Engine, tenant_id: int, lead_ids: list[int]) -> dict[int, str | None]:
    """Each lead's owner (operator name, None when unassigned): the inbox's owner filter."""
    with engine.connect() as conn:
        return {int(r.lead_id): r.owner for r in conn.execute(_OWNERS, {"tenant_id": tenant_id, "lead_ids": lead_ids})}


# --- replies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inbox:
    """The replies inbox.

    - `rows`: id, received_at, channel, from_address, lead_id, lead (name), intent, sentiment,
      priority, body, suggested_reply, handled_at, handled_by (operator name). Unhandled first;
      within that, the interested and the questions (the owner alerts) first, then priority
      high → medium → not yet triaged → low; newest first.
    - `unhandled`: replies nobody has handled yet; `unhandled_high`: those of high priority.
    - `newest`: when the newest unhandled reply came in (None when there is none): the inbox's
      "new replies" notice counts what came in after it.
    """

    rows: pd.DataFrame
    unhandled: int
    unhandled_high: int
    newest: dt.datetime | None = None


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
                 CASE WHEN i.intent IN ('interested', 'question') THEN 0 ELSE 1 END,
                 CASE i.priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 WHEN 'low' THEN 3 ELSE 2 END,
                 i.received_at DESC, i.id DESC
        LIMIT :limit
        """
    )
    counts_sql = text(
        """
        SELECT count(*) AS unhandled, count(*) FILTER (WHERE priority = 'high') AS high, max(received_at) AS newest
        FROM inbound_messages WHERE tenant_id = :tenant_id AND handled_at IS NULL
        """
    )
    params = {"tenant_id": tenant_id, "limit": limit}
    with _connection(bind) as conn:
        rows = _frame(conn.execute(rows_sql, params))
        counts = conn.execute(counts_sql, params).one()
    return Inbox(rows=rows, unhandled=int(counts.unhandled), unhandled_high=int(counts.high), newest=counts.newest)


_ARRIVED = text(
    """
    SELECT count(*) FROM inbound_messages
    WHERE tenant_id = :tenant_id AND handled_at IS NULL
      AND received_at > coalesce(CAST(:since AS timestamptz), '-infinity')
    """
)


def unhandled_since(bind: Bind, tenant_id: int, since: dt.datetime | None) -> int:
    """Unhandled replies that came in after `since` (all of them when None), off ix_inbound_messages_inbox:
    what the inbox's notice offers to show without the rep reloading the page."""
    with _connection(bind) as conn:
        return int(conn.execute(_ARRIVED, {"tenant_id": tenant_id, "since": since}).scalar_one())
