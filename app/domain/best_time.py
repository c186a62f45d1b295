"""When a lead is most likely to answer: the busiest hours of its own replies and clicks.

Counts are keyed by local (weekday, hour), weekday 0 = Monday. A lead with too little history
of its own borrows its tenant's pattern; with no history anywhere there is no best window.
The writer schedules each message into that window (`preferred_send_time`) when it comes
within MAX_DELAY and inside the hours the lead may be contacted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.sending_window import Hours, first_moment, next_open

Slot = tuple[int, int]  # (weekday 0-6 Mon-Sun, local hour 0-23)
HOURS = 24
WEEKDAYS = 7
MIN_EVENTS = 3
WIDTH_HOURS = 2
MAX_DELAY = timedelta(hours=48)
"""The longest a message waits for its lead's best window: a recovery is not postponed for a slot."""


class Source(StrEnum):
    LEAD = "lead"
    """The lead's own replies and clicks."""
    TENANT = "tenant"
    """The lead had fewer than `min_events`; the tenant's replies and clicks stand in."""
    NONE = "none"
    """Neither has any history: no window to suggest."""


@dataclass(frozen=True)
class BestWindow:
    """Local hours [start_hour, end_hour) on `weekday`; `weekday` is None when source is NONE."""

    weekday: int | None
    start_hour: int
    end_hour: int
    source: Source
    events: int = 0  # replies and clicks inside the window


NO_WINDOW = BestWindow(None, 0, 0, Source.NONE)


def busiest_span(counts: Mapping[Slot, int], width_hours: int = WIDTH_HOURS) -> tuple[Slot, int]:
    """The (weekday, start hour) whose `width_hours` within one day hold the most events, the
    earliest in the week on a tie, with that many events."""
    if not 1 <= width_hours <= HOURS:
        raise ValueError(f"width_hours must be between 1 and {HOURS}, got {width_hours}")
    best: tuple[Slot, int] = ((0, 0), -1)
    for weekday in range(WEEKDAYS):
        for start in range(HOURS - width_hours + 1):
            total = sum(counts.get((weekday, h), 0) for h in range(start, start + width_hours))
            if total > best[1]:
                best = ((weekday, start), total)
    return best


def best_window(
    lead_counts: Mapping[Slot, int],
    tenant_counts: Mapping[Slot, int],
    *,
    min_events: int = MIN_EVENTS,
    width_hours: int = WIDTH_HOURS,
) -> BestWindow:
    """The lead's busiest span when it has at least `min_events`, else the tenant's, else none.

    Hours at either edge of the span without events are trimmed: when every reply came at 10,
    the window is 10-11, not 09-11 (the earliest of the tied spans), so a message scheduled
    into it does not arrive an hour before the lead is ever there.
    """
    if sum(lead_counts.values()) >= min_events:
        counts, source = lead_counts, Source.LEAD
    elif sum(tenant_counts.values()) > 0:
        counts, source = tenant_counts, Source.TENANT
    else:
        return NO_WINDOW
    (weekday, start), events = busiest_span(counts, width_hours)
    end = start + width_hours
    if events > 0:
        while counts.get((weekday, start), 0) == 0:
            start += 1
        while counts.get((weekday, end - 1), 0) == 0:
            end -= 1
    return BestWindow(weekday, start, end, source, events)


def preferred_send_time(
    now: datetime,
    timezone: str | None,
    allowed: Hours,
    best: BestWindow,
    *,
    max_delay: timedelta = MAX_DELAY,
) -> datetime:
    """When to schedule a message: the lead's best window if it comes soon, else the first allowed moment.

    Three tiers, each inside the `allowed` local hours (send window minus quiet hours, in the
    lead's zone) and none later than `now + max_delay`, so a recovery is never postponed for
    long: the best window itself (weekday and hours); the same hours on another day, because a
    weekday slot is within two days of `now` only two days in seven while most of a heat-map's
    signal is the hour of day; and the first allowed moment. With no allowed hours at all it
    is `now`: the sender's gate defers the message and says why.
    """
    earliest = next_open(now, timezone, allowed)
    if earliest is None:
        return now
    hours = frozenset(range(best.start_hour, best.end_hour)) & allowed
    if best.weekday is None or not hours:
        return earliest
    weekday = best.weekday
    in_slot = first_moment(now, timezone, lambda t: t.weekday() == weekday and t.hour in hours, max_delay)
    in_hours = in_slot or first_moment(now, timezone, lambda t: t.hour in hours, max_delay)
    return in_hours or earliest
