"""Recording what a lead did, and the rule that new activity puts it back at the bottom of the ladder.

Only the lead's own signs of life reset its silence: a form, a call or meeting, a page view,
an inbound email or text, a click. Our own outbound messages, a rep's note or stage change do
not (the lead did nothing), and neither does an email *open*: mail clients such as Apple
Mail open every message by themselves, so counting opens would stop a recovery that never
reached a person. An activity older than the lead's last one (a late webhook) is recorded but
moves nothing.

A reset sets `silence_level = 0` and takes the lead from silent, in_recovery, control or lost
back to `active`; replied and recovered leads keep their state (a person is on them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import runtime
from app.services import score_requests
from db.models import ACTIVITY_KINDS

SILENCE_BREAKING = frozenset({"form", "call", "meeting", "page_view", "email_in", "sms_in", "click"})
"""Activity kinds that are the lead's own sign of life."""

_RECORD = text(
    """
    WITH added AS (
        INSERT INTO activities (tenant_id, lead_id, kind, channel, occurred_at, summary, details)
        SELECT l.tenant_id, l.id, :kind, :channel, :occurred_at, :summary, CAST(:details AS jsonb)
        FROM leads AS l WHERE l.id = :lead_id AND l.tenant_id = :tenant_id
        RETURNING lead_id
    ),
    reset AS (
        UPDATE leads AS l
        SET last_activity_at = :occurred_at, silence_level = 0, updated_at = now(),
            recovery_state = CASE WHEN l.recovery_state IN ('silent', 'in_recovery', 'control', 'lost')
                                  THEN 'active' ELSE l.recovery_state END
        FROM added AS a
        WHERE l.id = a.lead_id AND CAST(:breaks_silence AS boolean) AND l.last_activity_at < :occurred_at
        RETURNING l.id
    )
    SELECT (SELECT count(*) FROM added) AS added, (SELECT count(*) FROM reset) AS reset
    """
)


def record_activity(
    *,
    tenant_id: int,
    lead_id: int,
    kind: str,
    occurred_at: datetime,
    channel: str | None = None,
    summary: str = "",
    details: dict[str, Any] | None = None,
) -> bool:
    """Add one activity to the lead's timeline and ask for its score to be recomputed (batched per tenant).

    True when it reset the lead's silence ladder.
    """
    with runtime.session_scope() as session, session.begin():
        reset = add_activity(
            session,
            tenant_id=tenant_id,
            lead_id=lead_id,
            kind=kind,
            occurred_at=occurred_at,
            channel=channel,
            summary=summary,
            details=details,
        )
    score_requests.request_rescore(runtime.redis_client(), tenant_id=tenant_id, lead_ids=[lead_id])
    return reset


def add_activity(
    session: Session,
    *,
    tenant_id: int,
    lead_id: int,
    kind: str,
    occurred_at: datetime,
    channel: str | None = None,
    summary: str = "",
    details: dict[str, Any] | None = None,
) -> bool:
    """`record_activity` inside the caller's transaction (a webhook that stores more in the same
    commit); the caller asks for the rescore once it has committed. True when silence was reset."""
    if kind not in ACTIVITY_KINDS:
        raise ValueError(f"unknown activity kind {kind!r}; use one of {', '.join(ACTIVITY_KINDS)}")
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    params = {
        "tenant_id": tenant_id,
        "lead_id": lead_id,
        "kind": kind,
        "channel": channel,
        "occurred_at": occurred_at,
        "summary": summary,
        "details": json.dumps(details or {}),
        "breaks_silence": kind in SILENCE_BREAKING,
    }
    row = session.execute(_RECORD, params).one()
    if not row.added:
        raise LookupError(f"no lead {lead_id} in tenant {tenant_id}")
    return bool(row.reset)


@dataclass(frozen=True)
class NewActivity:
    """One activity of a batch (`add_activities`), its lead already known to be the tenant's."""

    lead_id: int
    kind: str
    occurred_at: datetime
    channel: str | None = None
    summary: str = ""
    details: dict[str, Any] | None = None


_IDS = text("SELECT nextval(pg_get_serial_sequence('activities', 'id')) FROM generate_series(1, :n)")
_RECORD_MANY = text(
    """
    WITH added AS (
        INSERT INTO activities (id, tenant_id, lead_id, kind, channel, occurred_at, summary, details)
        SELECT r.id, l.tenant_id, l.id, r.kind, r.channel, r.occurred_at, r.summary, r.details
        FROM unnest(CAST(:ids AS bigint[]), CAST(:leads AS bigint[]), CAST(:kinds AS text[]),
                    CAST(:channels AS text[]), CAST(:at AS timestamptz[]), CAST(:summaries AS text[]),
                    CAST(:details AS jsonb[]))
             AS r(id, lead_id, kind, channel, occurred_at, summary, details)
        JOIN leads AS l ON l.id = r.lead_id AND l.tenant_id = :tenant_id
        RETURNING id, lead_id, kind, occurred_at
    ),
    latest AS (
        SELECT lead_id, max(occurred_at) AS at FROM added
        WHERE kind = ANY(CAST(:breaking AS text[])) GROUP BY lead_id
    ),
    reset AS (
        UPDATE leads AS l
        SET last_activity_at = x.at, silence_level = 0, updated_at = now(),
            recovery_state = CASE WHEN l.recovery_state IN ('silent', 'in_recovery', 'control', 'lost')
                                  THEN 'active' ELSE l.recovery_state END
        FROM latest AS x
        WHERE l.id = x.lead_id AND l.last_activity_at < x.at
        RETURNING l.id
    )
    SELECT (SELECT count(*) FROM added) AS added, (SELECT count(*) FROM reset) AS reset
    """
)


def add_activities(session: Session, *, tenant_id: int, rows: Sequence[NewActivity]) -> list[int]:
    """`add_activity` for a whole batch in two statements, inside the caller's transaction: the same
    rule (only the lead's own signs of life reset its silence, an older one moves nothing), applied
    with each lead's latest such activity. The new activities' ids, in order; `LookupError` when a
    lead is not the tenant's (nothing is added then: the caller's transaction is the caller's to end)."""
    unknown = sorted({row.kind for row in rows} - set(ACTIVITY_KINDS))
    if unknown:
        raise ValueError(f"unknown activity kind {unknown[0]!r}; use one of {', '.join(ACTIVITY_KINDS)}")
    if any(row.occurred_at.tzinfo is None for row in rows):
        raise ValueError("occurred_at must be timezone-aware")
    if not rows:
        return []
    ids = [int(i) for i in session.execute(_IDS, {"n": len(rows)}).scalars()]
    params = {
        "tenant_id": tenant_id,
        "ids": ids,
        "leads": [row.lead_id for row in rows],
        "kinds": [row.kind for row in rows],
        "channels": [row.channel for row in rows],
        "at": [row.occurred_at for row in rows],
        "summaries": [row.summary for row in rows],
        "details": [json.dumps(row.details or {}) for row in rows],
        "breaking": sorted(SILENCE_BREAKING),
    }
    found = session.execute(_RECORD_MANY, params).one()
    if found.added != len(rows):
        raise LookupError(f"{len(rows) - found.added} of the activities name no lead of tenant {tenant_id}")
    return ids
