"""When a lead is most likely to answer: the busiest hours of its own replies and clicks.

Counts are keyed by local (weekday, hour), weekday 0 = Monday. A lead with too little history
of its own borrows its tenant's pattern; with no history anywhere there is no best window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

Slot = tuple[int, int]  # (weekday 0-6 Mon-Sun, local hour 0-23)
HOURS = 24
WEEKDAYS = 7
MIN_EVENTS = 3
WIDTH_HOURS = 2


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
    """The lead's busiest span when it has at least `min_events`, else the tenant's, else none."""
    if sum(lead_counts.values()) >= min_events:
        counts, source = lead_counts, Source.LEAD
    elif sum(tenant_counts.values()) > 0:
        counts, source = tenant_counts, Source.TENANT
    else:
        return NO_WINDOW
    (weekday, start), events = busiest_span(counts, width_hours)
    return BestWindow(weekday, start, start + width_hours, source, events)
