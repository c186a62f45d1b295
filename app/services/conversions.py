"""Recording a conversion: the lead bought. One door for a rep's "Mark recovered" and for
`POST /api/conversions`, so both credit, stop and count alike.

In one transaction, under a lock on the lead's row (two reports of one lead queue, never race):
the `conversions` row (credited by `app.domain.conversions`: the message and campaign the caller
names, else the last message sent to the lead in the attribution window, else organic), the
lead `recovered` with `recovered_at` (its first conversion) and `recovered_value` (all of them),
and its active enrollments stopped with a `campaign_transitions` row (`reactions.stop_enrollments`,
event `converted`), which cancels what they had queued. After the commit the lead is rescored,
and a conversion older than the rollup agent's reach asks for its days to be rolled up again,
so the ROI page counts it on the day it happened.

Idempotency: a conversion may carry the client's own id (`idempotency_key`, stored as
`conversions.external_id`, unique per tenant). A second report with the same id changes
nothing and answers `created=False` with the first row's id, so a client may retry freely.

Who: the API passes no operator (its key decided the tenant); the console passes the operator,
who must be an active member of the tenant (or an admin) and not a viewer.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from redis import RedisError
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import queue, runtime
from app.domain import conversions as rules
from app.domain import roles as roles_rule
from app.domain.conversions import ConversionError, Touch
from app.services import acting, reactions, rollup, score_requests
from app.services.reactions import StopEvent
from db.models import CONVERSION_METHODS

VIEWER_ROLE = "viewer"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConversionRequest:
    """One conversion as a caller states it. Name the lead by `lead_id` or by `lead_external_id`
    (the CRM's id of the lead), not both."""

    value: Decimal | int | float | str
    lead_id: int | None = None
    lead_external_id: str | None = None
    converted_at: dt.datetime | None = None
    method: str | None = None
    campaign_id: int | None = None
    message_id: int | None = None
    note: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Recorded:
    """What a request did: the conversion row's id; `created` False when its idempotency key
    was seen before (nothing changed); the lead, method and credited message as stored."""

    id: int
    created: bool
    lead_id: int
    method: str
    message_id: int | None
    campaign_id: int | None
    converted_at: dt.datetime
    value: Decimal


def record_conversion(
    *,
    tenant_id: int,
    value: Decimal | int | float | str,
    lead_id: int | None = None,
    lead_external_id: str | None = None,
    converted_at: dt.datetime | None = None,
    method: str | None = None,
    campaign_id: int | None = None,
    message_id: int | None = None,
    note: str | None = None,
    operator_id: int | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Recorded:
    """Record one conversion (see the module); raises `ConversionError` naming the field (also for a
    lead that is not this tenant's: "not found"), `PermissionError` for a viewer or an outsider."""
    request = ConversionRequest(
        value=value,
        lead_id=lead_id,
        lead_external_id=lead_external_id,
        converted_at=converted_at,
        method=method,
        campaign_id=campaign_id,
        message_id=message_id,
        note=note,
        idempotency_key=idempotency_key,
    )
    at = now or dt.datetime.now(dt.UTC)
    recorded = _record_one(tenant_id, request, operator_id=operator_id, now=at)
    follow_up(tenant_id, [recorded], now=at)
    return recorded


def record_batch(
    *, tenant_id: int, requests: Sequence[ConversionRequest], now: dt.datetime | None = None
) -> list[Recorded | ConversionError]:
    """Each request in its own transaction (a refused one changes nothing, the others stand), then
    one rescore request and at most one rollup job for the whole batch. Results in request order."""
    at = now or dt.datetime.now(dt.UTC)
    results: list[Recorded | ConversionError] = []
    for request in requests:
        try:
            results.append(_record_one(tenant_id, request, operator_id=None, now=at))
        except ConversionError as refused:
            results.append(refused)
    follow_up(tenant_id, [r for r in results if isinstance(r, Recorded)], now=at)
    return results


def follow_up(tenant_id: int, recorded: Sequence[Recorded], *, now: dt.datetime) -> None:
    """After the commit: rescore the leads that converted; roll up again days the agent no longer rewrites.

    Best effort: the conversions are committed, so a Redis outage here is logged, not raised (an
    error would make a client retry, and a retry without ids would count twice); the scorer's
    sweep rescores everyone, and the next late conversion's rollup covers the days again.
    """
    created = [r for r in recorded if r.created]
    if not created:
        return
    oldest = min(r.converted_at for r in created)
    days_back = (now - oldest).days + 1  # +1: the conversion's local day may start before `now` minus whole days
    try:
        connection = runtime.redis_client()
        score_requests.request_rescore(connection, tenant_id=tenant_id, lead_ids=sorted({r.lead_id for r in created}))
        if days_back > rollup.DAYS_BACK:
            queue.enqueue(connection, "refresh_rollups", tenant_id=tenant_id, days_back=days_back)
    except RedisError as error:
        log.warning("conversions of tenant %s recorded; rescore/rollup not requested: %s", tenant_id, error)


# --- one conversion, in one transaction -------------------------------------------------------

_LEAD_BY_ID = text("SELECT id, deal_value FROM leads WHERE tenant_id = :tenant_id AND id = :lead_id FOR UPDATE")
_LEAD_BY_EXTERNAL_ID = text(
    "SELECT id, deal_value FROM leads WHERE tenant_id = :tenant_id AND external_id = :external_id FOR UPDATE"
)
_SEEN = text("SELECT * FROM conversions WHERE tenant_id = :tenant_id AND external_id = :key")
_LAST_TOUCH = text(
    """
    SELECT id, campaign_id, channel, source, sent_at FROM outbound_messages
    WHERE lead_id = :lead_id AND tenant_id = :tenant_id AND sent_at IS NOT NULL
      AND sent_at <= :at AND sent_at > :since
    ORDER BY sent_at DESC, id DESC LIMIT 1
    """
)
_NAMED_MESSAGE = text(
    """
    SELECT id, campaign_id, channel, source, coalesce(sent_at, created_at) AS sent_at FROM outbound_messages
    WHERE id = :message_id AND tenant_id = :tenant_id AND lead_id = :lead_id
    """
)
_NAMED_CAMPAIGN = text("SELECT id FROM campaigns WHERE id = :campaign_id AND tenant_id = :tenant_id")
_INSERT = text(
    """
    INSERT INTO conversions (tenant_id, lead_id, campaign_id, message_id, channel, value, method, attribution,
                             converted_at, external_id)
    VALUES (:tenant_id, :lead_id, :campaign_id, :message_id, :channel, :value, :method, CAST(:attribution AS jsonb),
            :converted_at, :external_id)
    ON CONFLICT (tenant_id, external_id) DO NOTHING
    RETURNING id
    """
)
_RECOVERED = text(
    """
    UPDATE leads SET
        recovered_at = CASE WHEN recovery_state = 'recovered' AND recovered_at IS NOT NULL
                            THEN least(recovered_at, :converted_at) ELSE :converted_at END,
        recovered_value = CASE WHEN recovery_state = 'recovered'
                               THEN coalesce(recovered_value, 0) + :value ELSE :value END,
        recovery_state = 'recovered', stage = 'won', updated_at = now()
    WHERE id = :lead_id AND tenant_id = :tenant_id
    """
)


def _record_one(tenant_id: int, request: ConversionRequest, *, operator_id: int | None, now: dt.datetime) -> Recorded:
    value = rules.check_value(request.value)
    converted_at = rules.check_converted_at(request.converted_at or now, now)
    method = _checked_method(request.method)
    key = _checked_key(request.idempotency_key)
    with runtime.session_scope() as session, session.begin():
        if operator_id is not None:
            _check_operator(session, tenant_id=tenant_id, operator_id=operator_id)
        lead_id = _locked_lead(session, tenant_id, request)
        if key is not None and (seen := _seen(session, tenant_id, key)) is not None:
            return seen
        touch, campaign_id = _credited(session, tenant_id, lead_id, request, converted_at)
        method = rules.method_for(touch, method)
        params = {
            "tenant_id": tenant_id,
            "lead_id": lead_id,
            "campaign_id": campaign_id,
            "message_id": touch.message_id if touch else None,
            "channel": touch.channel if touch else None,
            "value": value,
            "method": method,
            "attribution": json.dumps(_attribution(touch, campaign_id, converted_at, request, operator_id)),
            "converted_at": converted_at,
            "external_id": key,
        }
        conversion_id = session.execute(_INSERT, params).scalar()
        if conversion_id is None:  # the same key committed meanwhile: that first report stands
            seen = _seen(session, tenant_id, key or "")
            if seen is None:
                raise RuntimeError("a conversion conflicted on its idempotency key but none was found")
            return seen
        session.execute(
            _RECOVERED, {"tenant_id": tenant_id, "lead_id": lead_id, "converted_at": converted_at, "value": value}
        )
        reactions.stop_enrollments(
            session,
            tenant_id=tenant_id,
            lead_ids=[lead_id],
            event=StopEvent.CONVERTED,
            reason=f"converted: {method}, {value:f}",
            at=min(converted_at, now),
        )
    return Recorded(
        id=int(conversion_id),
        created=True,
        lead_id=lead_id,
        method=method,
        message_id=touch.message_id if touch else None,
        campaign_id=campaign_id,
        converted_at=converted_at,
        value=value,
    )


def _checked_method(method: str | None) -> str | None:
    if method is not None and method not in CONVERSION_METHODS:
        raise ConversionError("method", f"one of {', '.join(CONVERSION_METHODS)}")
    return method


def _checked_key(key: str | None) -> str | None:
    if key is None:
        return None
    cleaned = key.strip()
    if not cleaned or len(cleaned) > 255:
        raise ConversionError("id", "1 to 255 characters")
    return cleaned


def _check_operator(session: Session, *, tenant_id: int, operator_id: int) -> None:
    acting.require(session, operator_id=operator_id, tenant_id=tenant_id, action=roles_rule.Action.RECOVER)


def _locked_lead(session: Session, tenant_id: int, request: ConversionRequest) -> int:
    """The lead's id, its row locked; another tenant's lead is "not found" like one that does not exist."""
    if (request.lead_id is None) == (request.lead_external_id is None):
        raise ConversionError("lead_id", "name the lead by lead_id or by lead_external_id (one of them)")
    if request.lead_id is not None:
        row = session.execute(_LEAD_BY_ID, {"tenant_id": tenant_id, "lead_id": request.lead_id}).first()
        field = "lead_id"
    else:
        row = session.execute(
            _LEAD_BY_EXTERNAL_ID, {"tenant_id": tenant_id, "external_id": request.lead_external_id}
        ).first()
        field = "lead_external_id"
    if row is None:
        raise ConversionError(field, "not found")
    return int(row.id)


def _seen(session: Session, tenant_id: int, key: str) -> Recorded | None:
    row = session.execute(_SEEN, {"tenant_id": tenant_id, "key": key}).first()
    if row is None:
        return None
    return Recorded(
        id=int(row.id),
        created=False,
        lead_id=int(row.lead_id),
        method=str(row.method),
        message_id=row.message_id,
        campaign_id=row.campaign_id,
        converted_at=row.converted_at,
        value=Decimal(row.value),
    )


def _credited(
    session: Session, tenant_id: int, lead_id: int, request: ConversionRequest, converted_at: dt.datetime
) -> tuple[Touch | None, int | None]:
    """(the credited message, the campaign): the caller's message or campaign, else the last touch in the window."""
    if request.message_id is not None:
        found = session.execute(
            _NAMED_MESSAGE, {"message_id": request.message_id, "tenant_id": tenant_id, "lead_id": lead_id}
        ).first()
        if found is None:
            raise ConversionError("message_id", "not found for this lead")
        touch = _touch(found)
        return touch, touch.campaign_id
    if request.campaign_id is not None:
        named = {"campaign_id": request.campaign_id, "tenant_id": tenant_id}
        if session.execute(_NAMED_CAMPAIGN, named).first() is None:
            raise ConversionError("campaign_id", "not found")
        return None, request.campaign_id
    params = {
        "tenant_id": tenant_id,
        "lead_id": lead_id,
        "at": converted_at,
        "since": converted_at - rules.ATTRIBUTION_WINDOW,
    }
    found = session.execute(_LAST_TOUCH, params).first()
    if found is None:
        return None, None
    touch = _touch(found)
    return touch, touch.campaign_id


def _touch(row: Any) -> Touch:
    return Touch(
        message_id=int(row.id),
        campaign_id=row.campaign_id,
        channel=str(row.channel),
        source=str(row.source),
        sent_at=row.sent_at,
    )


def _attribution(
    touch: Touch | None,
    campaign_id: int | None,
    converted_at: dt.datetime,
    request: ConversionRequest,
    operator_id: int | None,
) -> dict[str, Any]:
    """The jsonb record of how the credit was decided, who reported it, and the note."""
    record: dict[str, Any] = {"recorded_by": "console" if operator_id is not None else "api"}
    if operator_id is not None:
        record["operator_id"] = operator_id
    if touch is not None:
        named = request.message_id is not None
        record.update(
            model="named_message" if named else "last_touch",
            window_days=rules.ATTRIBUTION_WINDOW.days,
            days_to_convert=rules.days_to_convert(touch, converted_at),
        )
    elif campaign_id is not None:
        record["model"] = "named_campaign"
    else:
        record["model"] = "none"
    if request.note:
        record["note"] = request.note.strip()[:1000]
    return record
