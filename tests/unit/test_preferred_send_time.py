"""The slot a message is scheduled into: the lead's best window, inside the allowed hours, soon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from app.domain.best_time import MAX_DELAY, NO_WINDOW, BestWindow, Source, preferred_send_time
from app.domain.sending_window import QuietHours, Window, allowed_hours

NEW_YORK = "America/New_York"
NY = ZoneInfo(NEW_YORK)
OFFICE = allowed_hours("email", Window(8, 20), QuietHours(21, 8))
TUESDAY_10 = BestWindow(1, 10, 12, Source.LEAD, 5)


def local(year: int, month: int, day: int, hour: int, minute: int = 0, tz: ZoneInfo = NY) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)


def test_a_lead_whose_history_says_tuesday_ten_gets_tuesday_ten() -> None:
    monday_noon = local(2030, 1, 14, 12)  # 14 Jan 2030 is a Monday
    assert preferred_send_time(monday_noon, NEW_YORK, OFFICE, TUESDAY_10) == local(2030, 1, 15, 10)


def test_inside_the_best_window_already_means_now() -> None:
    tuesday_1030 = local(2030, 1, 15, 10, 30)
    assert preferred_send_time(tuesday_1030, NEW_YORK, OFFICE, TUESDAY_10) == tuesday_1030


def test_a_weekday_too_far_away_gives_the_same_hours_on_an_earlier_day() -> None:
    wednesday_noon = local(2030, 1, 16, 12)  # next Tuesday is six days away
    assert preferred_send_time(wednesday_noon, NEW_YORK, OFFICE, TUESDAY_10) == local(2030, 1, 17, 10)


def test_no_best_window_means_the_first_allowed_moment() -> None:
    monday_noon = local(2030, 1, 14, 12)
    monday_night = local(2030, 1, 14, 22)
    assert preferred_send_time(monday_noon, NEW_YORK, OFFICE, NO_WINDOW) == monday_noon
    assert preferred_send_time(monday_night, NEW_YORK, OFFICE, NO_WINDOW) == local(2030, 1, 15, 8)


def test_a_best_window_inside_quiet_hours_is_never_used() -> None:
    late_best = BestWindow(1, 22, 24, Source.TENANT, 9)
    monday_noon = local(2030, 1, 14, 12)
    assert preferred_send_time(monday_noon, NEW_YORK, OFFICE, late_best) == monday_noon


def test_a_best_window_half_in_quiet_hours_uses_its_allowed_half() -> None:
    straddling = BestWindow(1, 7, 9, Source.LEAD, 4)  # 07:00 is quiet, 08:00 is not
    monday_noon = local(2030, 1, 14, 12)
    assert preferred_send_time(monday_noon, NEW_YORK, OFFICE, straddling) == local(2030, 1, 15, 8)


def test_the_max_delay_bounds_the_wait_for_the_best_window() -> None:
    monday_noon = local(2030, 1, 14, 12)
    short = timedelta(hours=6)
    assert preferred_send_time(monday_noon, NEW_YORK, OFFICE, TUESDAY_10, max_delay=short) == monday_noon


def test_the_best_window_is_read_in_the_leads_own_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    monday_noon_tokyo = local(2030, 1, 14, 12, tz=tokyo)
    got = preferred_send_time(monday_noon_tokyo, "Asia/Tokyo", OFFICE, TUESDAY_10)
    assert got == local(2030, 1, 15, 10, tz=tokyo)


def test_a_best_window_across_the_spring_dst_gap_lands_on_an_hour_that_exists() -> None:
    sunday_best = BestWindow(6, 2, 4, Source.LEAD, 3)  # 02:00 does not exist on 10 March 2030 in New York
    saturday_noon = local(2030, 3, 9, 12)
    everywhere = allowed_hours("email", Window(0, 24))
    got = preferred_send_time(saturday_noon, NEW_YORK, everywhere, sunday_best)
    assert got == datetime(2030, 3, 10, 7, 0, tzinfo=UTC)  # 03:00 EDT, the first instant of the slot
    assert got.astimezone(NY).hour == 3


def test_no_allowed_hours_at_all_leaves_it_to_the_senders_gate() -> None:
    monday_noon = local(2030, 1, 14, 12)
    assert preferred_send_time(monday_noon, NEW_YORK, frozenset(), TUESDAY_10) == monday_noon


ZONES = st.sampled_from(["UTC", NEW_YORK, "Asia/Kolkata", "Australia/Adelaide", "Europe/London", "Asia/Kathmandu"])
INSTANTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2032, 12, 31)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)


@st.composite
def windows(draw: st.DrawFn) -> BestWindow:
    if draw(st.booleans()):
        return NO_WINDOW
    start = draw(st.integers(0, 22))
    end = draw(st.integers(start + 1, min(24, start + 4)))
    return BestWindow(draw(st.integers(0, 6)), start, end, draw(st.sampled_from([Source.LEAD, Source.TENANT])))


@st.composite
def allowed(draw: st.DrawFn) -> frozenset[int]:
    start = draw(st.integers(0, 23))
    window = Window(start, draw(st.integers(start + 1, 24)))
    quiet = QuietHours(draw(st.integers(0, 23)), draw(st.integers(0, 23)))
    return allowed_hours(draw(st.sampled_from(["email", "sms"])), window, quiet)


@given(now=INSTANTS, zone=ZONES, hours=allowed(), best=windows(), delay_hours=st.integers(1, 72))
def test_the_slot_is_allowed_not_in_the_past_and_not_postponed_beyond_the_bound(
    now: datetime, zone: str, hours: frozenset[int], best: BestWindow, delay_hours: int
) -> None:
    max_delay = timedelta(hours=delay_hours)
    got = preferred_send_time(now, zone, hours, best, max_delay=max_delay)
    assert got >= now
    if not hours:
        assert got == now
        return
    at = got.astimezone(ZoneInfo(zone))
    assert at.hour in hours
    # Never later than the bound, unless the allowed hours themselves open later than that.
    first_allowed = preferred_send_time(now, zone, hours, NO_WINDOW)
    assert got <= max(now + max_delay, first_allowed)
    assert first_allowed <= now + timedelta(hours=48)  # any allowed hour recurs within a day (two across DST)
    if best.weekday is not None and got != first_allowed:
        assert best.start_hour <= at.hour < best.end_hour


@given(now=INSTANTS, zone=ZONES, hours=allowed(), best=windows())
def test_already_inside_an_allowed_part_of_the_best_window_sends_now(
    now: datetime, zone: str, hours: frozenset[int], best: BestWindow
) -> None:
    at = now.astimezone(ZoneInfo(zone))
    inside = best.weekday == at.weekday() and best.start_hour <= at.hour < best.end_hour and at.hour in hours
    if inside:
        assert preferred_send_time(now, zone, hours, best) == now


@given(now=INSTANTS, zone=ZONES, best=windows())
def test_the_default_bound_is_two_days(now: datetime, zone: str, best: BestWindow) -> None:
    everywhere = allowed_hours("email", Window(0, 24))
    assert now <= preferred_send_time(now, zone, everywhere, best) <= now + MAX_DELAY
