"""A text from a lead (`POST /webhooks/twilio/sms`), stored and applied within the request.

Why not through the applier like status callbacks: texts are few, a STOP must take effect
before anything else is sent, and the answer (the STOP confirmation, the HELP text) goes back
in the response as TwiML. The raw delivery is stored in the same transaction, marked applied.

Whose text is it? Numbers are shared: tenants without their own `sender_phone` all send from
TWILIO_FROM_NUMBER. So the text belongs to the tenant whose SMS most recently went to `From`
from the number `To` (through the tenant's leads with that phone, which the phone index finds).
When no tenant ever texted `From`, the tenants whose own `sender_phone` is `To` take it. When
none match, the delivery is stored, counted unmatched, answered with an empty TwiML and
nothing is applied: we never wrote to that number from that sender, so there is nothing to
stop, and a HELP answer would have to guess whose business to name.

What it does:
- an opt-out word suppresses the number for the tenant(s) (reason 'stop'), which marks its
  pending texts suppressed, stops the recovery of the tenant's leads with that phone, records
  an `unsubscribe` event on the last text we sent them (once per MessageSid), and answers one
  confirmation naming the business;
- HELP/INFO answers the business's name and contact; START/UNSTOP lifts a 'stop'
  suppression and confirms;
- anything else is a reply, for the first (most recent) tenant only, taken as every reply is
  (`inbound_reply.py`): an `inbound_messages` row (once per MessageSid), an `sms_in` activity
  that resets the lead's silence, triage, and the lead's recovery stopped as replied (held
  until the return date instead, for an out-of-office auto-reply).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.sms_keywords import (
    Keyword,
    classify,
    help_answer,
    normalise,
    opt_in_confirmation,
    opt_out_confirmation,
)
from app.services import inbound_reply, reactions
from app.services.deliveries import Applied, mark_applied, record_delivery
from app.services.reactions import StopEvent

ENDPOINT = "twilio/sms"


@dataclass(frozen=True)
class InboundSms:
    sid: str
    from_number: str
    to_number: str
    body: str
    received_at: datetime


@dataclass(frozen=True)
class TenantMatch:
    """A tenant the text is for, and what we know of the sender there."""

    tenant_id: int
    business: str
    contact: str
    email: str
    phone: str
    lead_id: int | None
    """The lead the last text to `From` went to, else the tenant's most recently active lead with that phone."""
    message_id: int | None
    """Our last text to `From` in this tenant."""


@dataclass
class Outcome:
    """What the request did: the text to answer with, and whose scores changed."""

    keyword: Keyword
    reply: str | None = None
    tenant_ids: list[int] = field(default_factory=list)
    rescore: list[tuple[int, int]] = field(default_factory=list)
    """(tenant, lead) pairs whose activity changed: rescored once the transaction committed."""
    applied: Applied = field(default_factory=lambda: Applied(events=1))


def receive(
    session: Session, sms: InboundSms, *, default_from: str | None, headers: Mapping[str, str], body: str
) -> Outcome:
    """Store the delivery and apply the text, in the caller's transaction."""
    matches = resolve_tenants(session, sms, default_from=default_from)
    delivery_id = record_delivery(
        session,
        provider="twilio",
        endpoint=ENDPOINT,
        headers=headers,
        body=body,
        signature_valid=True,
        tenant_id=matches[0].tenant_id if matches else None,
    )
    outcome = Outcome(keyword=classify(sms.body), tenant_ids=[m.tenant_id for m in matches])
    if not matches:
        outcome.applied = Applied(
            events=1, unmatched=1, notes=[f"no tenant texts {sms.from_number} from {sms.to_number}"]
        )
    elif outcome.keyword is Keyword.OPT_OUT:
        _opt_out(session, sms, matches, outcome)
    elif outcome.keyword is Keyword.OPT_IN:
        _opt_in(session, sms, matches, outcome)
    elif outcome.keyword is Keyword.HELP:
        first = matches[0]
        outcome.reply = help_answer(first.business, contact=first.contact, email=first.email, phone=first.phone)
        outcome.applied = Applied(events=1, applied=1)
    else:
        _reply(session, sms, matches[0], outcome)
    mark_applied(session, delivery_id, outcome.applied)
    return outcome


_LAST_TEXTED = text(
    """
    SELECT t.id AS tenant_id, m.lead_id, m.id AS message_id
    FROM tenants AS t
    JOIN leads AS l ON l.tenant_id = t.id AND l.phone = :sender
    JOIN outbound_messages AS m ON m.lead_id = l.id AND m.tenant_id = t.id
    WHERE coalesce(t.sender_phone, CAST(:default_from AS text)) = :number
      AND m.channel = 'sms' AND m.to_address = :sender AND (m.sent_at IS NOT NULL OR m.status = 'held')
    ORDER BY coalesce(m.sent_at, m.claimed_at, m.created_at) DESC, m.id DESC
    LIMIT 1
    """
)

