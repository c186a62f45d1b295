"""When a plan's message may go out: its send window minus its quiet hours, in the lead's zone.

The hours are the sending window's own (`app/domain/sending_window.py`: SMS never before
08:00 or after 21:00 local, whatever the plan says), so the interpreter places a send where
the sender will accept it. The lead's zone is used when it is a real IANA name, else the
plan's: a lead with no zone on record is most likely where the business is.
"""

from __future__ import annotations

import functools
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.plan.model import Plan
from app.domain.sending_window import Hours, QuietHours, Window, allowed_hours, next_open


def plan_hours(plan: Plan, channel: str) -> Hours:
    """The local hours `channel` may reach a lead under this plan."""
    window = Window(plan.send_window.start, plan.send_window.end)
    quiet = QuietHours(plan.quiet_hours.start, plan.quiet_hours.end)
    return allowed_hours(channel, window, quiet)


def send_zone(plan: Plan, lead_timezone: str | None) -> str:
    """The zone a send's hours are counted in: the lead's when it names one, else the plan's."""
    return _zone_or(lead_timezone, plan.timezone)


@functools.lru_cache(maxsize=4096)
def _zone_or(lead_timezone: str | None, fallback: str) -> str:
    """Remembered: a batch asks for the same few zones once per lead, and a bad name costs an exception."""
    if lead_timezone:
        try:
            ZoneInfo(lead_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return fallback
        return lead_timezone
    return fallback


def first_send_moment(plan: Plan, channel: str, lead_timezone: str | None, now: datetime) -> datetime | None:
    """The first moment at or after `now` a `channel` message may reach the lead; None if never."""
    return next_open(now, send_zone(plan, lead_timezone), plan_hours(plan, channel))
