"""A subject access request: one JSON document of everything held about one lead.

The lead row, then every row of every table that names the lead (`lead_id`), read from the
catalogue so a table added later is exported too; the rows that name it through another row
(a plan's transitions through its enrollments, a rep's labels through its replies); the raw
webhooks the person sent that name their address; and the suppressions of its addresses. Each
row is PostgreSQL's own `to_jsonb`, so no column is left out by a list kept in Python. Reading
it is an export of personal data: only an owner or an admin of the tenant may (the same rule as
erasure), and the service logs who did.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import runtime
from app.services import audit
from app.services.erasure import SINGLE_LEAD_ENDPOINTS, check_eraser

FORMAT = "lead-recovery-engine/subject-access/v1"
log = logging.getLogger(__name__)

_LEAD_TABLES = text(
    """
    SELECT c.table_name FROM information_schema.columns AS c
    JOIN information_schema.tables AS t
      ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
    WHERE c.table_schema = current_schema() AND c.column_name = 'lead_id'
    ORDER BY c.table_name
    """
)
_THROUGH = {
    "campaign_transitions": """SELECT to_jsonb(x) AS row FROM campaign_transitions AS x
        WHERE x.tenant_id = :tenant_id AND x.enrollment_id IN (
            SELECT id FROM enrollments WHERE tenant_id = :tenant_id AND lead_id = :lead_id) ORDER BY x.id""",
    "reply_labels": """SELECT to_jsonb(x) AS row FROM reply_labels AS x
        WHERE x.tenant_id = :tenant_id AND x.inbound_message_id IN (
            SELECT id FROM inbound_messages WHERE tenant_id = :tenant_id AND lead_id = :lead_id) ORDER BY x.id""",
    # Webhooks the person sent us (a text, an email, a text's status) that name their address; a
    # SendGrid event batch also holds other people's events, so it is not theirs to receive.
    "webhook_deliveries": """SELECT to_jsonb(x) AS row FROM webhook_deliveries AS x JOIN leads AS l ON l.id = :lead_id
        WHERE x.tenant_id = :tenant_id AND l.tenant_id = :tenant_id AND x.endpoint = ANY(:single_lead)
          AND (strpos(x.body, l.email) > 0 OR strpos(x.body, l.phone) > 0
               OR strpos(x.body, replace(l.phone, '+', '%2B')) > 0
               OR strpos(x.body, replace(l.email, '@', '%40')) > 0) ORDER BY x.id""",
    "suppressions": """SELECT to_jsonb(x) AS row FROM suppressions AS x JOIN leads AS l ON l.id = :lead_id
        WHERE x.tenant_id = :tenant_id AND l.tenant_id = :tenant_id AND (
            (x.channel = 'email' AND x.address IN (l.email, lower(l.email)))
            OR (x.channel = 'sms' AND x.address = l.phone)) ORDER BY x.id""",
}


def export_lead(
    *, tenant_id: int, lead_id: int, operator_id: int | None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The document (see the module). `operator_id` None: the command line. `LookupError` when the
    tenant has no such lead, `PermissionError` when the operator may not read it."""
    with runtime.session_scope() as session, session.begin():
        if operator_id is not None:
            check_eraser(session, operator_id=operator_id, tenant_id=tenant_id)
        document = collect(session, tenant_id=tenant_id, lead_id=lead_id)
        audit.record(session, tenant_id=tenant_id, operator_id=operator_id, action="export", subject=f"lead {lead_id}")
    document["exported_at"] = (now or dt.datetime.now(dt.UTC)).isoformat()
    log.info("subject access export of lead %s of tenant %s by operator %s", lead_id, tenant_id, operator_id)
    return document


def collect(session: Session, *, tenant_id: int, lead_id: int) -> dict[str, Any]:
    """Everything held about the lead, by table; inside the caller's transaction."""
    params: dict[str, Any] = {"tenant_id": tenant_id, "lead_id": lead_id}
    lead = session.scalar(
        text("SELECT to_jsonb(l) FROM leads AS l WHERE l.tenant_id = :tenant_id AND l.id = :lead_id"), params
    )
    if lead is None:
        raise LookupError(f"tenant {tenant_id} has no lead {lead_id}")
    records: dict[str, list[Any]] = {}
    for table in session.scalars(_LEAD_TABLES):
        sql = (
            f'SELECT to_jsonb(x) AS row FROM "{table}" AS x'
            " WHERE x.tenant_id = :tenant_id AND x.lead_id = :lead_id ORDER BY x.id"
        )
        records[table] = list(session.scalars(text(sql), params))
    for table, sql in _THROUGH.items():
        records[table] = list(session.scalars(text(sql), {**params, "single_lead": list(SINGLE_LEAD_ENDPOINTS)}))
    return {"format": FORMAT, "tenant_id": tenant_id, "lead_id": lead_id, "lead": lead, "records": records}


def to_json(document: dict[str, Any]) -> str:
    """The document as the file a person receives: UTF-8 JSON, indented, keys in order."""
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True, default=str)
