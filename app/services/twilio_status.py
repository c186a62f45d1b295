"""Twilio's status callbacks, applied in bulk by the listener (`webhook_apply.APPLIERS`).

Each SMS asks for callbacks at `/webhooks/twilio/status?m=<our message id>`; the route stores
the signed delivery with the URL it was called at, and this applier turns a batch of them into:

- a `message_events` row per (MessageSid, MessageStatus) for `sent`, `delivered`,
  `undelivered` and `failed`: `provider_event_id` is `"<sid>:<status>"`, so Twilio's retries
  and repeats are stored once. `queued`, `accepted`, `scheduled` and `sending` only prove that
  Twilio has the message: they resolve a held row but are not events of their own.
- the outbox row's status, forward only: held → anything; sent → delivered or failed;
  delivered and failed are final. A callback that arrives while the sender is still recording
  the send (`sending`) leaves the status to the sender; its event is kept.
- what a failure's `ErrorCode` means for the lead: 21610 (the recipient opted out at the
  carrier) suppresses the number and stops the lead's recovery; 21211 and 21614 (invalid, not
  a mobile) mark the lead's phone unreachable, so the sender stops trying it; every code is
  kept on the row (`error_code`; 30007, carrier filtering, is counted on the Agents page).

A callback whose URL names no message (older sends) is matched by its SID; one matching
neither is counted unmatched and applied to nothing. Effects follow only new events, so a
repeated 21610 after the lead texted START does not opt them out again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, parse_qsl, urlsplit

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.channels.twilio import MESSAGE_ID_PARAM
from app.services.carrier_refusals import OPTED_OUT, UNREACHABLE, Refusal, apply_refusals
from app.services.deliveries import SIGNED_URL, Applied, Delivery

ENDPOINT = "twilio/status"

ROW_STATUS = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "failed",
    "failed": "failed",
}
"""Twilio's MessageStatus → the outbox status it proves; statuses not here (read, canceled, received) are ignored."""
EVENT_TYPE = {"sent": "sent", "delivered": "delivered", "undelivered": "undelivered", "failed": "failed"}
"""The statuses stored as `message_events`."""
RANK = {"sent": 1, "delivered": 2, "failed": 2}


@dataclass(frozen=True)
class Callback:
    """One status callback, as Twilio posted it."""

    delivery_id: int
    message_id: int | None
    """Our `outbound_messages.id`, from the `m` of the signed URL."""
    sid: str
    status: str
    error_code: str | None
    at: datetime
    fields: dict[str, str]

    @property
    def event_key(self) -> str:
        return f"{self.sid}:{self.status}"

    @property
    def row_status(self) -> str:
        return ROW_STATUS[self.status]


@dataclass(frozen=True)
class Row:
    id: int
    tenant_id: int
    lead_id: int
    to_address: str
    provider_message_id: str | None


def apply_status(session: Session, deliveries: Sequence[Delivery]) -> dict[int, Applied]:
    """The applier of `twilio/status`: one set-based pass over the batch."""
    done: dict[int, Applied] = {}
    callbacks: list[Callback] = []
    for delivery in deliveries:
        callback = parse(delivery)
        if callback is None:
            done[delivery.id] = Applied(events=1, ignored=1, notes=["no MessageSid or MessageStatus"])
        elif callback.status not in ROW_STATUS:
            done[delivery.id] = Applied(events=1, ignored=1, notes=[f"status {callback.status!r} not acted on"])
        else:
            callbacks.append(callback)
    rows = _find_rows(session, callbacks)
    matched: list[tuple[Callback, Row]] = []
    for callback in callbacks:
        row = _match(callback, rows)
        if row is None:
            note = f"no SMS of ours with id {callback.message_id} or SID {callback.sid}"
            done[callback.delivery_id] = Applied(events=1, unmatched=1, notes=[note])
        else:
            matched.append((callback, row))
    fresh = _store_events(session, matched)
    new = {c.delivery_id for c, _ in fresh}
    for callback, _ in matched:
        is_new = callback.delivery_id in new
        done[callback.delivery_id] = Applied(events=1, applied=int(is_new), duplicates=int(not is_new))
    _move_rows(session, fresh)
    apply_refusals(session, _refusals(fresh))
    return done


def parse(delivery: Delivery) -> Callback | None:
    """The callback in a stored delivery, or None when it is not one."""
    fields = dict(parse_qsl(delivery.body, keep_blank_values=True))
    sid, status = (
        fields.get("MessageSid") or fields.get("SmsSid"),
        fields.get("MessageStatus") or fields.get("SmsStatus"),
    )
    if not sid or not status:
        return None
    return Callback(
        delivery_id=delivery.id,
        message_id=_message_id(delivery.headers.get(SIGNED_URL, "")),
        sid=sid,
        status=status.lower(),
        error_code=fields.get("ErrorCode") or None,
        at=delivery.received_at,
        fields=fields,
    )


def _message_id(url: str) -> int | None:
    values = parse_qs(urlsplit(url).query).get(MESSAGE_ID_PARAM, [])
    return int(values[0]) if values and values[0].isdigit() else None


_ROWS = text(
    """
    SELECT id, tenant_id, lead_id, to_address, provider_message_id FROM outbound_messages
    WHERE channel = 'sms' AND (id = ANY(CAST(:ids AS bigint[])) OR provider_message_id = ANY(CAST(:sids AS text[])))
    """
)


def _find_rows(session: Session, callbacks: Sequence[Callback]) -> dict[int | str, Row]:
    """Our SMS rows the callbacks name, by id and by SID."""
    if not callbacks:
        return {}
    ids = sorted({c.message_id for c in callbacks if c.message_id is not None})
    sids = sorted({c.sid for c in callbacks})
    found: dict[int | str, Row] = {}
    for record in session.execute(_ROWS, {"ids": ids, "sids": sids}).mappings():
        row = Row(**record)
        found[row.id] = row
        if row.provider_message_id:
            found[row.provider_message_id] = row
    return found


