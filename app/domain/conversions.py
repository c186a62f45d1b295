"""What a conversion may say, and what it is credited to.

A conversion is recorded by a rep ("Mark recovered") or reported by another system
(`POST /api/conversions`). Either way the same rules decide:

- *value*: dollars, non-negative, at most two decimal places and below the column's limit
  (Numeric(14, 2)); a typo such as cents typed with three decimals is refused, not rounded.
- *converted_at*: when the deal closed, time-zone aware, not in the future (a few minutes of
  clock skew allowed) and at most `MAX_AGE` ago, so a backfill cannot rewrite years of figures.
- *attribution*, last touch: when the caller names no message or campaign, the conversion is
  credited to the last message sent to the lead within `ATTRIBUTION_WINDOW` before it (what the
  ROI page's last-touch attribution and the daily rollup read), and its *method* is how that
  message was written: AI (generated or served from the cache), template (including the offline
  fallback) or manual. With no message in the window the lead came back on its own: organic.
  A method the caller gives (a rep's manual recovery) is kept as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

ATTRIBUTION_WINDOW = timedelta(days=30)
FUTURE_SKEW = timedelta(minutes=5)
MAX_AGE = timedelta(days=366)
MAX_VALUE = Decimal("999999999999.99")  # Numeric(14, 2)
PLACES = 2
ORGANIC = "organic"
METHOD_OF_SOURCE = {"ai": "ai", "ai_cache": "ai", "template": "template", "offline": "template", "manual": "manual"}
"""A message's `source` → the conversion method it earns (the ROI page groups methods the same way)."""


class ConversionError(ValueError):
    """A conversion refused because of one field; `field` names it as the API's body does."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Touch:
    """The message a conversion is credited to: its id, campaign, channel and how it was written."""

    message_id: int
    campaign_id: int | None
    channel: str
    source: str
    sent_at: datetime


def check_value(value: Decimal | int | float | str) -> Decimal:
    """The deal's value in dollars; `ConversionError` on anything but 0 to MAX_VALUE with at most two decimals."""
    try:
        amount = Decimal(str(value).strip().removeprefix("$").replace(",", ""))
    except InvalidOperation:
        raise ConversionError("value", f"enter a number of dollars, e.g. 1250.00 (got {value!r})") from None
    if not amount.is_finite():
        raise ConversionError("value", "enter a number of dollars, e.g. 1250.00")
    if amount < 0:
        raise ConversionError("value", "cannot be negative")
    if amount > MAX_VALUE:
        raise ConversionError("value", f"at most {MAX_VALUE:,}")
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PLACES:
        raise ConversionError("value", f"at most {PLACES} decimal places (dollars and cents)")
    return amount


def check_converted_at(converted_at: datetime, now: datetime) -> datetime:
    """When the deal closed; `ConversionError` when naive, in the future or older than MAX_AGE."""
    if converted_at.tzinfo is None or converted_at.utcoffset() is None:
        raise ConversionError("converted_at", "give a time zone, e.g. 2026-12-01T15:00:00Z")
    if converted_at > now + FUTURE_SKEW:
        raise ConversionError("converted_at", "cannot be in the future")
    if converted_at < now - MAX_AGE:
        raise ConversionError("converted_at", f"at most {MAX_AGE.days} days ago")
    return converted_at


def in_window(touch: Touch, converted_at: datetime) -> bool:
    """Whether a message sent at `touch.sent_at` may take the credit: at or before the conversion, within the window."""
    return converted_at - ATTRIBUTION_WINDOW < touch.sent_at <= converted_at


def method_for(touch: Touch | None, given: str | None) -> str:
    """The method a caller gave, else the credited message's, else organic (no message in the window)."""
    if given is not None:
        return given
    if touch is None:
        return ORGANIC
    return METHOD_OF_SOURCE.get(touch.source, "manual")


def days_to_convert(touch: Touch, converted_at: datetime) -> int:
    """Whole days from the credited message to the deal (0 the same day), for the attribution record."""
    return max(0, (converted_at - touch.sent_at).days)
