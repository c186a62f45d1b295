"""The intake API's use cases: a batch of leads, a batch of activities, each in one transaction.

`POST /api/leads` and `POST /api/activities` (app/web/intake.py) parse the body and hand the
items here. Each item is checked by the pure rules (`app.domain.intake`); the valid ones are
written together (leads by `app.services.intake.upsert`, activities by
`app.services.activities.add_activities`, the rule that resets a lead's silence) and every item
gets its answer, in order: `created`, `updated` (leads) or `rejected` with each field's reason.

**Idempotency.** With an `Idempotency-Key` the answer is stored with the body's digest
(`intake_requests`) in the same transaction as the rows, under the tenant's intake lock: a
retry with the same key and body gets the stored answer and writes nothing, even while the
first is still running (it waits for the lock, then finds the answer); the same key with another
body is refused (422), as the IETF's Idempotency-Key draft says. Keys are kept for 24 hours.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import runtime
from app.domain.intake import rows
from app.domain.intake.activities import ActivityValues, check_activity
from app.domain.intake.fields import FieldError, LeadValues
from app.services import activities, intake
from app.services.intake import RowResult
from db.models import ACTIVITY_KINDS

SOURCE = "api"
KEY_LIFETIME = dt.timedelta(hours=24)
KEY_REUSED = "this Idempotency-Key was used with a different body; use a new key for a new request"


@dataclass(frozen=True)
class Answer:
    """The HTTP status and JSON body to answer, and whether it is a stored answer replayed."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def body_digest(payload: Any) -> str:
    """The SHA-256 of the body's canonical JSON: a retry that spaces or orders keys differently is the same body."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def receive_leads(
    *, tenant_id: int, items: Sequence[Any], key: str | None, digest: str, now: dt.datetime | None = None
) -> Answer:
    """Check and upsert a batch of leads (see the module)."""
    at = now or dt.datetime.now(dt.UTC)
    results: list[RowResult] = []
    with runtime.session_scope() as session, session.begin():
        intake.lock_tenant(session, tenant_id)
        if key is not None and (seen := _seen(session, tenant_id, "leads", key, digest, at)) is not None:
            return seen
        tenant = intake.tenant_intake(session, tenant_id)
        rules = tenant.rules(at)
        checked: list[LeadValues | list[FieldError]] = [
            rows.normalise(item, rules) if isinstance(item, dict) else [FieldError("row", "must be a JSON object")]
            for item in items
        ]
        results = intake.upsert(session, tenant_id=tenant_id, rows=checked, tenant=tenant, source=SOURCE, now=at)
        answer = Answer(200, {"results": [result_json(r) for r in results]})
        if key is not None:
            _remember(session, tenant_id, "leads", key, digest, answer, at)
    intake.request_rescore(tenant_id, results)
    return answer


def receive_activities(
    *, tenant_id: int, items: Sequence[Any], key: str | None, digest: str, now: dt.datetime | None = None
) -> Answer:
    """Check and record a batch of activities (see the module); the valid ones move their leads'
    last activity by the timeline's rule, and the leads are rescored."""
    at = now or dt.datetime.now(dt.UTC)
    touched: list[int] = []
    with runtime.session_scope() as session, session.begin():
        intake.lock_tenant(session, tenant_id)
        if key is not None and (seen := _seen(session, tenant_id, "activities", key, digest, at)) is not None:
            return seen
        tenant = intake.tenant_intake(session, tenant_id)
        checked: list[ActivityValues | list[FieldError]] = [
            check_activity(item, kinds=ACTIVITY_KINDS, zone=tenant.zone, now=at)
            if isinstance(item, dict)
            else [FieldError("row", "must be a JSON object")]
            for item in items
        ]
        results, touched = _record_activities(session, tenant_id, checked)
        answer = Answer(200, {"results": [result_json(r) for r in results]})
        if key is not None:
            _remember(session, tenant_id, "activities", key, digest, answer, at)
    intake.request_rescore(tenant_id, [RowResult(0, "updated", lead_id) for lead_id in touched])
    return answer


