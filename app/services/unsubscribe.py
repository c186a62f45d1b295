"""The unsubscribe link: whom a token names, and honouring it within the request.

A token (`app/domain/unsubscribe.py`) names a tenant, a channel, a lead and a digest of the
address the message went to. The address it covers is the lead's current one when the digest
matches it, else one of the addresses we sent to that lead on that channel (the lead's email
may have changed since the message left). A token whose tenant or lead no longer exists, that
covers none of those addresses, or that is older than the tenant lets links work, names nobody:
the api answers it like a forged one.

Reading (`recipient`) changes nothing, for the confirmation page that link scanners fetch;
`unsubscribe` suppresses the address, stops the lead's recovery and records an `unsubscribe`
event (the dashboard's feed and the rollups count it like one SendGrid reports) in one
transaction, through `app/services/reactions.py`, and is idempotent: a second call adds no row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import runtime
from app.domain.unsubscribe import UnsubscribeClaim, claim_covers, mask_address, normalise_address, verify_token
from app.services import reactions
from app.services.reactions import StopEvent

SUPPRESSION_REASON = "unsubscribe"
SUPPRESSION_NOTE = "unsubscribe link or List-Unsubscribe one-click"


@dataclass(frozen=True)
class Recipient:
    """Who a genuine token names: the business they hear from, and the address that stops."""

    tenant_id: int
    lead_id: int
    channel: str
    business: str
    address: str
    unsubscribed: bool
    """The address is already on the tenant's suppression list for the channel (any reason)."""

    @property
    def masked_address(self) -> str:
        return mask_address(self.channel, self.address)


_LEAD = text(
    """
    SELECT t.name AS business, t.unsubscribe_link_days AS valid_days,
           CASE WHEN :channel = 'email' THEN l.email ELSE l.phone END AS current_address
    FROM leads l JOIN tenants t ON t.id = l.tenant_id
    WHERE l.tenant_id = :tenant_id AND l.id = :lead_id
    """
)

# ix_outbound_messages_lead: every address this lead was written to on the channel.
_SENT_TO = text(
    """
    SELECT DISTINCT m.to_address FROM outbound_messages m
    WHERE m.lead_id = :lead_id AND m.tenant_id = :tenant_id AND m.channel = :channel
    """
)

# The unsubscribe as an event of the last message to the address, once per address: the
# dashboard's feed and funnel, and the rollups' unsubscribed count, see a link unsubscribe like
# one SendGrid reports.
_EVENT = text(
    """
    INSERT INTO message_events (tenant_id, message_id, lead_id, channel, event_type, occurred_at, natural_key, payload)
    SELECT :tenant_id, (SELECT m.id FROM outbound_messages m
                        WHERE m.lead_id = :lead_id AND m.tenant_id = :tenant_id AND m.channel = :channel
                          AND lower(m.to_address) = lower(:address) AND m.sent_at IS NOT NULL
                        ORDER BY m.id DESC LIMIT 1),
           :lead_id, :channel, 'unsubscribe', :at,
           'unsubscribe-link:' || :tenant_id || ':' || :channel || ':' || lower(:address),
           jsonb_build_object('source', 'unsubscribe link')
    ON CONFLICT DO NOTHING
    """
)

_SUPPRESSED = text(
    "SELECT EXISTS (SELECT 1 FROM suppressions "
    "WHERE tenant_id = :tenant_id AND channel = :channel AND address = :address)"
)


def recipient(token: str, *, secret: str, at: datetime) -> Recipient | None:
    """Whom `token` names at `at`, or None for a forged, altered, expired or stale one; reads only."""
    claim = verify_token(secret, token)
    if claim is None:
        return None
    with runtime.session_scope() as session:
        return _resolve(session, claim, secret, at)


def unsubscribe(token: str, *, secret: str, at: datetime) -> Recipient | None:
    """Suppress the address `token` covers and stop the lead's recovery; None when it names nobody.

    One transaction: the suppression row (reason 'unsubscribe'; an existing row of any reason
    stays as it is), pending sends to the address marked suppressed, and every active
    enrollment of the lead stopped with a transition row (`StopEvent.UNSUBSCRIBED`).
    """
    claim = verify_token(secret, token)
    if claim is None:
        return None
    with runtime.session_scope() as session, session.begin():
        found = _resolve(session, claim, secret, at)
        if found is None:
            return None
        reactions.suppress(
            session,
            tenant_id=found.tenant_id,
            channel=found.channel,
            addresses=[found.address],
            reason=SUPPRESSION_REASON,
            note=SUPPRESSION_NOTE,
        )
        reactions.stop_enrollments(
            session,
            tenant_id=found.tenant_id,
            lead_ids=[found.lead_id],
            event=StopEvent.UNSUBSCRIBED,
            reason=f"the lead unsubscribed from {found.channel} by link",
            at=at,
        )
        session.execute(
            _EVENT,
            {
                "tenant_id": found.tenant_id,
                "lead_id": found.lead_id,
                "channel": found.channel,
                "address": found.address,
                "at": at,
            },
        )
    return replace(found, unsubscribed=True)


def _resolve(session: Session, claim: UnsubscribeClaim, secret: str, at: datetime) -> Recipient | None:
    """The claim's lead, business and covered address, as stored now; None once the link is
    older than its tenant lets links work (`tenants.unsubscribe_link_days`)."""
    ids = {"tenant_id": claim.tenant_id, "lead_id": claim.lead_id, "channel": claim.channel}
    lead = session.execute(_LEAD, ids).first()
    if lead is None or claim.expired(at.astimezone(UTC).date(), int(lead.valid_days)):
        return None
    address = _covered_address(session, claim, secret, lead.current_address)
    if address is None:
        return None
    suppressed = bool(session.execute(_SUPPRESSED, {**ids, "address": address}).scalar_one())
    return Recipient(
        tenant_id=claim.tenant_id,
        lead_id=claim.lead_id,
        channel=claim.channel,
        business=str(lead.business),
        address=address,
        unsubscribed=suppressed,
    )


def _covered_address(session: Session, claim: UnsubscribeClaim, secret: str, current: str | None) -> str | None:
    """The lead's current address if the token covers it, else the first address we sent to that it covers;
    normalised as the suppression list stores it."""
    if current and claim_covers(secret, claim, current):
        return normalise_address(claim.channel, current)
    ids = {"tenant_id": claim.tenant_id, "lead_id": claim.lead_id, "channel": claim.channel}
    for (sent_to,) in session.execute(_SENT_TO, ids):
        if sent_to and claim_covers(secret, claim, sent_to):
            return normalise_address(claim.channel, str(sent_to))
    return None
