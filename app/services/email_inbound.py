"""An email from a lead (SendGrid Inbound Parse), stored and applied within the request.

Like an SMS reply (`twilio_inbound.py`): the raw delivery is stored in the same transaction,
marked applied, and a reply is taken as every reply is (`inbound_reply.py`): an
`inbound_messages` row (channel email, once per Message-ID), an `email_in` activity that
resets the lead's silence, triage, and the lead's recovery stopped as replied (held until the
return date instead, for an out-of-office auto-reply).

Which message does it answer? First the per-message Reply-To we set, `reply+<token>@…`, whose
signed token names the tenant and our message (`app/domain/reply_address.py`); a forged or
stale token matches nothing. Else In-Reply-To/References: SendGrid's Message-ID starts with
the X-Message-Id it answered our request with (`<id>.filter…@…`), which is on our row; a
batch shares it, so the sender's address must also be the one we wrote to. When neither
matches, the delivery is stored, counted unmatched, and nothing else changes.

Only the lead's own words are kept (`app/domain/email_reply.py`); attachments never reach here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain import email_reply, reply_address
from app.services import inbound_reply
from app.services.deliveries import Applied, mark_applied, record_delivery

ENDPOINT = "sendgrid/inbound"


@dataclass(frozen=True)
class InboundEmail:
    """What of SendGrid's parsed email we use; `recipients` are To plus the envelope's, lower-cased."""

    sender: str
    recipients: list[str]
    subject: str
    text: str
    raw_headers: str
    received_at: datetime

    @property
    def message_key(self) -> str:
        """The Message-ID, else a digest of what identifies this email: a retried delivery is stored once."""
        found = email_reply.message_ids(email_reply.header_value(self.raw_headers, "Message-ID"))
        if found:
            return f"email:{found[0]}"
        digest = hashlib.sha256(f"{self.sender}\n{self.raw_headers}\n{self.text}".encode()).hexdigest()
        return f"email:sha256:{digest}"


@dataclass(frozen=True)
class Match:
    tenant_id: int
    lead_id: int | None
    message_id: int


@dataclass
class Outcome:
    applied: Applied = field(default_factory=lambda: Applied(events=1))
    inbound_message_id: int | None = None
    tenant_id: int | None = None
    rescore: list[tuple[int, int]] = field(default_factory=list)


_BY_ID = text(
    """
    SELECT tenant_id, lead_id, id AS message_id FROM outbound_messages
    WHERE id = :message_id AND tenant_id = :tenant_id AND channel = 'email'
    """
)

_BY_PROVIDER_ID = text(
    """
    SELECT tenant_id, lead_id, id AS message_id FROM outbound_messages
    WHERE provider_message_id = ANY(CAST(:ids AS text[])) AND channel = 'email' AND lower(to_address) = :sender
    ORDER BY coalesce(sent_at, created_at) DESC, id DESC
    LIMIT 1
    """
)


def resolve(session: Session, email: InboundEmail, *, secret_key: str) -> Match | None:
    """Our message the email answers: by the signed Reply-To, else by In-Reply-To/References."""
    claim = reply_address.claim_from_addresses(secret_key, email.recipients)
    if claim is not None:
        row = session.execute(_BY_ID, {"message_id": claim.message_id, "tenant_id": claim.tenant_id}).first()
        if row is not None:
            return Match(tenant_id=row.tenant_id, lead_id=row.lead_id, message_id=row.message_id)
    references = email_reply.message_ids(
        email_reply.header_value(email.raw_headers, "References"),
        email_reply.header_value(email.raw_headers, "In-Reply-To"),
    )
    candidates = [ref.partition("@")[0].partition(".")[0] for ref in references] + references
    if not candidates:
        return None
    row = session.execute(_BY_PROVIDER_ID, {"ids": candidates, "sender": email.sender.lower()}).first()
    return None if row is None else Match(tenant_id=row.tenant_id, lead_id=row.lead_id, message_id=row.message_id)


def receive(
    session: Session, email: InboundEmail, *, secret_key: str, headers: Mapping[str, str], body: str
) -> Outcome:
    """Store the delivery and apply the email, in the caller's transaction."""
    match = resolve(session, email, secret_key=secret_key)
    delivery_id = record_delivery(
        session,
        provider="sendgrid",
        endpoint=ENDPOINT,
        headers=headers,
        body=body,
        signature_valid=True,
        tenant_id=match.tenant_id if match else None,
    )
    outcome = Outcome(tenant_id=match.tenant_id if match else None)
    if match is None:
        outcome.applied = Applied(events=1, unmatched=1, notes=[f"no message of ours answered by {email.sender}"])
    else:
        _reply(session, email, match, outcome)
    mark_applied(session, delivery_id, outcome.applied)
    return outcome


def _reply(session: Session, email: InboundEmail, match: Match, outcome: Outcome) -> None:
    """The lead's own words, taken as every reply is (`inbound_reply.take`)."""
    reply = inbound_reply.Reply(
        tenant_id=match.tenant_id,
        lead_id=match.lead_id,
        message_id=match.message_id,
        channel="email",
        sender=email.sender.lower(),
        body=email_reply.strip_reply(email.text),
        provider_key=email.message_key,
        received_at=email.received_at,
    )
    taken = inbound_reply.take(session, reply)
    if taken.inbound_message_id is None:
        outcome.applied = Applied(events=1, duplicates=1)
        return
    outcome.inbound_message_id = taken.inbound_message_id
    outcome.applied = Applied(events=1, applied=1)
    if match.lead_id is not None:
        outcome.rescore.append((match.tenant_id, match.lead_id))
