"""The owner alert: a lead who is interested or asks a question is a rep's to answer, now.

Triage flags such a reply `alert` (`triage.py`). The lead's owner sees it as a console toast
the next time they open or refresh the console, and at the top of the Replies inbox. Taking
the alerts marks them shown (`alerted_at`, `alerted_to`) in the same statement, so two tabs or
two reps never both get the toast, and a refresh does not repeat it. A lead nobody owns is
everyone's: the first rep of the tenant to open the console gets its alert. A viewer, an
inactive operator or one of another tenant takes nothing; a handled reply needs no alert.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text

from app import runtime
from app.services.conversions import VIEWER_ROLE

TAKEN_AT_ONCE = 1_000
"""A bound on one statement; the console toasts a few and counts the rest (the inbox lists them all)."""

_TAKE = text(
    """
    WITH me AS (
        SELECT id FROM operators
        WHERE id = :operator_id AND tenant_id = :tenant_id AND is_active AND role <> :viewer
    ), due AS (
        SELECT i.id FROM inbound_messages AS i
        JOIN leads AS l ON l.id = i.lead_id AND l.tenant_id = i.tenant_id
        WHERE i.tenant_id = :tenant_id AND i.alert AND i.alerted_at IS NULL AND i.handled_at IS NULL
          AND (l.owner_id = :operator_id OR l.owner_id IS NULL) AND EXISTS (SELECT 1 FROM me)
        ORDER BY i.received_at, i.id
        LIMIT :limit
        FOR UPDATE OF i SKIP LOCKED
    )
    UPDATE inbound_messages AS i SET alerted_at = :now, alerted_to = :operator_id, updated_at = now()
    FROM due, leads AS l
    WHERE i.id = due.id AND l.id = i.lead_id
    RETURNING i.id, i.intent, i.channel, i.received_at,
              coalesce(nullif(trim(coalesce(l.first_name, '') || ' ' || coalesce(l.last_name, '')), ''),
                       i.from_address) AS lead
    """
)


@dataclass(frozen=True)
class Alert:
    """One reply the operator is told about."""

    inbound_message_id: int
    lead: str
    intent: str | None
    channel: str
    received_at: dt.datetime


def take_alerts(*, tenant_id: int, operator_id: int, now: dt.datetime, limit: int = TAKEN_AT_ONCE) -> list[Alert]:
    """The operator's alerts not shown yet, oldest first, marked shown to them (each is taken once)."""
    params = {"tenant_id": tenant_id, "operator_id": operator_id, "now": now, "limit": limit, "viewer": VIEWER_ROLE}
    with runtime.session_scope() as session, session.begin():
        found = session.execute(_TAKE, params).all()
    alerts = [Alert(int(r.id), str(r.lead), r.intent, str(r.channel), r.received_at) for r in found]
    return sorted(alerts, key=lambda a: (a.received_at, a.inbound_message_id))
