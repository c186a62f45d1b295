"""The demo's leads answer: every sandbox message's scripted engagement, POSTed to the api as signed webhooks.

Only under the demo (the channel's provider is the sandbox and `make run` made the demo keys,
`app/webhook_keys.py`): the simulator never fakes rows. It builds exactly what SendGrid and
Twilio would send (SendGrid's event JSON with our custom args at the top level, signed with
ECDSA over timestamp + body; Twilio's form posts signed with `X-Twilio-Signature` over the
public URL; an emailed reply as SendGrid Inbound Parse's multipart form, to the path with the
installation's inbound secret) and POSTs them to `PUBLIC_BASE_URL`, so the funnel moves
through the same routes, verification, storage, applier and triage a real provider reaches,
and new replies appear in the inbox while the demo runs.

An emailed reply is what a mail client writes when the lead presses Reply: to the tenant's
sender address (the sender sets no Reply-To), `In-Reply-To`/`References` naming the
Message-ID SendGrid gave our message, our words quoted below theirs. Its own Message-ID is
derived from our message, so a replayed window is stored once.

Each run posts the scripted steps (`app/domain/demo_engagement.py`) that fell due since the
last run (a cursor in Redis). A run that cannot reach the api leaves the cursor where it was,
so the next run posts the same steps again; the api's deduplication (event ids, MessageSid)
makes any replay harmless.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from sqlalchemy import text
from twilio.request_validator import RequestValidator

from app import runtime, webhook_keys
from app.domain import demo_engagement
from app.domain.demo_engagement import Planned
from app.settings import Settings, get_settings
from app.webhook_keys import DemoSigner, demo_signer

CURSOR_KEY = "lre:demo:simulated-until"
FIRST_LOOK_BACK = timedelta(minutes=10)
LONGEST_SCRIPT = timedelta(hours=4)
"""No scripted step comes later than this after its message (demo_engagement's longest wait is 3 h)."""
BATCH = 1000
DEMO_ACCOUNT_SID = "ACdemo00000000000000000000000000"
CLICK_URL = "https://www.example.com/offer"
TIMEOUT_S = 10.0

_MESSAGES = text(
    """
    SELECT m.id, m.tenant_id, m.lead_id, m.campaign_id, m.channel, m.to_address, m.provider_message_id,
           m.node, m.sent_at, coalesce(t.sender_phone, '') AS sender_phone,
           coalesce(t.sender_email, '') AS sender_email, coalesce(t.sender_name, '') AS sender_name,
           coalesce(m.subject, '') AS subject, coalesce(m.body, '') AS body
    FROM outbound_messages AS m JOIN tenants AS t ON t.id = m.tenant_id
    WHERE m.provider = 'sandbox' AND m.sent_at > :since AND m.sent_at <= :until
      AND m.provider_message_id IS NOT NULL AND m.channel = ANY(CAST(:channels AS text[]))
    ORDER BY m.id
    """
)


@dataclass(frozen=True)
class Sent:
    """A sandbox message the simulator plays the lead of."""

    id: int
    tenant_id: int
    lead_id: int
    campaign_id: int | None
    channel: str
    to_address: str
    provider_message_id: str
    node: str | None
    sent_at: datetime
    sender_phone: str
    sender_email: str
    sender_name: str
    subject: str
    body: str


def simulate(*, now: datetime | None = None, settings: Settings | None = None) -> dict[str, int]:
    """Post what the demo's leads did since the last run; counts of what was posted."""
    settings = settings or get_settings()
    signer = demo_signer(settings)
    channels = [c for c, p in (("email", settings.email_provider), ("sms", settings.sms_provider)) if p == "sandbox"]
    if signer is None or not channels:
        return {"skipped": 1}
    now = now or datetime.now(UTC)
    redis = runtime.redis_client()
    cursor = redis.get(CURSOR_KEY)
    start = datetime.fromtimestamp(float(cursor), UTC) if cursor else now - FIRST_LOOK_BACK
    counts = post_window(start, now, settings=settings, signer=signer, channels=channels)
    if not counts["failed"]:
        redis.set(CURSOR_KEY, now.timestamp())
    return dict(counts)


def post_window(
    start: datetime, end: datetime, *, settings: Settings, signer: DemoSigner, channels: Sequence[str]
) -> Counter[str]:
    """Post every step due in (start, end] of the messages sent in the scripts' reach."""
    with runtime.engine().connect() as conn:
        rows = conn.execute(_MESSAGES, {"since": start - LONGEST_SCRIPT, "until": end, "channels": list(channels)})
        sent = [Sent(**row) for row in rows.mappings()]
    counts: Counter[str] = Counter()
    events: list[dict[str, object]] = []
    for message in sent:
        steps = demo_engagement.due_between(
            message.sent_at, demo_engagement.script_for(message.id, message.channel), start, end
        )
        for step in steps:
            if message.channel == "sms":
                counts[post_twilio(message, step, settings=settings, signer=signer)] += 1
            elif step.kind == "reply":
                counts[post_inbound_email(message, step, settings=settings)] += 1
                counts["email_replies"] += 1
            else:
                events.append(sendgrid_event(message, step))
    for first in range(0, len(events), BATCH):
        counts[post_sendgrid(events[first : first + BATCH], settings=settings, signer=signer)] += 1
    counts["email_events"] = len(events)
    return counts


def sendgrid_event(message: Sent, step: Planned) -> dict[str, object]:
    """One event as SendGrid's event webhook sends it, our custom args at the top level."""
    at = message.sent_at + step.after
    event: dict[str, object] = {
        "email": message.to_address,
        "timestamp": int(at.timestamp()),
        "event": step.kind,
        "sg_event_id": _event_id(message.id, step.kind),
        "sg_message_id": f"{message.provider_message_id}.filterdrecv-demo.{message.id}.0",
        "smtp-id": f"<{message.provider_message_id}@demo.sandbox>",
        "category": ["lead-recovery"] + ([message.node] if message.node else []),
        "tenant_id": str(message.tenant_id),
        "message_id": str(message.id),
        "lead_id": str(message.lead_id),
    }
    if message.campaign_id is not None:
        event["campaign_id"] = str(message.campaign_id)
    if step.kind == "click":
        event["url"] = CLICK_URL
    if step.kind == "bounce":
        event.update({"type": "bounce", "status": "5.1.1", "reason": "550 5.1.1 The email account does not exist"})
    return event


def post_sendgrid(events: list[dict[str, object]], *, settings: Settings, signer: DemoSigner) -> str:
    body = json.dumps(events, separators=(",", ":"))
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": signer.sign_sendgrid(stamp, body),
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
    }
    return _post(_public(settings, "/webhooks/sendgrid/events"), body.encode(), headers)


