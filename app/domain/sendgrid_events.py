"""What one SendGrid event webhook event means to us: pure rules, no I/O.

SendGrid posts a JSON array of events. Each names what happened (`event`), when (`timestamp`,
Unix seconds), to which address (`email`), SendGrid's ids (`sg_event_id`, `sg_message_id`)
and, at the top level, the custom args our sender set (`tenant_id`, `message_id`,
`lead_id`: see app/channels/sendgrid.py). This module turns one such event into a flat
`EventFacts` the applier loads in bulk, and decides:

- which events we act on (`KINDS`); anything else is stored raw and ignored;
- how far an event moves its message's status (`rank`): processed means the provider took
  it (sent), delivered is final, a bounce or a drop makes it failed unless it was delivered;
- which events put the address on the suppression list and why (`suppression_reason`):
  hard bounces (not `blocked`, which is the receiving server refusing for now), drops for an
  invalid or bounced address (and for addresses SendGrid itself holds as unsubscribed or
  spam-reporting), spam reports, unsubscribes and group unsubscribes.

The texts that reach PostgreSQL are made safe here (no NUL, no lone surrogate, bounded
index keys), because one event PostgreSQL refuses would fail its whole batch, every retry.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, NamedTuple

KINDS: dict[str, str] = {
    "processed": "processed",
    "deferred": "deferred",
    "delivered": "delivered",
    "open": "open",
    "click": "click",
    "bounce": "bounce",
    "dropped": "dropped",
    "spamreport": "spamreport",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "unsubscribe",
}
"""SendGrid event name → our `message_events.event_type`; events not named here are ignored."""

SENT, FAILED, DELIVERED = 1, 2, 3
STATUS_OF_RANK = {SENT: "sent", FAILED: "failed", DELIVERED: "delivered"}
"""A message's status only moves up this order (held 0 < sent < failed < delivered): a late
`processed` never undoes `delivered`, and a bounce after delivery leaves it delivered."""

RANKS = {"processed": SENT, "delivered": DELIVERED, "bounce": FAILED, "dropped": FAILED}

DROP_REASONS = {
    "invalid": "bounce",
    "invalid address": "bounce",
    "bounced address": "bounce",
    "unsubscribed address": "unsubscribe",
    "spam reporting address": "spam",
}
"""A `dropped` event's reason (lower case) → our suppression reason. Other drops (spam
content, an invalid SMTPAPI header, a quota) are about the message, not the address."""

MAX_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z: beyond it PostgreSQL has no timestamp
MAX_ID = 2**63 - 1  # bigint
MAX_EVENT_ID_CHARS = 128  # a unique index's key stays far under btree's ~2.7 kB limit


class EventFacts(NamedTuple):
    """One event we act on, flattened for the applier's bulk load (a tuple: it is staged as a JSON array)."""

    event: str
    """SendGrid's name (`group_unsubscribe` stays distinct from `unsubscribe` in the natural key)."""
    kind: str
    seconds: float
    """When it happened, in Unix seconds."""
    stamp: str
    """The timestamp as written in the natural key (whole seconds, as SendGrid sends them)."""
    sg_event_id: str | None
    provider_message_id: str | None
    """`sg_message_id` up to its first '.': the X-Message-Id our send request got back."""
    email: str | None
    url: str | None
    url_key: str
    """A short digest of the clicked URL for the natural key ('' without one)."""
    message_id: int | None
    tenant_id: int | None
    lead_id: int | None
    by_custom_args: bool
    """True when the event carries our `message_id`: match on it (with the tenant), never fall back."""
    rank: int
    error_code: str | None
    error: str | None
    suppression_reason: str | None

    @property
    def occurred_at(self) -> datetime:
        return datetime.fromtimestamp(self.seconds, UTC)