_LEADS = text(
    """SELECT id, external_id FROM leads
       WHERE tenant_id = :t AND (id = ANY(CAST(:ids AS bigint[])) OR external_id = ANY(CAST(:externals AS text[])))"""
)


def _record_activities(
    session: Session, tenant_id: int, checked: Sequence[ActivityValues | list[FieldError]]
) -> tuple[list[RowResult], list[int]]:
    """One result per item (an activity's id when created) and the leads that got activities."""
    valid = [v for v in checked if isinstance(v, ActivityValues)]
    ids = sorted({v.lead_id for v in valid if v.lead_id is not None})
    externals = sorted({v.external_id for v in valid if v.external_id is not None})
    found = session.execute(_LEADS, {"t": tenant_id, "ids": ids, "externals": externals}).all()
    by_id = {int(r.id) for r in found}
    by_external = {r.external_id: int(r.id) for r in found}
    results: list[RowResult | None] = []
    new: list[tuple[int, activities.NewActivity]] = []
    for index, item in enumerate(checked):
        if not isinstance(item, ActivityValues):
            results.append(RowResult(index, "rejected", None, tuple(item)))
            continue
        lead_id = item.lead_id if item.lead_id in by_id else by_external.get(item.external_id or "")
        if lead_id is None:
            named = "lead_id" if item.lead_id is not None else "external_id"
            results.append(RowResult(index, "rejected", None, (FieldError(named, "no such lead"),)))
            continue
        results.append(None)
        activity = activities.NewActivity(
            lead_id=lead_id,
            kind=item.kind,
            occurred_at=item.occurred_at,
            channel=item.channel,
            summary=item.summary,
            details=item.details,
        )
        new.append((index, activity))
    activity_ids = activities.add_activities(session, tenant_id=tenant_id, rows=[a for _, a in new])
    for (index, _), activity_id in zip(new, activity_ids, strict=True):
        results[index] = RowResult(index, "created", activity_id)
    return [r for r in results if r is not None], sorted({a.lead_id for _, a in new})


def result_json(result: RowResult) -> dict[str, Any]:
    return {
        "index": result.index,
        "status": result.status,
        "id": result.id,
        "errors": [{"field": e.field, "message": e.message} for e in result.errors],
    }


_EXPIRE = text("DELETE FROM intake_requests WHERE tenant_id = :t AND created_at < :cutoff")
_SEEN = text(
    "SELECT body_sha256, status_code, response FROM intake_requests WHERE tenant_id = :t AND endpoint = :e AND key = :k"
)
_REMEMBER = text(
    """INSERT INTO intake_requests (tenant_id, endpoint, key, body_sha256, status_code, response, created_at)
       VALUES (:t, :e, :k, :digest, :status, CAST(:response AS jsonb), :now)"""
)


def _seen(session: Session, tenant_id: int, endpoint: str, key: str, digest: str, now: dt.datetime) -> Answer | None:
    """The stored answer to this key (expired keys dropped first); a 422 when the body differs."""
    session.execute(_EXPIRE, {"t": tenant_id, "cutoff": now - KEY_LIFETIME})
    row = session.execute(_SEEN, {"t": tenant_id, "e": endpoint, "k": key}).one_or_none()
    if row is None:
        return None
    if row.body_sha256 != digest:
        return Answer(422, {"detail": KEY_REUSED})
    return Answer(int(row.status_code), dict(row.response), replayed=True)


def _remember(
    session: Session, tenant_id: int, endpoint: str, key: str, digest: str, answer: Answer, now: dt.datetime
) -> None:
    session.execute(
        _REMEMBER,
        {
            "t": tenant_id,
            "e": endpoint,
            "k": key,
            "digest": digest,
            "status": answer.status,
            "response": json.dumps(answer.body),
            "now": now,
        },
    )
