"""What a benchmark's transaction wrote, table by table, so that two ways of doing one job can be compared.

Rows are those whose `xmin` is the current transaction (inserted or updated by it), without
their ids (each approach takes its own from the sequences), in an order both share: a count and
an md5 per table. The audit rows carry their position within their enrollment, so the order of
the moves is compared too.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

# Every row the current transaction wrote, table by table, as a count and a digest: ids aside
# (each approach takes its own from the sequences), in an order both approaches share.
DIGESTS = {
    "enrollments": """
        SELECT e.lead_id, e.campaign_id, e.current_node, e.rung, e.is_control, e.status, e.episode,
               e.state::text, e.variant, e.next_action_at, e.enrolled_at, e.completed_at
        FROM enrollments AS e WHERE e.xmin = pg_current_xact_id()::xid""",
    "scheduled_actions": """
        SELECT a.lead_id, a.kind, a.node, a.due_at, a.status, a.dedupe_key, a.payload::text, e.lead_id AS owner
        FROM scheduled_actions AS a JOIN enrollments AS e ON e.id = a.enrollment_id
        WHERE a.xmin = pg_current_xact_id()::xid""",
    "campaign_transitions": """
        SELECT e.lead_id, t.from_node, t.to_node, t.event, t.reason, t.at,
               row_number() OVER (PARTITION BY t.enrollment_id ORDER BY t.id) AS position
        FROM campaign_transitions AS t JOIN enrollments AS e ON e.id = t.enrollment_id
        WHERE t.xmin = pg_current_xact_id()::xid""",
    "leads": """
        SELECT l.id, l.silence_level, l.recovery_state FROM leads AS l WHERE l.xmin = pg_current_xact_id()::xid""",
}


def digests(session: Session) -> dict[str, dict[str, Any]]:
    """Per table, how many rows this transaction wrote and a digest of them."""
    found = {}
    for table, rows in DIGESTS.items():
        digest = "md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), ''))"
        row = session.execute(sa.text(f"SELECT count(*) AS n, {digest} AS md5 FROM ({rows}) AS r")).one()
        found[table] = {"rows": row.n, "md5": row.md5}
    return found
