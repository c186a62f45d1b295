"""The Replies page's thread: a lead's conversation, our messages and theirs, oldest first.

Apart from `db/queries.py` (the inbox itself) because that module is full.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, text

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
