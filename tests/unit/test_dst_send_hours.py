"""Send windows and quiet hours on both daylight-saving transitions, at the exact hours that
repeat (fall-back) and the hours that never happen (spring-forward).

Every expected instant is worked by hand from the 2026 transition rules, written beside each
case as local wall time, offset, and UTC (local - offset = UTC). The rules a case rests on:

- America/New_York: EST -05:00 / EDT -04:00. Sun 8 Mar 02:00 EST jumps to 03:00 EDT
  (07:00 UTC): local hour 2 never happens. Sun 1 Nov 02:00 EDT falls back to 01:00 EST
  (06:00 UTC): local hour 1 happens twice, 05:00-05:59 UTC (EDT) then 06:00-06:59 UTC (EST).
- Europe/London: GMT +00:00 / BST +01:00. Sun 29 Mar 01:00 GMT jumps to 02:00 BST (01:00 UTC):
  hour 1 never happens. Sun 25 Oct 02:00 BST falls back to 01:00 GMT (01:00 UTC): hour 1
  happens at 00:00-00:59 UTC (BST) and again at 01:00-01:59 UTC (GMT).
- Australia/Sydney: AEST +10:00 / AEDT +11:00. Sun 5 Apr 03:00 AEDT falls back to 02:00 AEST
  (16:00 UTC Sat 4 Apr): hour 2 happens at 15:00-15:59 UTC (AEDT) and 16:00-16:59 UTC (AEST).
  Sun 4 Oct 02:00 AEST jumps to 03:00 AEDT (16:00 UTC Sat 3 Oct): hour 2 never happens.
- Pacific/Chatham: CHAST +12:45 / CHADT +13:45, changing at quarter to the hour. Sun 5 Apr
  03:45 CHADT falls back to 02:45 CHAST (14:00 UTC Sat 4 Apr): 02:45-03:44 happens twice.
  Sun 27 Sep 02:45 CHAST jumps to 03:45 CHADT (14:00 UTC Sat 26 Sep): 02:45-03:44 never
  happens, so that day hour 2 lasts 45 minutes and hour 3 only 15 (03:45-03:59).
- America/St_Johns (half-hour zone): NST -03:30 / NDT -02:30. Sun 8 Mar 02:00 NST jumps to
  03:00 NDT (05:30 UTC): hour 2 never happens. Sun 1 Nov 02:00 NDT falls back to 01:00 NST
  (04:30 UTC): hour 1 happens at 03:30-04:29 UTC (NDT) and 04:30-05:29 UTC (NST).
- Australia/Adelaide (half-hour zone): ACST +09:30 / ACDT +10:30. Sun 5 Apr 03:00 ACDT falls
  back to 02:00 ACST (16:30 UTC Sat 4 Apr): hour 2 happens at 15:30-16:29 UTC and 16:30-17:29
  UTC. Sun 4 Oct 02:00 ACST jumps to 03:00 ACDT (16:30 UTC Sat 3 Oct): hour 2 never happens.

The rule the cases pin down: an hour is quiet (or outside the window) whenever the lead's wall
clock shows it, so a repeated quiet hour is quiet both times, and a window or quiet spell that
starts or ends on an hour that does not exist starts or ends when the clock jumps past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.domain.send_rules import Recipient, Verdict, gate
from app.domain.sending_window import NO_QUIET_HOURS, QuietHours, Window, next_allowed

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
SYDNEY = "Australia/Sydney"
CHATHAM = "Pacific/Chatham"
ST_JOHNS = "America/St_Johns"
ADELAIDE = "Australia/Adelaide"
ALL_DAY = Window(0, 24)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    """A message to a lead in `zone` at `now`: sent (`until` None) or deferred to `until`."""

    id: str
    zone: str
    now: datetime
    until: datetime | None
    window: Window = ALL_DAY
    quiet: QuietHours = NO_QUIET_HOURS
    channel: str = "email"


SPRING_FORWARD = [
    # --- New York, Sun 8 Mar: 02:00 EST -> 03:00 EDT at 07:00 UTC ---------------------------
    # 06:30 UTC - 5 h = 01:30 EST; the window's 02:00 never comes, the clock reads 03:00 EDT at 07:00 UTC.
    Case("ny-window-opens-on-skipped-hour", NEW_YORK, utc(3, 8, 6, 30), utc(3, 8, 7), window=Window(2, 24)),
    # quiet 22-03 = hours 22,23,0,1,2; 01:45 EST (06:45 UTC) is quiet, 03:00 EDT (07:00 UTC) is not.
    Case("ny-quiet-ends-past-the-gap", NEW_YORK, utc(3, 8, 6, 45), utc(3, 8, 7), quiet=QuietHours(22, 3)),
    # quiet 02-03 is the skipped hour: 01:59 EST (06:59 UTC) and 03:00 EDT (07:00 UTC) both send.
    Case("ny-quiet-hour-that-never-happens-1", NEW_YORK, utc(3, 8, 6, 59), None, quiet=QuietHours(2, 3)),
    Case("ny-quiet-hour-that-never-happens-2", NEW_YORK, utc(3, 8, 7), None, quiet=QuietHours(2, 3)),
    # SMS at Sat 22:00 EST (03:00 UTC Sun) waits for Sun 08:00 EDT = 12:00 UTC, not 13:00 (yesterday's offset).
    Case("ny-sms-overnight", NEW_YORK, utc(3, 8, 3), utc(3, 8, 12), channel="sms"),
    # --- London, Sun 29 Mar: 01:00 GMT -> 02:00 BST at 01:00 UTC ----------------------------
    # 00:30 UTC = 00:30 GMT; the window's 01:00 never comes, 02:00 BST = 01:00 UTC.
    Case("ldn-window-opens-on-skipped-hour", LONDON, utc(3, 29, 0, 30), utc(3, 29, 1), window=Window(1, 24)),
    # quiet 23-02 = hours 23,0,1; 00:45 GMT is quiet; the next clock hour shown is 02:00 BST = 01:00 UTC.
    Case("ldn-quiet-ends-past-the-gap", LONDON, utc(3, 29, 0, 45), utc(3, 29, 1), quiet=QuietHours(23, 2)),
    Case("ldn-quiet-hour-that-never-happens-1", LONDON, utc(3, 29, 0, 59), None, quiet=QuietHours(1, 2)),
    Case("ldn-quiet-hour-that-never-happens-2", LONDON, utc(3, 29, 1), None, quiet=QuietHours(1, 2)),
    # Sat 22:00 GMT = 22:00 UTC; Sun 08:00 BST = 07:00 UTC.
    Case("ldn-sms-overnight", LONDON, utc(3, 28, 22), utc(3, 29, 7), channel="sms"),
    # --- Sydney, Sun 4 Oct: 02:00 AEST -> 03:00 AEDT at 16:00 UTC Sat 3 Oct ------------------
    # 15:30 UTC + 10 h = 01:30 AEST; 03:00 AEDT = 16:00 UTC.
    Case("syd-window-opens-on-skipped-hour", SYDNEY, utc(10, 3, 15, 30), utc(10, 3, 16), window=Window(2, 24)),
    Case("syd-quiet-ends-past-the-gap", SYDNEY, utc(10, 3, 15, 45), utc(10, 3, 16), quiet=QuietHours(23, 3)),
    Case("syd-quiet-hour-that-never-happens-1", SYDNEY, utc(10, 3, 15, 59), None, quiet=QuietHours(2, 3)),
    Case("syd-quiet-hour-that-never-happens-2", SYDNEY, utc(10, 3, 16), None, quiet=QuietHours(2, 3)),
    # Sat 22:00 AEST = 12:00 UTC; Sun 08:00 AEDT = 08:00 - 11 h = 21:00 UTC Sat.
    Case("syd-sms-overnight", SYDNEY, utc(10, 3, 12), utc(10, 3, 21), channel="sms"),
    # --- Chatham, Sun 27 Sep: 02:45 CHAST -> 03:45 CHADT at 14:00 UTC Sat 26 Sep -------------
    # 13:30 UTC + 12:45 = 02:15 CHAST; 03:00-03:44 never happen, hour 3 starts at 03:45 CHADT = 14:00 UTC.
    Case("cht-window-opens-inside-the-gap", CHATHAM, utc(9, 26, 13, 30), utc(9, 26, 14), window=Window(3, 24)),
    # quiet 22-03; 02:30 CHAST (13:45 UTC) is quiet; 03:45 CHADT (14:00 UTC) is not.
    Case("cht-quiet-ends-inside-the-gap", CHATHAM, utc(9, 26, 13, 45), utc(9, 26, 14), quiet=QuietHours(22, 3)),
    # quiet 02-03 lasts 45 minutes that day: from 02:15 CHAST (13:30 UTC) to 03:45 CHADT (14:00 UTC).
    Case("cht-quiet-hour-cut-short", CHATHAM, utc(9, 26, 13, 30), utc(9, 26, 14), quiet=QuietHours(2, 3)),
    # quiet 03-04 lasts 15 minutes: 03:45 CHADT (14:00 UTC) to 04:00 CHADT = 04:00 - 13:45 = 14:15 UTC.
    Case("cht-quiet-hour-of-fifteen-minutes", CHATHAM, utc(9, 26, 14), utc(9, 26, 14, 15), quiet=QuietHours(3, 4)),
    # Sat 22:00 CHAST = 09:15 UTC; Sun 08:00 CHADT = 08:00 - 13:45 = 18:15 UTC Sat.
    Case("cht-sms-overnight", CHATHAM, utc(9, 26, 9, 15), utc(9, 26, 18, 15), channel="sms"),
    # --- St John's, Sun 8 Mar: 02:00 NST -> 03:00 NDT at 05:30 UTC ---------------------------
    # 05:00 UTC - 3:30 = 01:30 NST; 03:00 NDT = 05:30 UTC.
    Case("stj-window-opens-on-skipped-hour", ST_JOHNS, utc(3, 8, 5), utc(3, 8, 5, 30), window=Window(2, 24)),
    Case("stj-quiet-ends-past-the-gap", ST_JOHNS, utc(3, 8, 5, 15), utc(3, 8, 5, 30), quiet=QuietHours(22, 3)),
    Case("stj-quiet-hour-that-never-happens-1", ST_JOHNS, utc(3, 8, 5, 29), None, quiet=QuietHours(2, 3)),
    Case("stj-quiet-hour-that-never-happens-2", ST_JOHNS, utc(3, 8, 5, 30), None, quiet=QuietHours(2, 3)),
    # Sat 22:00 NST = 01:30 UTC Sun; Sun 08:00 NDT = 08:00 + 2:30 = 10:30 UTC.
    Case("stj-sms-overnight", ST_JOHNS, utc(3, 8, 1, 30), utc(3, 8, 10, 30), channel="sms"),
    # --- Adelaide, Sun 4 Oct: 02:00 ACST -> 03:00 ACDT at 16:30 UTC Sat 3 Oct ----------------
    # 16:00 UTC + 9:30 = 01:30 ACST; 03:00 ACDT = 16:30 UTC.
    Case("adl-window-opens-on-skipped-hour", ADELAIDE, utc(10, 3, 16), utc(10, 3, 16, 30), window=Window(2, 24)),
    Case("adl-quiet-ends-past-the-gap", ADELAIDE, utc(10, 3, 16, 15), utc(10, 3, 16, 30), quiet=QuietHours(23, 3)),
    Case("adl-quiet-hour-that-never-happens-1", ADELAIDE, utc(10, 3, 16, 29), None, quiet=QuietHours(2, 3)),
    Case("adl-quiet-hour-that-never-happens-2", ADELAIDE, utc(10, 3, 16, 30), None, quiet=QuietHours(2, 3)),
    # Sat 22:00 ACST = 12:30 UTC; Sun 08:00 ACDT = 08:00 - 10:30 = 21:30 UTC Sat.
    Case("adl-sms-overnight", ADELAIDE, utc(10, 3, 12, 30), utc(10, 3, 21, 30), channel="sms"),
]

FALL_BACK = [
    # --- New York, Sun 1 Nov: hour 1 at 05:00-05:59 UTC (EDT) and 06:00-06:59 UTC (EST) -------
    # quiet 00-02: the first 01:30 (EDT, 05:30 UTC) waits past the second 01:xx for 02:00 EST = 07:00 UTC.
    Case("ny-repeated-quiet-hour-first", NEW_YORK, utc(11, 1, 5, 30), utc(11, 1, 7), quiet=QuietHours(0, 2)),
    Case("ny-repeated-quiet-hour-second", NEW_YORK, utc(11, 1, 6, 30), utc(11, 1, 7), quiet=QuietHours(0, 2)),
    # quiet 22-01 ends as the repeated hour begins: 00:30 EDT (04:30 UTC) waits for the first 01:00 (05:00 UTC)...
    Case("ny-quiet-ends-at-repeated-hour", NEW_YORK, utc(11, 1, 4, 30), utc(11, 1, 5), quiet=QuietHours(22, 1)),
    # ...and the second 01:15 (EST, 06:15 UTC) is not quiet either.
    Case("ny-repeated-hour-after-quiet", NEW_YORK, utc(11, 1, 6, 15), None, quiet=QuietHours(22, 1)),
    Case("ny-window-opens-on-repeated-hour", NEW_YORK, utc(11, 1, 4, 30), utc(11, 1, 5), window=Window(1, 24)),
    # SMS at Sat 22:00 EDT (02:00 UTC Sun) waits for Sun 08:00 EST = 13:00 UTC.
    Case("ny-sms-overnight", NEW_YORK, utc(11, 1, 2), utc(11, 1, 13), channel="sms"),
    # --- London, Sun 25 Oct: hour 1 at 00:00-00:59 UTC (BST) and 01:00-01:59 UTC (GMT) -------
    Case("ldn-repeated-quiet-hour-first", LONDON, utc(10, 25, 0, 30), utc(10, 25, 2), quiet=QuietHours(1, 2)),
    Case("ldn-repeated-quiet-hour-second", LONDON, utc(10, 25, 1, 30), utc(10, 25, 2), quiet=QuietHours(1, 2)),
    # quiet 23-01: 00:30 BST (23:30 UTC Sat) waits for the first 01:00 BST = 00:00 UTC.
    Case("ldn-quiet-ends-at-repeated-hour", LONDON, utc(10, 24, 23, 30), utc(10, 25, 0), quiet=QuietHours(23, 1)),
    Case("ldn-repeated-hour-after-quiet", LONDON, utc(10, 25, 1, 30), None, quiet=QuietHours(23, 1)),
    # Sat 22:00 BST = 21:00 UTC; Sun 08:00 GMT = 08:00 UTC.
    Case("ldn-sms-overnight", LONDON, utc(10, 24, 21), utc(10, 25, 8), channel="sms"),
    # --- Sydney, Sun 5 Apr: hour 2 at 15:00-15:59 UTC (AEDT) and 16:00-16:59 UTC (AEST) ------
    # quiet 02-03: both 02:30s wait for 03:00 AEST = 17:00 UTC.
    Case("syd-repeated-quiet-hour-first", SYDNEY, utc(4, 4, 15, 30), utc(4, 4, 17), quiet=QuietHours(2, 3)),
    Case("syd-repeated-quiet-hour-second", SYDNEY, utc(4, 4, 16, 30), utc(4, 4, 17), quiet=QuietHours(2, 3)),
    # 01:30 AEDT (14:30 UTC) waits for the first 02:00 (AEDT) = 15:00 UTC.
    Case("syd-window-opens-on-repeated-hour", SYDNEY, utc(4, 4, 14, 30), utc(4, 4, 15), window=Window(2, 24)),
    Case("syd-repeated-hour-after-quiet", SYDNEY, utc(4, 4, 16, 15), None, quiet=QuietHours(23, 2)),
    # Sat 22:00 AEDT = 11:00 UTC; Sun 08:00 AEST = 22:00 UTC Sat.
    Case("syd-sms-overnight", SYDNEY, utc(4, 4, 11), utc(4, 4, 22), channel="sms"),
    # --- Chatham, Sun 5 Apr: 02:45-03:44 at 13:00-13:59 UTC (CHADT) and 14:00-14:59 UTC (CHAST) --
    # quiet 02-04: 03:15 CHADT (13:30 UTC) waits past both runs for 04:00 CHAST = 04:00 - 12:45 = 15:15 UTC.
    Case("cht-repeated-quiet-hours", CHATHAM, utc(4, 4, 13, 30), utc(4, 4, 15, 15), quiet=QuietHours(2, 4)),
    # quiet 22-03: 02:15 CHADT (12:30 UTC) waits for 03:00 CHADT = 03:00 - 13:45 = 13:15 UTC...
    Case("cht-quiet-ends-inside-repeat", CHATHAM, utc(4, 4, 12, 30), utc(4, 4, 13, 15), quiet=QuietHours(22, 3)),
    # ...but hour 2 comes back for 15 minutes: 14:10 UTC = 02:55 CHAST is quiet until 03:00 CHAST = 14:15 UTC.
    Case("cht-quiet-hour-returns-briefly", CHATHAM, utc(4, 4, 14, 10), utc(4, 4, 14, 15), quiet=QuietHours(22, 3)),
    # 13:00 UTC = 02:45 CHADT; the window's 03:00 CHADT = 13:15 UTC (its first occurrence).
    Case("cht-window-opens-on-repeated-hour", CHATHAM, utc(4, 4, 13), utc(4, 4, 13, 15), window=Window(3, 24)),
    # Sat 22:00 CHADT = 08:15 UTC; Sun 08:00 CHAST = 19:15 UTC Sat.
    Case("cht-sms-overnight", CHATHAM, utc(4, 4, 8, 15), utc(4, 4, 19, 15), channel="sms"),
    # --- St John's, Sun 1 Nov: hour 1 at 03:30-04:29 UTC (NDT) and 04:30-05:29 UTC (NST) -----
    # quiet 01-02: both 01:30s wait for 02:00 NST = 02:00 + 3:30 = 05:30 UTC.
    Case("stj-repeated-quiet-hour-first", ST_JOHNS, utc(11, 1, 4), utc(11, 1, 5, 30), quiet=QuietHours(1, 2)),
    Case("stj-repeated-quiet-hour-second", ST_JOHNS, utc(11, 1, 5), utc(11, 1, 5, 30), quiet=QuietHours(1, 2)),
    # quiet 22-01: 00:30 NDT (03:00 UTC) waits for the first 01:00 NDT = 03:30 UTC; 01:15 NST (04:45 UTC) sends.
    Case("stj-quiet-ends-at-repeated-hour", ST_JOHNS, utc(11, 1, 3), utc(11, 1, 3, 30), quiet=QuietHours(22, 1)),
    Case("stj-repeated-hour-after-quiet", ST_JOHNS, utc(11, 1, 4, 45), None, quiet=QuietHours(22, 1)),
    # Sat 22:00 NDT = 00:30 UTC Sun; Sun 08:00 NST = 11:30 UTC.
    Case("stj-sms-overnight", ST_JOHNS, utc(11, 1, 0, 30), utc(11, 1, 11, 30), channel="sms"),
    # --- Adelaide, Sun 5 Apr: hour 2 at 15:30-16:29 UTC (ACDT) and 16:30-17:29 UTC (ACST) ----
    # quiet 02-03: both 02:30s wait for 03:00 ACST = 03:00 - 9:30 = 17:30 UTC.
    Case("adl-repeated-quiet-hour-first", ADELAIDE, utc(4, 4, 16), utc(4, 4, 17, 30), quiet=QuietHours(2, 3)),
    Case("adl-repeated-quiet-hour-second", ADELAIDE, utc(4, 4, 17), utc(4, 4, 17, 30), quiet=QuietHours(2, 3)),
    # 01:30 ACDT (15:00 UTC) waits for the first 02:00 ACDT = 15:30 UTC.
    Case("adl-window-opens-on-repeated-hour", ADELAIDE, utc(4, 4, 15), utc(4, 4, 15, 30), window=Window(2, 24)),
    Case("adl-repeated-hour-after-quiet", ADELAIDE, utc(4, 4, 16, 45), None, quiet=QuietHours(23, 2)),
    # Sat 22:00 ACDT = 11:30 UTC; Sun 08:00 ACST = 22:30 UTC Sat.
    Case("adl-sms-overnight", ADELAIDE, utc(4, 4, 11, 30), utc(4, 4, 22, 30), channel="sms"),
]


def _verdict(case: Case) -> tuple[Verdict, datetime | None]:
    found = gate(Recipient(case.channel, False, True, case.zone, case.window, case.quiet), case.now)
    return found.verdict, found.until


@pytest.mark.parametrize("case", SPRING_FORWARD, ids=lambda c: c.id)
def test_the_skipped_hour_opens_and_closes_when_the_clock_jumps(case: Case) -> None:
    expected = (Verdict.SEND, None) if case.until is None else (Verdict.DEFER, case.until)
    assert _verdict(case) == expected


@pytest.mark.parametrize("case", FALL_BACK, ids=lambda c: c.id)
def test_a_repeated_hour_keeps_its_rule_both_times(case: Case) -> None:
    expected = (Verdict.SEND, None) if case.until is None else (Verdict.DEFER, case.until)
    assert _verdict(case) == expected


@pytest.mark.parametrize(
    ("zone", "now", "window", "opening"),
    [
        # 01:30 EST (06:30 UTC): window 02-20 opens when the clock jumps, 03:00 EDT = 07:00 UTC.
        (NEW_YORK, utc(3, 8, 6, 30), Window(2, 20), utc(3, 8, 7)),
        # 02:15 CHAST (13:30 UTC): window 03-20 opens at 03:45 CHADT = 14:00 UTC, the first 03:xx shown.
        (CHATHAM, utc(9, 26, 13, 30), Window(3, 20), utc(9, 26, 14)),
        # 00:30 EDT (04:30 UTC): window 01-20 opens at the first 01:00, EDT = 05:00 UTC.
        (NEW_YORK, utc(11, 1, 4, 30), Window(1, 20), utc(11, 1, 5)),
        # 01:30 ACST (16:00 UTC): window 02-20 opens at 03:00 ACDT = 16:30 UTC.
        (ADELAIDE, utc(10, 3, 16), Window(2, 20), utc(10, 3, 16, 30)),
    ],
)
def test_next_allowed_opens_a_window_at_the_first_wall_clock_minute_of_its_hour(
    zone: str, now: datetime, window: Window, opening: datetime
) -> None:
    assert next_allowed(now, zone, window) == opening


# Every 2026 transition above, as the UTC instant the clocks change.
TRANSITIONS = [
    (NEW_YORK, utc(3, 8, 7)),
    (NEW_YORK, utc(11, 1, 6)),
    (LONDON, utc(3, 29, 1)),
    (LONDON, utc(10, 25, 1)),
    (SYDNEY, utc(4, 4, 16)),
    (SYDNEY, utc(10, 3, 16)),
    (CHATHAM, utc(4, 4, 14)),
    (CHATHAM, utc(9, 26, 14)),
    (ST_JOHNS, utc(3, 8, 5, 30)),
    (ST_JOHNS, utc(11, 1, 4, 30)),
    (ADELAIDE, utc(4, 4, 16, 30)),
    (ADELAIDE, utc(10, 3, 16, 30)),
]


def _hours_by_hand(channel: str, window: Window, quiet: QuietHours) -> set[int]:
    """The allowed local hours, from the rules as the module docstring states them."""
    hours = set(range(window.start_hour, window.end_hour))
    if channel == "sms":
        hours &= set(range(8, 21))
    if quiet.start_hour < quiet.end_hour:
        hours -= set(range(quiet.start_hour, quiet.end_hour))
    elif quiet.start_hour > quiet.end_hour:
        hours -= set(range(quiet.start_hour, 24)) | set(range(quiet.end_hour))
    return hours


@given(
    st.sampled_from(TRANSITIONS),
    st.integers(-180, 180),
    st.sampled_from(["email", "sms"]),
    st.integers(0, 23).flatmap(lambda start: st.tuples(st.just(start), st.integers(start + 1, 24))),
    st.integers(0, 23),
    st.integers(0, 23),
)
def test_near_every_transition_the_gate_opens_at_the_first_allowed_wall_clock_minute(
    transition: tuple[str, datetime], minutes: int, channel: str, hours: tuple[int, int], q_start: int, q_end: int
) -> None:
    """Within three hours of each transition, against a walk of every minute: the gate sends
    exactly when the wall clock shows an allowed hour and defers to the first minute it does;
    `next_allowed` opens a bare window at its first minute the same way."""
    zone_name, at = transition
    window, quiet = Window(*hours), QuietHours(q_start, q_end)
    allowed = _hours_by_hand(channel, window, quiet)
    assume(allowed)
    now = at + timedelta(minutes=minutes)
    tz = ZoneInfo(zone_name)
    expected = (Verdict.SEND, None) if _first(now, tz, allowed) == now else (Verdict.DEFER, _first(now, tz, allowed))
    found = gate(Recipient(channel, False, True, zone_name, window, quiet), now)
    assert (found.verdict, found.until) == expected
    assert next_allowed(now, zone_name, window) == _first(now, tz, set(range(*hours)))


def _first(now: datetime, tz: ZoneInfo, allowed: set[int]) -> datetime:
    """The first whole minute at or after `now` whose wall-clock hour is allowed, by walking minutes."""
    return next(
        now + timedelta(minutes=m)
        for m in range(9 * 24 * 60)
        if (now + timedelta(minutes=m)).astimezone(tz).hour in allowed
    )
