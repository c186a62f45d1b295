"""ISO-8601 durations as a plan writes them: `PT24H`, `P2DT6H30M`, `P1W`.

Only units of fixed length are accepted (weeks, days, hours, minutes, seconds): a month or a
year is 28 to 31 or 365 to 366 days, so a plan that waits "a month" would not say how long it
waits. A day is 24 hours here, not a calendar day: a wait counts elapsed time, and the send
window, not the wait, decides the local hour a message goes out.
"""

from __future__ import annotations

import re
from datetime import timedelta

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_PATTERN = re.compile(
    rf"P(?:{_NUMBER}W)?(?:{_NUMBER}D)?(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?",
)
_CALENDAR_UNITS = re.compile(r"P[^T]*[YM]")
_UNITS = ("weeks", "days", "hours", "minutes", "seconds")


class DurationError(ValueError):
    """A duration a plan cannot use, with a message written for the person who typed it."""


def parse_duration(text: str) -> timedelta:
    """The elapsed time an ISO-8601 duration names; raises DurationError with the reason."""
    if not isinstance(text, str) or not text.strip():
        raise DurationError("a duration is an ISO-8601 text such as 'PT24H' or 'P2D'")
    cleaned = text.strip().upper()
    if _CALENDAR_UNITS.match(cleaned):
        raise DurationError(f"'{text}': months and years have no fixed length; use days (P30D) or weeks (P4W)")
    match = _PATTERN.fullmatch(cleaned)
    if match is None or not any(match.groups()) or cleaned.endswith("T"):
        raise DurationError(f"'{text}' is not an ISO-8601 duration such as 'PT24H', 'P2DT6H' or 'P1W'")
    parts = {unit: float(value.replace(",", ".")) for unit, value in zip(_UNITS, match.groups(), strict=True) if value}
    duration = timedelta(**parts)
    if duration <= timedelta(0):
        raise DurationError(f"'{text}' is zero; a wait or a timer must last some time")
    return duration


def format_duration(duration: timedelta) -> str:
    """The shortest ISO-8601 text for a positive `duration` in whole seconds (`P1DT2H`, `PT90M` → `PT1H30M`)."""
    seconds = int(duration.total_seconds())
    if seconds <= 0 or seconds != duration.total_seconds():
        raise DurationError(f"{duration} is not a positive whole number of seconds")
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "")
