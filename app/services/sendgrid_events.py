"""The SendGrid event webhook's door: verify, store raw, ask for an applier run, answer.

SendGrid signs every POST with ECDSA P-256 over the timestamp header followed by the raw body;
`webhook_public_key()` is the key of that pair (Mail Settings → Signed Event Webhook). The
verdict comes from the SDK's own verifier (`sendgrid.helpers.eventwebhook.EventWebhook`,
which uses `cryptography`: about 0.7 ms for a 340 kB batch of 1,000 events). Unsigned events
are never accepted: with no key configured every POST is refused (403), so turning the
webhook on in SendGrid before setting the key loses nothing but a retry.

What is refused is stored too (`rejected`, with why; its first 64 kB), so an operator can see
it on the Agents page; what is accepted is stored whole (`received`) and committed before the
2xx, so PostgreSQL being down answers 503 and SendGrid retries. Applying is the applier's
job (app/services/sendgrid_apply.py), run by a worker.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from redis.exceptions import RedisError
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app import runtime, webhook_keys
from app.domain.sendgrid_events import MalformedBatch, parse_batch
from app.services.deliveries import record_delivery
from app.services.sendgrid_apply import ENDPOINT
from app.services.webhook_apply import request_apply
from app.settings import get_settings

log = logging.getLogger(__name__)

PROVIDER = "sendgrid"
SIGNATURE_HEADER = EventWebhookHeader.SIGNATURE
TIMESTAMP_HEADER = EventWebhookHeader.TIMESTAMP
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_CLOCK_SKEW = timedelta(minutes=5)
REJECTED_BODY_KEPT = 64 * 1024
"""Characters of a refused body kept for the operator: enough to see what it was, while a flood
of unsigned 5 MB posts cannot fill the disk."""
ACCEPTED_TYPE = "application/json"
_PEM_ARMOUR = re.compile(r"-----(BEGIN|END) PUBLIC KEY-----|\s+")

SessionFactory = Callable[[], Session]


@dataclass(frozen=True)
class Receipt:
    """What the door decided: the HTTP status, and what the answer's body says."""

    status: int
    accepted: int = 0
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted} if self.status == 200 else {"error": self.error}


def webhook_public_key() -> str | None:
    """The base64 public key that verifies SendGrid's signatures; None when none is configured.

    The only place the key is looked up: SENDGRID_WEBHOOK_PUBLIC_KEY, or the demo's own key pair
    (`app/webhook_keys.py`) while EMAIL_PROVIDER=sandbox and none is set. PEM armour and line
    breaks pasted with the key are dropped.
    """
    configured = webhook_keys.sendgrid_public_key(get_settings())
    key = _PEM_ARMOUR.sub("", configured or "")
    return key or None


@functools.lru_cache(maxsize=8)
def verifier(public_key: str) -> EventWebhook | None:
    """The SDK's verifier for a key, or None when the key is not a P-256 public key (logged)."""
    try:
        webhook = EventWebhook(public_key)
    except (ValueError, TypeError) as error:
        log.error("SENDGRID_WEBHOOK_PUBLIC_KEY is not a base64 public key (%s): every event is refused", error)
        return None
    key = webhook.public_key
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        log.error("SENDGRID_WEBHOOK_PUBLIC_KEY is not an ECDSA P-256 key: every event is refused")
        return None
    return webhook


def signature_problem(
    *, public_key: str | None, text: str, signature: str | None, timestamp: str | None, now: datetime
) -> str | None:
    """Why the delivery cannot be trusted, or None when SendGrid signed it within the last 5 minutes."""
    if public_key is None:
        return "no SENDGRID_WEBHOOK_PUBLIC_KEY is configured: unsigned events are never accepted"
    check = verifier(public_key)
    if check is None:
        return "SENDGRID_WEBHOOK_PUBLIC_KEY is not an ECDSA P-256 public key"
    if not signature or not timestamp:
        return f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER}"
    stamp = timestamp.strip()
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        return "the timestamp header is not Unix seconds"
    if abs(now.timestamp() - int(stamp)) > MAX_CLOCK_SKEW.total_seconds():
        return "the timestamp is more than 5 minutes from now (a replay, or a clock far off)"
    try:
        valid = check.verify_signature(text, signature, timestamp)
    except ValueError:  # not base64 (binascii.Error), or not ASCII
        valid = False
    return None if valid else "the signature does not match the body and timestamp"


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def receive(sessions: SessionFactory, *, headers: Mapping[str, str], body: bytes, now: datetime) -> Receipt:
    """Judge one POST, store it (accepted or refused), and for an accepted one ask for an applier run."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if len(body) > MAX_BODY_BYTES:
        return refuse_oversized(sessions, headers)
    if media_type(lowered.get("content-type")) != ACCEPTED_TYPE:
        return refuse(sessions, headers, body, status=415, error=f"content type must be {ACCEPTED_TYPE}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return refuse(sessions, headers, body, status=400, error="the body is not UTF-8")
    problem = signature_problem(
        public_key=webhook_public_key(),
        text=text,
        signature=lowered.get(SIGNATURE_HEADER.lower()),
        timestamp=lowered.get(TIMESTAMP_HEADER.lower()),
        now=now,
    )
    if problem is not None:
        log.warning("SendGrid event webhook refused: %s", problem)
        return refuse(sessions, headers, body, status=403, error=problem, signature_valid=False, shown="forbidden")
    try:
        events = parse_batch(text)
    except MalformedBatch as error:
        return refuse(sessions, headers, body, status=400, error=str(error), signature_valid=True)
    return accept(sessions, headers, text, len(events))


def accept(sessions: SessionFactory, headers: Mapping[str, str], text: str, events: int) -> Receipt:
    """Store the trusted delivery and commit before answering; 503 when PostgreSQL cannot take it."""
    try:
        with sessions() as session, session.begin():
            record_delivery(
                session, provider=PROVIDER, endpoint=ENDPOINT, headers=headers, body=text, signature_valid=True
            )
    except SQLAlchemyError as error:
        log.error("SendGrid events not stored (answered 503, SendGrid retries): %s", first_line(error))
        return Receipt(503, error="the events could not be stored; retry later")
    try:
        request_apply(runtime.redis_client())
    except RedisError as error:  # stored: the listener's minute sweep applies it
        log.warning("SendGrid events stored, applier not queued (the sweep applies them): %s", error)
    return Receipt(200, accepted=events)


def refuse(
    sessions: SessionFactory,
    headers: Mapping[str, str],
    body: bytes,
    *,
    status: int,
    error: str,
    signature_valid: bool | None = None,
    shown: str | None = None,
) -> Receipt:
    """Log a refused delivery (best effort: the verdict stands even when PostgreSQL is down)."""
    kept = body[:REJECTED_BODY_KEPT].decode("utf-8", "replace").replace("\x00", "\ufffd")
    try:
        with sessions() as session, session.begin():
            record_delivery(
                session,
                provider=PROVIDER,
                endpoint=ENDPOINT,
                headers=headers,
                body=kept,
                signature_valid=signature_valid,
                result="rejected",
                error=error,
            )
    except SQLAlchemyError as failure:
        log.warning("a refused SendGrid delivery was not logged: %s", first_line(failure))
    return Receipt(status, error=shown or error)


def refuse_oversized(sessions: SessionFactory, headers: Mapping[str, str]) -> Receipt:
    """A body over 5 MB is refused unread; its row says so, without the body."""
    return refuse(sessions, headers, b"", status=413, error=f"body over {MAX_BODY_BYTES // (1024 * 1024)} MB")


def first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