def _match(callback: Callback, rows: dict[int | str, Row]) -> Row | None:
    by_id = rows.get(callback.message_id) if callback.message_id is not None else None
    return by_id or rows.get(callback.sid)


_EVENTS = text(
    """
    INSERT INTO message_events (tenant_id, message_id, lead_id, channel, event_type, occurred_at,
                                provider_event_id, natural_key, payload)
    SELECT e.tenant_id, e.message_id, e.lead_id, 'sms', e.event_type, e.at, e.key, 'twilio:' || e.key, e.payload
    FROM unnest(CAST(:tenants AS bigint[]), CAST(:messages AS bigint[]), CAST(:leads AS bigint[]),
                CAST(:types AS text[]), CAST(:ats AS timestamptz[]), CAST(:keys AS text[]), CAST(:payloads AS jsonb[]))
         AS e(tenant_id, message_id, lead_id, event_type, at, key, payload)
    ON CONFLICT DO NOTHING
    RETURNING provider_event_id
    """
)


def _store_events(session: Session, matched: Sequence[tuple[Callback, Row]]) -> list[tuple[Callback, Row]]:
    """Store the new events; returns the callbacks not seen before (in this batch or an earlier one)."""
    firsts: dict[str, tuple[Callback, Row]] = {}
    for callback, row in matched:
        firsts.setdefault(callback.event_key, (callback, row))
    stored = [(c, r) for c, r in firsts.values() if c.status in EVENT_TYPE]
    inserted: set[str] = set()
    if stored:
        params = {
            "tenants": [r.tenant_id for _, r in stored],
            "messages": [r.id for _, r in stored],
            "leads": [r.lead_id for _, r in stored],
            "types": [EVENT_TYPE[c.status] for c, _ in stored],
            "ats": [c.at for c, _ in stored],
            "keys": [c.event_key for c, _ in stored],
            "payloads": [json.dumps(c.fields) for c, _ in stored],
        }
        inserted = set(session.execute(_EVENTS, params).scalars())
    # A status that is not an event (queued, sending) only ever moves a held row to sent: applying
    # it again changes nothing, so it needs no record to be recognised.
    return [(c, r) for key, (c, r) in firsts.items() if c.status not in EVENT_TYPE or key in inserted]


_MOVE = text(
    """
    UPDATE outbound_messages AS m
    SET status = CASE WHEN m.status = 'held' OR (m.status = 'sent' AND u.status <> 'sent') THEN u.status
                      ELSE m.status END,
        provider_message_id = CASE WHEN m.status = 'held' THEN coalesce(m.provider_message_id, u.sid)
                                   ELSE m.provider_message_id END,
        sent_at = CASE WHEN m.status = 'held' THEN coalesce(m.sent_at, u.at) ELSE m.sent_at END,
        delivered_at = CASE WHEN u.status = 'delivered' AND m.status IN ('held', 'sent') THEN u.at
                            ELSE m.delivered_at END,
        error_code = CASE WHEN u.status = 'failed' AND m.status IN ('held', 'sent') THEN u.error_code
                          WHEN u.status = 'failed' AND m.status = 'failed' THEN coalesce(m.error_code, u.error_code)
                          ELSE m.error_code END,
        last_error = CASE WHEN u.status = 'failed' AND m.status IN ('held', 'sent') THEN u.error
                          WHEN m.status = 'held' THEN NULL
                          ELSE m.last_error END,
        updated_at = now()
    FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:sids AS text[]),
                CAST(:ats AS timestamptz[]), CAST(:codes AS text[]), CAST(:errors AS text[]))
         AS u(id, status, sid, at, error_code, error)
    WHERE m.id = u.id AND m.status IN ('held', 'sent', 'failed')
    """
)


def _move_rows(session: Session, fresh: Sequence[tuple[Callback, Row]]) -> None:
    """Each row to the furthest status its new callbacks prove, never back; of two final ones, the first.

    A failure keeps Twilio's code on the row (`error_code`), where the Agents page counts 30007.
    """
    furthest: dict[int, Callback] = {}
    for callback, row in sorted(fresh, key=lambda pair: pair[0].delivery_id):
        best = furthest.get(row.id)
        if best is None or RANK[callback.row_status] > RANK[best.row_status]:
            furthest[row.id] = callback
    if not furthest:
        return
    ids = sorted(furthest)
    chosen = [furthest[i] for i in ids]
    session.execute(
        _MOVE,
        {
            "ids": ids,
            "statuses": [c.row_status for c in chosen],
            "sids": [c.sid for c in chosen],
            "ats": [c.at for c in chosen],
            "codes": [c.error_code if c.row_status == "failed" else None for c in chosen],
            "errors": [_failure_text(c) for c in chosen],
        },
    )


def _failure_text(callback: Callback) -> str | None:
    if callback.row_status != "failed":
        return None
    code = f" ({callback.error_code})" if callback.error_code else ""
    return f"Twilio {callback.status}{code}"


def _failed_with(fresh: Sequence[tuple[Callback, Row]], codes: set[str]) -> list[tuple[Callback, Row]]:
    return [(c, r) for c, r in fresh if c.row_status == "failed" and c.error_code in codes]


def _refusals(fresh: Sequence[tuple[Callback, Row]]) -> list[Refusal]:
    """The failed texts whose code says something about the lead (app/services/carrier_refusals.py)."""
    codes = {OPTED_OUT, *UNREACHABLE}
    return [Refusal(r.tenant_id, r.lead_id, r.to_address, c.error_code, c.at) for c, r in _failed_with(fresh, codes)]
