"""Whether a claimed outbox row may go out now, and what becomes of it when it may not.

The sender asks its questions in order, cheapest and most final first: is the address
suppressed (then never), has the lead withdrawn consent for the channel, has the lead's
recovery stopped since the message was written (a reply, a purchase, an opt-out), does a
carrier say the number cannot take texts (then not this message), is it quiet time where
the lead lives: outside the send window (SMS also outside 08:00-21:00) or inside the
tenant's quiet hours (then later, never dropped). Provider
failures are decided here too: transient ones back off exponentially, permanent ones and
exhausted retries fail with the reason the console shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.sending_window import NO_QUIET_HOURS, QuietHours, Window, allowed_hours, next_open, zone

MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 30.0
RETRY_MAX_SECONDS = 3600.0
DB_RETRY_BASE_SECONDS = 0.25
DB_RETRY_MAX_SECONDS = 4.0
DB_RETRY_BUDGET_SECONDS = 15.0
"""How long the sender keeps trying to store what the provider said: long enough to outlast a
PostgreSQL failover or restart (seconds), short enough to end inside the send job's timeout."""
NEVER_OPEN_RETRY = timedelta(days=1)
"""How long to wait when quiet hours cover the whole window: someone must fix the settings."""


class Verdict(StrEnum):
    """What the gate decided for one row."""

    SEND = "send"
    """Every rule allows it now: hand it to the provider."""
    SUPPRESS = "suppress"
    """The address is on the tenant's suppression list for this channel: never send."""
    CANCEL = "cancel"
    """The lead has not consented to this channel: drop this message, keep the lead."""
    DEFER = "defer"
    """Outside the lead's allowed hours: back to pending until the window opens."""


@dataclass(frozen=True)
class Recipient:
    """The facts about one row's recipient that the gate needs."""

    channel: str
    suppressed: bool
    consented: bool
    timezone: str | None
    tenant_window: Window
    quiet: QuietHours = NO_QUIET_HOURS
    stopped: str | None = None
    """Why the message's enrollment stopped (the lead replied, bought or opted out), or None while it runs."""
    unreachable: str | None = None
    """Why this channel cannot reach the lead (a carrier said the number is invalid or not a mobile)."""


@dataclass(frozen=True)
class Gate:
    verdict: Verdict
    until: datetime | None = None
    reason: str | None = None


def gate(recipient: Recipient, now: datetime) -> Gate:
    """The verdict for a message to `recipient` at `now` (UTC)."""
    if recipient.suppressed:
        return Gate(Verdict.SUPPRESS, reason=f"{recipient.channel} address is suppressed")
    if not recipient.consented:
        return Gate(Verdict.CANCEL, reason=f"lead has no {recipient.channel} consent")
    if recipient.stopped:
        return Gate(Verdict.CANCEL, reason=f"recovery stopped: {recipient.stopped}")
    if recipient.unreachable:
        return Gate(Verdict.CANCEL, reason=f"{recipient.channel} cannot reach the lead: {recipient.unreachable}")
    hours = allowed_hours(recipient.channel, recipient.tenant_window, recipient.quiet)
    if now.astimezone(zone(recipient.timezone)).hour in hours:
        return Gate(Verdict.SEND)
    until = next_open(now, recipient.timezone, hours)
    if until is None:
        reason = "the tenant's quiet hours cover its whole send window"
        return Gate(Verdict.DEFER, until=now + NEVER_OPEN_RETRY, reason=reason)
    return Gate(Verdict.DEFER, until=until, reason=f"quiet hours in {recipient.timezone or 'UTC'}")


def retry_delay(attempt: int, retry_after: float | None, jitter: float) -> float:
    """Seconds to wait before attempt `attempt + 1`: doubling from 30 s, capped at an hour.

    `jitter` in [0, 1) spreads retries of a failed batch so they do not return as one wave;
    the provider's Retry-After is a floor, never shortened.
    """
    exponential = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1))
    spread = exponential * (0.8 + 0.4 * jitter)
    return max(spread, retry_after or 0.0)


def gives_up(attempt: int) -> bool:
    """True when the attempt just made was the last one allowed."""
    return attempt >= MAX_ATTEMPTS


def db_retry_delay(retry: int, jitter: float) -> float:
    """Seconds before the `retry`-th new try (1, 2, …) of a database write that met a deadlock or a
    dropped connection: doubling from DB_RETRY_BASE_SECONDS, capped at DB_RETRY_MAX_SECONDS, and
    `jitter` in [0, 1) takes up to half off so workers that collided do not collide again."""
    exponential = min(DB_RETRY_MAX_SECONDS, DB_RETRY_BASE_SECONDS * 2 ** max(0, retry - 1))
    return exponential * (1.0 - 0.5 * jitter)