def interpret(event: dict[str, Any]) -> EventFacts | None:
    """The facts of one event, or None when we do not act on it (unknown kind, no usable timestamp)."""
    name = event.get("event")
    if not isinstance(name, str) or name not in KINDS:
        return None
    seconds = epoch_seconds(event.get("timestamp"))
    if seconds is None:
        return None
    url = clean_text(event.get("url"))
    email = clean_text(event.get("email"))
    return EventFacts(
        name,
        KINDS[name],
        seconds,
        format_stamp(seconds),
        event_id(event.get("sg_event_id")),
        provider_message_id(event.get("sg_message_id")),
        email.strip().lower() or None if email else None,
        url,
        hashlib.sha256(url.encode()).hexdigest()[:16] if url else "",
        custom_id(event.get("message_id")),
        custom_id(event.get("tenant_id")),
        custom_id(event.get("lead_id")),
        "message_id" in event,
        RANKS.get(name, 0),
        clean_text(event.get("status")) if name == "bounce" else None,
        failure_text(name, event) if name in ("bounce", "dropped") else None,
        suppression_reason(name, event),
    )


def suppression_reason(name: str, event: dict[str, Any]) -> str | None:
    """Our suppression reason for an event that says the address must not be written to again."""
    if name == "bounce":
        kind = event.get("type")
        return "bounce" if kind in (None, "bounce") else None  # `blocked` is the receiver refusing for now
    if name == "dropped":
        reason = event.get("reason")
        return DROP_REASONS.get(reason.strip().lower()) if isinstance(reason, str) else None
    if name == "spamreport":
        return "spam"
    if name in ("unsubscribe", "group_unsubscribe"):
        return "unsubscribe"
    return None


def failure_text(name: str, event: dict[str, Any]) -> str:
    reason = clean_text(event.get("reason")) or clean_text(event.get("response")) or "no reason given"
    return f"SendGrid {name}: {reason}"[:1000]


def epoch_seconds(value: object) -> float | None:
    """A Unix timestamp PostgreSQL can hold, from a JSON number or a string of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | float) and 0 <= value <= MAX_EPOCH:
        return float(value)
    return None


def format_stamp(seconds: float) -> str:
    return str(int(seconds)) if seconds.is_integer() else f"{seconds:.6f}"


def custom_id(value: object) -> int | None:
    """One of our ids from a custom arg (SendGrid echoes them as strings)."""
    if type(value) is str:
        value = int(value) if value.isascii() and value.isdigit() and len(value) <= 19 else None
    return value if type(value) is int and 0 < value <= MAX_ID else None


def provider_message_id(value: object) -> str | None:
    text = clean_text(value)
    prefix = text.split(".", 1)[0].strip() if text else ""
    return prefix[:MAX_EVENT_ID_CHARS] or None


def event_id(value: object) -> str | None:
    text = clean_text(value)
    if not text:
        return None
    if len(text) > MAX_EVENT_ID_CHARS:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text


def clean_text(value: object) -> str | None:
    """A string PostgreSQL's text accepts: no NUL, no lone surrogate; None for anything not a string."""
    if type(value) is not str:
        return None
    if value.isascii():
        return value.replace("\x00", "") if "\x00" in value else value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "")


class MalformedBatch(ValueError):
    """The body is not a JSON array of objects (the webhook answers 400)."""


def parse_batch(text: str) -> list[dict[str, Any]]:
    """The events of a body: a JSON array of objects, with no NaN or Infinity (jsonb refuses them)."""
    try:
        parsed = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:  # RecursionError: nesting deeper than the parser goes
        raise MalformedBatch(f"malformed JSON: {str(error)[:200]}") from None
    if not isinstance(parsed, list):
        raise MalformedBatch(f"expected a JSON array of events, got {_json_type(parsed)}")
    for position, item in enumerate(parsed):
        if not isinstance(item, dict):
            raise MalformedBatch(f"event {position} is {_json_type(item)}, not an object")
    return parsed


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}


def _json_type(value: object) -> str:
    return _JSON_TYPES.get(type(value), "null")
