"""When a message may reach a lead: quiet hours in the lead's own time zone.

SMS only between 08:00 and 21:00 local (TCPA-style quiet hours); email within the tenant's
send window; neither during the tenant's own quiet hours. A message outside its allowed
hours is deferred to the next allowed minute, never dropped.

The allowed hours are a set of local hours rather than one interval: quiet hours that do not
wrap midnight (say 12:00-14:00) cut a send window in two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SMS_EARLIEST = 8
SMS_LATEST = 21
STEP = timedelta(minutes=15)
"""Every zone's offset is a multiple of a quarter hour, so every local hour starts on one."""
SEARCH_DAYS = 8
"""Any non-empty set of local hours recurs within a week and a day, DST shifts included."""

Hours = frozenset[int]


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


@dataclass(frozen=True)
class QuietHours:
    """Local hours [start, end) when the tenant wants no message out; wraps midnight when start > end.

    start == end means no quiet hours: a tenant cannot mean "quiet all day" (it would never send).
    """

    start_hour: int
    end_hour: int

    def __post_init__(self) -> None:
        if not (0 <= self.start_hour <= 23 and 0 <= self.end_hour <= 23):
            raise ValueError(f"quiet hours need hours 0-23, got {self.start_hour}-{self.end_hour}")

    def hours(self) -> Hours:
        if self.start_hour <= self.end_hour:
            return frozenset(range(self.start_hour, self.end_hour))
        return frozenset(range(self.start_hour, 24)) | frozenset(range(self.end_hour))


NO_QUIET_HOURS = QuietHours(0, 0)


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
    """The first moment at or after `now_utc` inside the window, in `now_utc`'s zone.

    Walks the clock rather than building the wall time `start_hour:00`: on a spring-forward day
    that wall time may not exist (Chatham skips 02:45-03:44, so hour 3 starts at 03:45), and
    reading a missing time with the old offset lands after the window has already opened.
    """
    opening = next_open(now_utc, timezone, frozenset(range(window.start_hour, window.end_hour)))
    assert opening is not None, "a Window always holds at least one hour"
    return opening


def allowed_hours(channel: str, tenant_window: Window, quiet: QuietHours = NO_QUIET_HOURS) -> Hours:
    """The local hours a `channel` message may go out: the channel's window minus the quiet hours."""
    hours = frozenset(range(tenant_window.start_hour, tenant_window.end_hour))
    if channel == "sms":
        hours &= frozenset(range(SMS_EARLIEST, SMS_LATEST))
    return hours - quiet.hours()


def next_open(now_utc: datetime, timezone: str | None, hours: Hours) -> datetime | None:
    """The first moment at or after `now_utc` whose local hour is in `hours`, in `now_utc`'s zone.

    None when `hours` is empty: nothing will ever open.
    """
    if not hours:
        return None
    return first_moment(now_utc, timezone, lambda local: local.hour in hours, timedelta(days=SEARCH_DAYS))


def first_moment(
    now_utc: datetime, timezone: str | None, accept: Callable[[datetime], bool], within: timedelta
) -> datetime | None:
    """The first moment in [now_utc, now_utc + within] whose local time `accept`s, else None.

    Tries `now_utc`, then every quarter-hour boundary: local hours start on one in every zone, so
    this walks local hours without building wall times, and a DST gap (an hour that does not
    exist) is skipped and a repeated hour met at its first occurrence without special cases.
    """
    tz = zone(timezone)
    if accept(now_utc.astimezone(tz)):
        return now_utc
    limit = now_utc + within
    instant = _ceil(now_utc.astimezone(UTC), STEP)
    while instant <= limit:
        if accept(instant.astimezone(tz)):
            return instant.astimezone(now_utc.tzinfo)
        instant += STEP
    return None


def _ceil(instant: datetime, step: timedelta) -> datetime:
    """The first multiple of `step` since the epoch at or after `instant` (a UTC datetime)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    steps = -((epoch - instant) // step)
    return epoch + steps * step
