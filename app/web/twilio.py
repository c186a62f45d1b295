"""Twilio's doors: `POST /webhooks/twilio/status` (delivery reports) and `/webhooks/twilio/sms` (texts in).

Both take only what Twilio sends: a form-encoded body (415 otherwise; 400 when it does not
parse; 413 over 5 MB) signed with `X-Twilio-Signature` over the URL as Twilio called it
(403 when the signature is missing or wrong, or no auth token is configured). Every request
is stored in `webhook_deliveries`, a refused one as `rejected` with why, and nothing else
changes for it.

A status callback is stored and answered 204 at once; the listener applies it in bulk
(`app/services/twilio_status.py`). A text is applied within the request
(`app/services/twilio_inbound.py`) and answered with TwiML: one `<Message>` for STOP, HELP or
START, an empty `<Response/>` for anything else. If PostgreSQL cannot store the delivery the
route answers 503, never 2xx, so Twilio retries (or uses the fallback URL).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from twilio.twiml.messaging_response import MessagingResponse

from app import runtime
from app.services import score_requests, twilio_inbound, twilio_signature, twilio_status, webhook_apply
from app.services.deliveries import SIGNED_URL, record_delivery
from app.services.sendgrid_events import first_line
from app.services.twilio_inbound import InboundSms
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"])

MAX_BODY_BYTES = 5 * 1024 * 1024
FORM = "application/x-www-form-urlencoded"
MAX_FIELDS = 1000
TWIML = "text/xml"


REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not a well-formed form, or a field holds NUL (stored as rejected)."},
    403: {"description": "X-Twilio-Signature missing or wrong, or no auth token configured (stored as rejected)."},
    413: {"description": "The body is over 5 MB (stored as rejected, without the body)."},
    415: {"description": "Not application/x-www-form-urlencoded (stored as rejected)."},
    503: {"description": "The database could not take the request (a restart, a failover); Twilio retries."},
}
UNSTORED = "the request could not be stored; retry later"

NO_NUL = "^[^\\u0000]*$"
"""A form's names and values: any text but NUL, which PostgreSQL's text cannot hold (refused, 400)."""
SIGNED_FORM: dict[str, Any] = {
    "parameters": [
        {
            "name": "X-Twilio-Signature",
            "in": "header",
            "required": False,
            "description": "Twilio's signature of the public URL and the form's fields (checked; 403 without it).",
            "schema": {"type": "string"},
        }
    ],
    "requestBody": {
        "required": True,
        "description": "Twilio's form fields (MessageSid, MessageStatus, From, To, Body, ...), read by the route.",
        "content": {
            FORM: {
                "schema": {
                    "type": "object",
                    "propertyNames": {"pattern": NO_NUL},
                    "additionalProperties": {"type": "string", "pattern": NO_NUL},
                }
            }
        },
    },
}
"""The route reads the form itself (to verify the signature over it): said here, so the OpenAPI
asks for the body the route needs (a schemathesis fuzz found it asking for none)."""


def webhook_settings() -> Settings:
    """The settings the routes verify with, as a dependency a test can override."""
    return get_settings()


def clock() -> datetime:
    """When a text arrived, as a dependency a test can pin."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Received:
    """A verified request: its body, its fields, and the headers to store with it."""

    body: str
    fields: list[tuple[str, str]]
    headers: dict[str, str]

    def field(self, *names: str) -> str:
        found = dict(self.fields)
        return next((found[n] for n in names if found.get(n)), "")