_OWN_NUMBER = text(
    """
    SELECT t.id AS tenant_id,
           (SELECT l.id FROM leads AS l WHERE l.tenant_id = t.id AND l.phone = :sender
            ORDER BY l.last_activity_at DESC, l.id DESC LIMIT 1) AS lead_id,
           CAST(NULL AS bigint) AS message_id
    FROM tenants AS t WHERE t.sender_phone = :number ORDER BY t.id
    """
)

_TENANTS = text(
    """
    SELECT id, name, sender_name, sender_email, coalesce(sender_phone, :number) AS phone
    FROM tenants WHERE id = ANY(CAST(:ids AS bigint[]))
    """
)


def resolve_tenants(session: Session, sms: InboundSms, *, default_from: str | None) -> list[TenantMatch]:
    """The tenant(s) the text is for, the most likely first; empty when none sends from `To` to `From`."""
    params = {"sender": sms.from_number, "number": sms.to_number, "default_from": default_from}
    found = session.execute(_LAST_TEXTED, params).mappings().all()
    if not found:
        found = session.execute(_OWN_NUMBER, params).mappings().all()
    if not found:
        return []
    ids = [row["tenant_id"] for row in found]
    tenants = {t.id: t for t in session.execute(_TENANTS, {"ids": ids, "number": sms.to_number})}
    return [
        TenantMatch(
            tenant_id=row["tenant_id"],
            business=tenants[row["tenant_id"]].name,
            contact=tenants[row["tenant_id"]].sender_name,
            email=tenants[row["tenant_id"]].sender_email,
            phone=tenants[row["tenant_id"]].phone,
            lead_id=row["lead_id"],
            message_id=row["message_id"],
        )
        for row in found
    ]


_LEADS_WITH_PHONE = text("SELECT id FROM leads WHERE tenant_id = :tenant_id AND phone = :phone ORDER BY id")

_UNSUBSCRIBE_EVENT = text(
    """
    INSERT INTO message_events (tenant_id, message_id, lead_id, channel, event_type, occurred_at,
                                provider_event_id, natural_key, payload)
    VALUES (:tenant_id, :message_id, :lead_id, 'sms', 'unsubscribe', :at, :key, 'twilio:' || :key,
            CAST(:payload AS jsonb))
    ON CONFLICT DO NOTHING
    """
)


def _opt_out(session: Session, sms: InboundSms, matches: Sequence[TenantMatch], outcome: Outcome) -> None:
    reason = f"texted {normalise(sms.body)}"
    for match in matches:
        reactions.suppress(
            session, tenant_id=match.tenant_id, channel="sms", addresses=[sms.from_number], reason="stop", note=reason
        )
        leads = list(
            session.execute(_LEADS_WITH_PHONE, {"tenant_id": match.tenant_id, "phone": sms.from_number}).scalars()
        )
        reactions.stop_enrollments(
            session,
            tenant_id=match.tenant_id,
            lead_ids=leads,
            event=StopEvent.STOPPED,
            reason=reason,
            at=sms.received_at,
        )
        if match.message_id is not None:
            session.execute(
                _UNSUBSCRIBE_EVENT,
                {
                    "tenant_id": match.tenant_id,
                    "message_id": match.message_id,
                    "lead_id": match.lead_id,
                    "at": sms.received_at,
                    "key": f"{sms.sid}:stop",
                    "payload": '{"keyword": "stop"}',
                },
            )
    outcome.reply = opt_out_confirmation(matches[0].business)
    outcome.applied = Applied(events=1, applied=1)


def _opt_in(session: Session, sms: InboundSms, matches: Sequence[TenantMatch], outcome: Outcome) -> None:
    for match in matches:
        reactions.unsuppress(
            session, tenant_id=match.tenant_id, channel="sms", address=sms.from_number, reasons=["stop"]
        )
    outcome.reply = opt_in_confirmation(matches[0].business)
    outcome.applied = Applied(events=1, applied=1)


def _reply(session: Session, sms: InboundSms, match: TenantMatch, outcome: Outcome) -> None:
    """A reply, taken as every reply is (`inbound_reply.take`), for the most likely tenant."""
    reply = inbound_reply.Reply(
        tenant_id=match.tenant_id,
        lead_id=match.lead_id,
        message_id=match.message_id,
        channel="sms",
        sender=sms.from_number,
        body=sms.body,
        provider_key=sms.sid,
        received_at=sms.received_at,
    )
    taken = inbound_reply.take(session, reply)
    if taken.inbound_message_id is None:
        outcome.applied = Applied(events=1, duplicates=1)
        return
    outcome.applied = Applied(events=1, applied=1)
    if match.lead_id is None:
        outcome.applied.notes.append("no lead with that phone: stored for a person to read")
        return
    outcome.rescore.append((match.tenant_id, match.lead_id))
