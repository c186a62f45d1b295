"""The one interface every email and SMS provider speaks.

A provider takes a list of messages (so SendGrid can put a thousand in one request) and
returns one result per message, in any order, keyed by our message id. A result is one of
four outcomes, because the sender must know not only whether a message went out but whether
it is *safe to try again*:

- ``accepted``: the provider has it; `provider_message_id` names it.
- ``retry``: the provider certainly did not take it (429, 5xx, connection refused); try later,
  no sooner than `retry_after`.
- ``rejected``: it never will (400, bad number, unverified sender); `error` says why.
- ``unknown``: the request may have reached the provider but no answer came back (a read
  timeout, a reset mid-response). Sending again could deliver twice, so the row is held for a
  person to decide, never retried automatically.

Providers never raise for a send that failed; they describe it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    """The provider took the message."""
    RETRY = "retry"
    """The provider certainly did not take it; trying again is safe."""
    REJECTED = "rejected"
    """The provider refused it for good."""
    UNKNOWN = "unknown"
    """No answer after the request went out: the provider may have it."""


SURELY_NOT_TAKEN = frozenset({408, 429, 503})
"""Statuses that say the provider did not process the request: request timeout (it never had all
of it), too many requests, service unavailable (refused before processing). Retrying is safe."""


def error_outcome(status: int) -> Outcome:
    """What a provider's HTTP error status means for the message sent.

    Any other 5xx (500, 502, 504, …) may come after the provider accepted the message: an
    internal error after the queue write, a gateway that timed out or lost the upstream's answer.
    Sending again could deliver it twice, so it is held as unknown, for the provider's events or
    an operator to settle. A 4xx other than 408/429 is a refusal of this message.
    """
    if status in SURELY_NOT_TAKEN:
        return Outcome.RETRY
    if status >= 500:
        return Outcome.UNKNOWN
    return Outcome.REJECTED


@dataclass(frozen=True)
class OutgoingMessage:
    """Everything a provider needs for one message; ids only in anything sent as metadata."""

    message_id: int
    tenant_id: int
    lead_id: int
    campaign_id: int | None
    channel: str
    to_address: str
    subject: str | None
    body: str
    from_address: str
    from_name: str = ""
    physical_address: str = ""
    unsubscribe_url: str = ""
    category: str | None = None
    reply_to: str | None = None
    """Email only: where the reply goes, `reply+<signed token>@<reply domain>` (`app/domain/reply_address.py`)."""


@dataclass(frozen=True)
class SendResult:
    message_id: int
    outcome: Outcome
    provider_message_id: str | None = None
    retry_after: float | None = None
    error: str | None = None
    cost_usd: Decimal = Decimal(0)
    error_code: str | None = None
    """The provider's own code for a refusal (Twilio's 21610, 21211, …), kept on the row."""

    @classmethod
    def accepted(cls, message_id: int, provider_message_id: str, cost_usd: Decimal = Decimal(0)) -> SendResult:
        return cls(message_id, Outcome.ACCEPTED, provider_message_id=provider_message_id, cost_usd=cost_usd)

    @classmethod
    def retry(cls, message_id: int, error: str, retry_after: float | None = None) -> SendResult:
        return cls(message_id, Outcome.RETRY, retry_after=retry_after, error=error)

    @classmethod
    def rejected(cls, message_id: int, error: str, error_code: str | None = None) -> SendResult:
        return cls(message_id, Outcome.REJECTED, error=error, error_code=error_code)

    @classmethod
    def unknown(cls, message_id: int, error: str) -> SendResult:
        return cls(message_id, Outcome.UNKNOWN, error=error)


class Provider(Protocol):
    """An email or SMS provider."""

    name: str
    """Stored in `outbound_messages.provider`, so reconciliation knows whom a row went to."""
    reaches_people: bool
    """False only for the sandbox: a lost sandbox send reached no one and may simply be redone."""

    def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        """One result per message; never raises for a failed send."""
        ...


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds, or an HTTP date when `now` (epoch seconds)
    is given to count from; anything else is treated as absent."""
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    if now is None:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now) if when.tzinfo else None


def rate_limit_wait(header: Callable[[str], str | None], now: float) -> float | None:
    """How long a provider's refusal asks us to wait, from its headers: the later of `Retry-After`
    (Twilio and SendGrid: seconds or an HTTP date) and `X-RateLimit-Reset` (SendGrid: the epoch
    second the quota refills). `now` is the wall clock in epoch seconds; None when neither says."""
    waits = [parse_retry_after(header("Retry-After"), now)]
    reset = header("X-RateLimit-Reset")
    if reset:
        with contextlib.suppress(ValueError):
            waits.append(max(0.0, float(reset.strip()) - now))
    found = [w for w in waits if w is not None]
    return max(found) if found else None