class Refused(Exception):
    """A request refused before its signature is read: its status, why, and the body to store."""

    def __init__(self, status: int, reason: str, body: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.body = body


@router.post(
    "/webhooks/twilio/status",
    status_code=204,
    response_class=Response,
    summary="Twilio status callback",
    openapi_extra=SIGNED_FORM,
    responses={204: {"description": "Stored; the listener applies it."}, **REFUSALS},
)
async def status_callback(request: Request, settings: Annotated[Settings, Depends(webhook_settings)]) -> Response:
    """Twilio's delivery report for one of our texts (queued, sent, delivered, undelivered, failed).

    Verified, stored, answered 204; the listener moves the message's status forward, records the
    event once per (MessageSid, MessageStatus), and acts on error codes (21610 opt-out, 21211 and
    21614 unreachable phone, 30007 carrier filtering).
    """
    received = await _verified(request, settings, endpoint=twilio_status.ENDPOINT)
    if isinstance(received, Response):
        return received
    try:
        await run_in_threadpool(_store_status, received)
    except SQLAlchemyError as error:
        return _unstored("status callback", error)
    return Response(status_code=204)


@router.post(
    "/webhooks/twilio/sms",
    response_class=Response,
    summary="Twilio inbound SMS",
    openapi_extra=SIGNED_FORM,
    responses={
        200: {"description": "TwiML: one confirmation, or an empty <Response/>.", "content": {TWIML: {}}},
        **REFUSALS,
    },
)
async def inbound_sms(
    request: Request,
    settings: Annotated[Settings, Depends(webhook_settings)],
    now: Annotated[datetime, Depends(clock)],
) -> Response:
    """A text a lead sent us, answered with TwiML.

    STOP (and STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT, OPT OUT) suppresses the
    number and stops the lead's recovery at once, answered by one confirmation; HELP/INFO answers
    the business's name and contact; START/UNSTOP re-subscribes. Anything else is a reply: stored
    for triage, the lead's silence resets and their recovery stops.
    """
    received = await _verified(request, settings, endpoint=twilio_inbound.ENDPOINT)
    if isinstance(received, Response):
        return received
    sms = InboundSms(
        sid=received.field("MessageSid", "SmsSid"),
        from_number=received.field("From"),
        to_number=received.field("To"),
        body=received.field("Body"),
        received_at=now,
    )
    if not (sms.sid and sms.from_number and sms.to_number):
        reason = "not an inbound text: MessageSid, From and To are required"
        await run_in_threadpool(_store_rejected, twilio_inbound.ENDPOINT, received.headers, received.body, reason, True)
        return PlainTextResponse(reason, status_code=400)
    try:
        outcome = await run_in_threadpool(_apply_text, sms, received, settings.twilio_from_number)
    except SQLAlchemyError as error:
        return _unstored("inbound text", error)
    return Response(content=twiml(outcome.reply), media_type=TWIML)


def _unstored(what: str, error: SQLAlchemyError) -> Response:
    """PostgreSQL could not take a verified request (a restart, a failover): 503, never 2xx, so
    nothing is answered as received that was not stored; Twilio retries or uses the fallback URL.
    The log line is the error's first line: no bound parameters, no phone numbers."""
    log.error("twilio %s not stored (answered 503): %s", what, first_line(error))
    return PlainTextResponse(UNSTORED, status_code=503)


def twiml(reply: str | None) -> str:
    """The TwiML answer: one message, or an empty `<Response/>` (send nothing)."""
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return str(response)


async def _verified(request: Request, settings: Settings, *, endpoint: str) -> Received | Response:
    """The request's form once it passed every check; otherwise the refusal, stored as rejected."""
    url = twilio_signature.called_url(settings, request.url.path, request.url.query)
    headers = {**dict(request.headers), SIGNED_URL: url}
    try:
        body, fields = await _read_form(request)
    except Refused as refused:
        await run_in_threadpool(_store_rejected, endpoint, headers, refused.body, refused.reason, None)
        return PlainTextResponse(refused.reason, status_code=refused.status)
    verdict = twilio_signature.verify(settings, url=url, fields=fields, headers=headers)
    if not verdict.ok:
        await run_in_threadpool(_store_rejected, endpoint, headers, body, verdict.reason or "", False)
        return PlainTextResponse("signature refused", status_code=403)
    return Received(body=body, fields=fields, headers=headers)


async def _read_form(request: Request) -> tuple[str, list[tuple[str, str]]]:
    """The body and its fields; Refused (415, 413, 400) for anything but a parseable form within the limit."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM:
        raise Refused(415, f"expected {FORM}, got {media_type or 'no content type'}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refused(413, f"body of {declared} bytes is over the {MAX_BODY_BYTES} byte limit")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise Refused(413, f"body is over the {MAX_BODY_BYTES} byte limit")
    try:
        body = raw.decode("utf-8")
        fields = parse_qsl(
            body, keep_blank_values=True, strict_parsing=True, errors="strict", max_num_fields=MAX_FIELDS
        )
    except ValueError as error:  # UnicodeDecodeError is one
        raise Refused(400, f"malformed form body: {error}", raw.decode("utf-8", errors="replace")) from None
    for name, value in fields:
        if "\x00" in name or "\x00" in value:  # PostgreSQL text cannot hold it: once a 500 (the fuzz)
            raise Refused(400, f"form field {name.replace(chr(0), '%00')!r} holds a NUL character (%00)", body)
    return body, fields


def _store_rejected(endpoint: str, headers: dict[str, str], body: str, reason: str, signature: bool | None) -> None:
    with runtime.session_scope() as session, session.begin():
        record_delivery(
            session,
            provider="twilio",
            endpoint=endpoint,
            headers=headers,
            body=body,
            signature_valid=signature,
            result="rejected",
            error=reason,
        )


def _store_status(received: Received) -> None:
    """Store the callback for the listener, then ask for a run (the cron sweep applies it anyway)."""
    with runtime.session_scope() as session, session.begin():
        record_delivery(
            session,
            provider="twilio",
            endpoint=twilio_status.ENDPOINT,
            headers=received.headers,
            body=received.body,
            signature_valid=True,
        )
    try:
        webhook_apply.request_apply(runtime.redis_client())
    except RedisError as error:  # stored: the listener's sweep applies it within a minute
        log.warning("twilio status stored, applier not queued: %s", error)


def _apply_text(sms: InboundSms, received: Received, default_from: str | None) -> twilio_inbound.Outcome:
    with runtime.session_scope() as session, session.begin():
        outcome = twilio_inbound.receive(
            session, sms, default_from=default_from, headers=received.headers, body=received.body
        )
    for tenant_id, lead_id in outcome.rescore:
        try:
            score_requests.request_rescore(runtime.redis_client(), tenant_id=tenant_id, lead_ids=[lead_id])
        except RedisError as error:  # the score catches up at the next full rescore
            log.warning("reply stored, rescore not requested: %s", error)
    return outcome
