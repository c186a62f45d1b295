"""SendGrid Inbound Parse: `POST /webhooks/sendgrid/inbound/{secret}`, an email a lead sent us.

Inbound Parse is not signed, so the path carries a long random per-installation secret
(`SENDGRID_INBOUND_SECRET`, made under DATA_DIR in the sandboxed demo): a wrong one is 404,
as for any path we do not serve, and nothing is stored. The body is SendGrid's multipart form
(`from`, `to`, `subject`, `text`, `html`, `headers`, `envelope`, attachments): 415 for anything
else, 413 over SendGrid's own 30 MB, 400 when it does not parse or names no sender; each
refusal is stored as a rejected delivery and changes nothing else. Attachments are dropped
before anything is stored: the delivery keeps the text fields only.

A matched reply is applied within the request (`app/services/email_inbound.py`) and answered
200; if PostgreSQL cannot store it the answer is 5xx, so SendGrid retries.
"""

from __future__ import annotations

import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from app import runtime, webhook_keys
from app.domain import email_reply
from app.services import email_inbound, score_requests
from app.services.deliveries import record_delivery
from app.settings import Settings
from app.web.twilio import Refused, webhook_settings

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"])

MAX_BODY_BYTES = 30 * 1024 * 1024
"""SendGrid's own limit for a parsed message, attachments included."""
MULTIPART = "multipart/form-data"
TEXT_FIELDS = ("from", "to", "cc", "subject", "text", "html", "headers", "envelope", "charsets", "SPF", "dkim")
MAX_FIELD_CHARS = 1024 * 1024
"""Per text field kept in the stored delivery: a 20 MB html body is not a reply."""
NUL_SHOWN = "\ufffd"
"""What a NUL in an email becomes: PostgreSQL's text cannot hold it (once a 500 that lost the reply)."""


def clock() -> datetime:
    """When an email arrived, as a dependency a test can pin."""
    return datetime.now(UTC)


@router.post(
    "/webhooks/sendgrid/inbound/{secret}",
    summary="SendGrid Inbound Parse",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "SendGrid's parsed email (from, to, subject, text, html, headers, envelope, ...), read by "
            "the route itself; the OpenAPI says so, else it would ask for no body (found by the schemathesis fuzz).",
            "content": {MULTIPART: {"schema": {"type": "object", "additionalProperties": {"type": "string"}}}},
        }
    },
    responses={
        200: {"description": 'Stored and applied: `{"matched": bool}`.'},
        400: {"description": "Not a parseable email form (stored as rejected)."},
        404: {"description": "Wrong secret: nothing stored."},
        413: {"description": "Over 30 MB (stored as rejected, without the body)."},
        415: {"description": "Not multipart/form-data (stored as rejected)."},
    },
)
async def inbound_email(
    secret: str,
    request: Request,
    settings: Annotated[Settings, Depends(webhook_settings)],
    now: Annotated[datetime, Depends(clock)],
) -> Response:
    """An email a lead sent to one of our Reply-To addresses: stored, its lead's silence reset, recovery stopped."""
    expected = webhook_keys.sendgrid_inbound_secret(settings)
    if expected is None or not hmac.compare_digest(secret.encode(), expected.encode()):
        return PlainTextResponse("Not Found", status_code=404)
    headers = dict(request.headers)
    try:
        fields = await _read_fields(request)
    except Refused as refused:
        await run_in_threadpool(_store_rejected, headers, refused.body, refused.reason)
        return PlainTextResponse(refused.reason, status_code=refused.status)
    body = json.dumps(fields, ensure_ascii=False)
    senders = email_reply.addresses(fields.get("from", ""))
    if not senders:
        reason = "not an inbound email: no sender address in `from`"
        await run_in_threadpool(_store_rejected, headers, body, reason)
        return PlainTextResponse(reason, status_code=400)
    email = email_inbound.InboundEmail(
        sender=senders[0],
        recipients=email_reply.addresses(fields.get("to", "")) + _envelope_recipients(fields.get("envelope", "")),
        subject=fields.get("subject", ""),
        text=fields.get("text") or email_reply.html_text(fields.get("html", "")),
        raw_headers=fields.get("headers", ""),
        received_at=now,
    )
    secret_key = settings.secret_key.get_secret_value()
    outcome = await run_in_threadpool(_apply, email, headers, body, secret_key)
    return JSONResponse({"matched": outcome.tenant_id is not None})


async def _read_fields(request: Request) -> dict[str, str]:
    """The text fields of the form, attachments dropped; Refused (415, 413, 400) otherwise."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != MULTIPART:
        raise Refused(415, f"expected {MULTIPART}, got {media_type or 'no content type'}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refused(413, f"body of {declared} bytes is over the {MAX_BODY_BYTES} byte limit")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise Refused(413, f"body is over the {MAX_BODY_BYTES} byte limit")
    request._body = bytes(raw)  # form() re-reads the body we already drained
    try:
        form = await request.form(max_files=100, max_fields=1000)
    except (MultiPartException, HTTPException, ValueError) as error:  # starlette turns its own into a 400
        raise Refused(
            400, f"malformed multipart body: {error}", raw[:65536].decode("utf-8", "replace").replace("\x00", NUL_SHOWN)
        ) from None
    fields: dict[str, str] = {}
    attachments = 0
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            attachments += 1
        elif name in TEXT_FIELDS:
            fields[name] = value[:MAX_FIELD_CHARS].replace("\x00", NUL_SHOWN)
    await form.close()
    if attachments:
        fields["attachments_dropped"] = str(attachments)
    return fields


def _envelope_recipients(envelope: str) -> list[str]:
    """SendGrid's `envelope` is JSON `{"to": [...], "from": "..."}`; a malformed one adds nothing."""
    try:
        parsed: Any = json.loads(envelope) if envelope else {}
    except ValueError:
        return []
    recipients = parsed.get("to") if isinstance(parsed, dict) else None
    return [str(r).lower() for r in recipients] if isinstance(recipients, list) else []


def _store_rejected(headers: dict[str, str], body: str, reason: str) -> None:
    with runtime.session_scope() as session, session.begin():
        record_delivery(
            session,
            provider="sendgrid",
            endpoint=email_inbound.ENDPOINT,
            headers=headers,
            body=body,
            signature_valid=None,
            result="rejected",
            error=reason,
        )


def _apply(
    email: email_inbound.InboundEmail, headers: dict[str, str], body: str, secret_key: str
) -> email_inbound.Outcome:
    with runtime.session_scope() as session, session.begin():
        outcome = email_inbound.receive(session, email, secret_key=secret_key, headers=headers, body=body)
    for tenant_id, lead_id in outcome.rescore:
        try:
            score_requests.request_rescore(runtime.redis_client(), tenant_id=tenant_id, lead_ids=[lead_id])
        except RedisError as error:  # the score catches up at the next full rescore
            log.warning("email reply stored, rescore not requested: %s", error)
    return outcome
