"""What SendGrid's events mean to us: pure rules, no I/O.

SendGrid posts a JSON array of events. Each names what happened (`event`), when (`timestamp`,
Unix seconds), to which address (`email`), SendGrid's ids (`sg_event_id`, `sg_message_id`)
and, at the top level, the custom args our sender set (`tenant_id`, `message_id`,
`lead_id`: see app/channels/sendgrid.py). The applier reads the events where they are stored,
in PostgreSQL (app/services/sendgrid_read.py writes these rules as SQL); this module decides:

- which events we act on (`KINDS`); anything else is stored raw and ignored;
- how far an event moves its message's status (`RANKS`): processed means the provider took
  it (sent), delivered is final, a bounce or a drop makes it failed unless it was delivered;
- which events put the address on the suppression list and why: hard bounces (not
  `blocked`, which is the receiving server refusing for now), drops for an invalid or bounced
  address (and for addresses SendGrid itself holds as unsubscribed or spam-reporting:
  `DROP_REASONS`), spam reports, unsubscribes and group unsubscribes (`SUPPRESSED_BY_EVENT`);
- what a body must be to be accepted (`parse_batch`), and how one PostgreSQL's JSON cannot
  hold is rewritten so it can be read (`storable`).
"""

from __future__ import annotations

import json
import math
from typing import Any

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

SUPPRESSED_BY_EVENT = {"spamreport": "spam", "unsubscribe": "unsubscribe", "group_unsubscribe": "unsubscribe"}
"""Events that suppress the address whatever they carry → our suppression reason. A bounce
suppresses when it is hard (no `type`, or `bounce`), a drop by its reason (`DROP_REASONS`)."""

MAX_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z: beyond it PostgreSQL has no timestamp
MAX_ID = 2**63 - 1  # bigint
MAX_EVENT_ID_CHARS = 128  # a unique index's key stays far under btree's ~2.7 kB limit


def clean_text(value: str) -> str:
    """A string PostgreSQL's text accepts: no NUL, no lone surrogate (replaced by '?')."""
    if value.isascii():
        return value.replace("\x00", "") if "\x00" in value else value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "")


def storable(text: str) -> str:
    """A body as JSON PostgreSQL can read, for the rare one it refuses: the same events, with NULs
    dropped from every string and lone surrogates replaced, and a number too large for a float
    (which no rule reads) as an empty object. Raises MalformedBatch for what is not a batch."""
    return json.dumps(_storable(parse_batch(text)), ensure_ascii=False)


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return {}
    return value


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
