"""`POST /webhooks/sendgrid/events`: SendGrid's signed event webhook (delivered, open, click, bounce, ...).

The route reads the raw body itself, capped at 5 MB while it streams (the signature covers the
exact bytes, and an oversized body is refused before it is all in memory), then hands it to
app/services/sendgrid_events.py, which verifies, stores and answers. That work is blocking
(ECDSA, PostgreSQL), so it runs in the thread pool and never stalls the event loop.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from app import runtime
from app.services import sendgrid_events
from app.services.sendgrid_events import MAX_BODY_BYTES, SessionFactory

router = APIRouter(tags=["webhooks"])


def delivery_sessions() -> SessionFactory:
    """Where deliveries are stored: this process's database (a test may point it at an unreachable one)."""
    return runtime.session_factory()


def webhook_clock() -> datetime:
    """Now, for the signature's 5-minute window (a test pins it)."""
    return datetime.now(UTC)


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The raw body, or None as soon as it is known to exceed `limit` (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


_ERROR: dict[str, Any] = {"content": {"application/json": {"example": {"error": "why"}}}}
REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "SendGrid's JSON array of events, signed (ECDSA P-256 over the timestamp header + body).",
        "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}},
    }
}


@router.post(
    "/webhooks/sendgrid/events",
    summary="SendGrid event webhook",
    openapi_extra=REQUEST_BODY,
    responses={
        200: {"content": {"application/json": {"example": {"accepted": 1000}}}, "description": "Stored."},
        400: {**_ERROR, "description": "Not UTF-8, malformed JSON, or not an array of objects."},
        403: {**_ERROR, "description": "Signature missing or wrong, timestamp over 5 minutes off, or no key set."},
        413: {**_ERROR, "description": "Body over 5 MB."},
        415: {**_ERROR, "description": "Content type other than application/json."},
        503: {**_ERROR, "description": "The database could not store the events; SendGrid retries."},
    },
)
async def sendgrid_event_webhook(
    request: Request,
    sessions: Annotated[SessionFactory, Depends(delivery_sessions)],
    now: Annotated[datetime, Depends(webhook_clock)],
) -> JSONResponse:
    """Receive a batch of SendGrid events (delivered, open, click, bounce, dropped, spam report,
    unsubscribe, ...). The signature is verified with `SENDGRID_WEBHOOK_PUBLIC_KEY` over the
    `X-Twilio-Email-Event-Webhook-Timestamp` header plus the raw body, and the timestamp must be
    within 5 minutes; unsigned events are never accepted. A trusted batch is stored whole and
    answered 200 with the number of events; a worker then applies it (message statuses,
    timeline, suppressions). Refused deliveries are logged too, and never applied."""
    headers = dict(request.headers)
    body = await read_capped(request, MAX_BODY_BYTES)
    if body is None:
        receipt = await run_in_threadpool(sendgrid_events.refuse_oversized, sessions, headers)
    else:
        receipt = await run_in_threadpool(sendgrid_events.receive, sessions, headers=headers, body=body, now=now)
    return JSONResponse(receipt.as_json(), status_code=receipt.status)
