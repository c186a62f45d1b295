"""When a message may reach a lead: quiet hours in the lead's own time zone.

SMS only between 08:00 and 21:00 local (TCPA-style quiet hours); email within the tenant's
send window. A message outside its window is deferred to the next allowed minute, never
dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SMS_EARLIEST = 8
SMS_LATEST = 21


@dataclass(frozen=True)
class Window:
    """Allowed local hours [start, end)."""

    start_hour: int
    end_hour: int

    def __post_init__(self) -> None:
        if not (0 <= self.start_hour < self.end_hour <= 24):
            raise ValueError(f"a send window needs 0 <= start < end <= 24, got {self.start_hour}-{self.end_hour}")

    def contains(self, local: datetime) -> bool:
        return self.start_hour <= local.hour < self.end_hour


SMS_WINDOW = Window(SMS_EARLIEST, SMS_LATEST)


def zone(name: str | None) -> ZoneInfo:
    """The lead's zone, or UTC when the stored name is empty or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def window_for(channel: str, tenant_window: Window) -> Window:
    """SMS is bounded by both the legal quiet hours and the tenant's window."""
    if channel == "sms":
        return Window(max(SMS_EARLIEST, tenant_window.start_hour), min(SMS_LATEST, tenant_window.end_hour))
    return tenant_window


def may_send_now(now_utc: datetime, timezone: str | None, window: Window) -> bool:
    return window.contains(now_utc.astimezone(zone(timezone)))


def next_allowed(now_utc: datetime, timezone: str | None, window: Window) -> datetime:
    """The first moment at or after `now_utc` inside the window, in UTC."""
    tz = zone(timezone)
    local = now_utc.astimezone(tz)
    if window.contains(local):
        return now_utc
    day = local.date() if local.hour < window.start_hour else local.date() + timedelta(days=1)
    opening = datetime.combine(day, time(window.start_hour), tzinfo=tz)
    return opening.astimezone(now_utc.tzinfo)
