"""The audit log: what operators did, written by each service inside the transaction of the
change (so an entry exists exactly when the change does), and read by owners and admins.

Entries name their subject by id, never by personal data. Reading the log, and exporting it,
are checked like any other action (`roles.Action.AUDIT`); an export is itself logged.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import runtime
from app.domain import roles
from app.services import acting
from db.models import AuditEntry, Operator

SHOWN = 1_000  # the newest entries the page lists and a CSV holds


def record(
    session: Session,
    *,
    tenant_id: int,
    operator_id: int | None,
    action: str,
    subject: str = "",
    details: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Add an entry to the caller's transaction (the database refuses an unknown `action`)."""
    entry = AuditEntry(
        tenant_id=tenant_id, operator_id=operator_id, action=action, subject=subject, details=details or {}
    )
    if at is not None:
        entry.created_at = at
    session.add(entry)
    session.flush()


@dataclass(frozen=True)
class AuditRow:
    at: dt.datetime
    operator: str
    action: str
    subject: str
    details: str


def entries(*, tenant_id: int, operator_id: int) -> list[AuditRow]:
    """The tenant's newest entries, newest first, for an owner or an admin (or the superuser)."""
    with runtime.session_scope() as session, session.begin():
        acting.require(session, operator_id=operator_id, tenant_id=tenant_id, action=roles.Action.AUDIT)
        return _read(session, tenant_id)


def export(*, tenant_id: int, operator_id: int) -> list[AuditRow]:
    """The same rows, for a CSV download; the export is logged in the same transaction."""
    with runtime.session_scope() as session, session.begin():
        acting.require(session, operator_id=operator_id, tenant_id=tenant_id, action=roles.Action.AUDIT)
        rows = _read(session, tenant_id)
        record(session, tenant_id=tenant_id, operator_id=operator_id, action="export", subject="audit log")
        return rows


def _read(session: Session, tenant_id: int) -> list[AuditRow]:
    query = (
        sa.select(AuditEntry.created_at, Operator.name, AuditEntry.action, AuditEntry.subject, AuditEntry.details)
        .outerjoin(Operator, Operator.id == AuditEntry.operator_id)
        .where(AuditEntry.tenant_id == tenant_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(SHOWN)
    )
    return [
        AuditRow(at, name or "command line or agent", action, subject, json.dumps(details, sort_keys=True))
        for at, name, action, subject, details in session.execute(query)
    ]
