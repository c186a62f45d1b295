"""Recover now: what happened to the leads a rep sent to recovery, for the dashboard's progress table."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import text

from .queries import _NAME, Bind, _connection, _frame


def recovery_progress(bind: Bind, tenant_id: int, lead_ids: Sequence[int]) -> pd.DataFrame:
    """Where the pipeline stands for these leads, in the order given (other tenants' ids are ignored).

    Columns: lead_id, name, state (the lead's recovery state), rung, enrollment (status of the
    lead's newest enrollment), send (status of that enrollment's latest scheduled send: pending,
    running, done, canceled; None for a control lead), channel, message (status of the outbox
    row the writer made for that send; None until written), source (ai, ai_cache, template,
    offline, manual), sent_at. The enrollment's sends are found through
    ix_scheduled_actions_enrollment, the enrollment and the message through ix_enrollments_lead
    and ix_outbound_messages_lead.
    """
    sql = text(
        f"""
        SELECT l.id AS lead_id, {_NAME} AS name, l.recovery_state AS state, e.rung, e.status AS enrollment,
               a.status AS send, m.channel, m.status AS message, m.source, m.sent_at
        FROM unnest(CAST(:lead_ids AS bigint[])) WITH ORDINALITY AS asked(id, position)
        JOIN leads l ON l.id = asked.id AND l.tenant_id = :tenant_id
        LEFT JOIN LATERAL (
            SELECT e.id, e.rung, e.status FROM enrollments e
            WHERE e.lead_id = l.id ORDER BY e.updated_at DESC, e.id DESC LIMIT 1
        ) e ON true
        LEFT JOIN LATERAL (
            SELECT a.status, a.node FROM scheduled_actions a
            WHERE a.enrollment_id = e.id AND a.kind = 'send'
            ORDER BY a.due_at DESC, a.id DESC LIMIT 1
        ) a ON true
        LEFT JOIN LATERAL (
            SELECT m.channel, m.status, m.source, m.sent_at FROM outbound_messages m
            WHERE m.lead_id = l.id AND m.enrollment_id = e.id AND m.node = a.node
            ORDER BY m.created_at DESC, m.id DESC LIMIT 1
        ) m ON true
        ORDER BY asked.position
        """
    )
    with _connection(bind) as conn:
        return _frame(conn.execute(sql, {"tenant_id": tenant_id, "lead_ids": list(lead_ids)}))
