"""Every webhook delivery is stored raw before anything else happens to it.

The route that receives a provider's POST writes one `webhook_deliveries` row with the exact
body and headers and the signature's verdict, commits, and only then answers 2xx: whatever
the applier later does (or fails to do), the provider's message is on disk and can be applied
again. A delivery the route rejects (bad signature, bad body) is stored too, as `rejected`,
so an operator can see what was refused and why; it is never applied.

Helpers here never commit; the route's service owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain import privacy

SIGNED_URL = "x-lre-signed-url"
"""Not a request header: the URL as the provider called it, which a route that verified it adds
to the stored headers. Twilio signs the URL, and a status callback's query names our message."""

KEPT_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "user-agent",
        "x-twilio-email-event-webhook-signature",
        "x-twilio-email-event-webhook-timestamp",
        "x-twilio-signature",
        "i-twilio-idempotency-token",
        SIGNED_URL,
    }
)
"""Headers worth keeping with a delivery (what verified it, what sent it); cookies and the rest are dropped."""


@dataclass(frozen=True)
class Delivery:
    """One stored delivery, as an applier receives it."""

    id: int
    provider: str
    endpoint: str
    body: str
    """The raw body; empty for endpoints whose applier reads it inside PostgreSQL
    (`webhook_apply.READ_IN_DATABASE`)."""
    headers: Mapping[str, str]
    received_at: datetime
    tenant_id: int | None = None


@dataclass
class Applied:
    """What applying one delivery did, stored on its row and shown on the Agents page."""

    events: int = 0
    applied: int = 0
    duplicates: int = 0
    unmatched: int = 0
    """Events naming no message or lead of ours: kept in the raw body, counted, never applied."""
    ignored: int = 0
    """Events of a kind we do not act on."""
    notes: list[str] = field(default_factory=list)


_RECORD = text(
    """
    INSERT INTO webhook_deliveries (tenant_id, provider, endpoint, headers, body, signature_valid, result, error)
    VALUES (:tenant_id, :provider, :endpoint, CAST(:headers AS jsonb), :body, :signature_valid, :result, :error)
    RETURNING id
    """
)


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() in KEPT_HEADERS}


def record_delivery(
    session: Session,
    *,
    provider: str,
    endpoint: str,
    headers: Mapping[str, str],
    body: str,
    signature_valid: bool | None,
    result: str = "received",
    error: str | None = None,
    tenant_id: int | None = None,
) -> int:
    """Store one delivery (`received` waits for the applier; `rejected` never will); returns its id."""
    params = {
        "tenant_id": tenant_id,
        "provider": provider,
        "endpoint": endpoint,
        "headers": json.dumps(kept_headers(headers)),
        "body": body,
        "signature_valid": signature_valid,
        "result": result,
        "error": privacy.scrub_contacts(error),
    }
    return int(session.execute(_RECORD, params).scalar_one())


_MARK_APPLIED = text(
    """
    UPDATE webhook_deliveries
    SET result = 'applied', applied_at = clock_timestamp(), updated_at = now(), event_count = :events,
        applied_count = :applied, duplicate_count = :duplicates, unmatched_count = :unmatched,
        ignored_count = :ignored, error = :note
    WHERE id = :id
    """
)


def mark_applied(session: Session, delivery_id: int, applied: Applied) -> None:
    """A delivery applied within its own request (inbound texts and emails): its counts, in the same commit."""
    session.execute(
        _MARK_APPLIED,
        {
            "id": delivery_id,
            "events": applied.events,
            "applied": applied.applied,
            "duplicates": applied.duplicates,
            "unmatched": applied.unmatched,
            "ignored": applied.ignored,
            "note": privacy.scrub_contacts("; ".join(applied.notes) or None),
        },
    )