def post_twilio(message: Sent, step: Planned, *, settings: Settings, signer: DemoSigner) -> str:
    """A status callback for delivery steps; an inbound text for replies and STOP."""
    sender = message.sender_phone or settings.twilio_from_number or ""
    if step.kind in ("reply", "stop"):
        url = _public(settings, "/webhooks/twilio/sms")
        params = {
            "MessageSid": "SM" + _event_id(message.id, step.kind)[:32],
            "AccountSid": DEMO_ACCOUNT_SID,
            "From": message.to_address,
            "To": sender,
            "Body": step.text,
            "NumMedia": "0",
        }
    else:
        url = _public(settings, f"/webhooks/twilio/status?m={message.id}")
        params = {
            "MessageSid": message.provider_message_id,
            "MessageStatus": step.kind,
            "AccountSid": DEMO_ACCOUNT_SID,
            "From": sender,
            "To": message.to_address,
        }
        if step.error_code:
            params["ErrorCode"] = step.error_code
    signature = RequestValidator(signer.twilio_token).compute_signature(url, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return _post(url, urllib.parse.urlencode(params).encode(), headers)


def post_inbound_email(message: Sent, step: Planned, *, settings: Settings) -> str:
    """The lead's answer to our email, as SendGrid Inbound Parse posts it (multipart form)."""
    secret = webhook_keys.sendgrid_inbound_secret(settings)
    if secret is None:  # no inbound door to post to: counted as a failure, so the window is retried
        return "failed"
    fields = inbound_email_fields(message, step)
    boundary = "demo-" + _event_id(message.id, "boundary")
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return _post(_public(settings, f"/webhooks/sendgrid/inbound/{secret}"), multipart(fields, boundary), headers)


def inbound_email_fields(message: Sent, step: Planned) -> dict[str, str]:
    """SendGrid's parsed fields of the email a lead's mail client sends on Reply."""
    at = message.sent_at + step.after
    ours = f"<{message.provider_message_id}.filterdrecv-demo.{message.id}.0@ismtpd.demo.sandbox>"
    theirs = f"<demo-reply-{_event_id(message.id, 'reply')}@{message.to_address.rpartition('@')[2]}>"
    recipient = message.sender_email or "replies@demo.sandbox"
    subject = f"Re: {message.subject}" if message.subject else "Re: your message"
    raw_headers = "\r\n".join(
        (
            f"Message-ID: {theirs}",
            f"In-Reply-To: {ours}",
            f"References: {ours}",
            f"From: <{message.to_address}>",
            f"To: {recipient}",
            f"Subject: {subject}",
            f"Date: {format_datetime(at)}",
        )
    )
    quoted = "\n".join(f"> {line}" for line in message.body.splitlines())
    sender = f"{message.sender_name} <{recipient}>" if message.sender_name else recipient
    text_body = f"{step.text}\n\nOn {at:%a, %d %b %Y at %H:%M}, {sender} wrote:\n{quoted}\n"
    return {
        "headers": raw_headers,
        "from": f"<{message.to_address}>",
        "to": recipient,
        "subject": subject,
        "text": text_body,
        "envelope": json.dumps({"to": [recipient], "from": message.to_address}),
        "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8", "text": "UTF-8"}),
        "SPF": "pass",
    }


def multipart(fields: Mapping[str, str], boundary: str) -> bytes:
    """`multipart/form-data` of text fields (RFC 7578), as Inbound Parse posts them."""
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


def _post(url: str, body: bytes, headers: Mapping[str, str]) -> str:
    """`posted`, or `failed` when the api did not take it (the window is then posted again)."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310 - our api
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 - our own api
            return "posted" if 200 <= int(response.status) < 300 else "failed"
    except (urllib.error.URLError, OSError):
        return "failed"


def _public(settings: Settings, path: str) -> str:
    return str(settings.public_base_url).rstrip("/") + path


def _event_id(message_id: int, kind: str) -> str:
    return hashlib.sha256(f"demo:{message_id}:{kind}".encode()).hexdigest()[:22]
