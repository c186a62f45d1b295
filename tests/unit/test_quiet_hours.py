"""The tenant's quiet hours, on top of the send window, in the lead's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.send_rules import NEVER_OPEN_RETRY, Recipient, Verdict, gate
from app.domain.sending_window import NO_QUIET_HOURS, QuietHours, Window, allowed_hours, next_open

NEW_YORK = "America/New_York"


def email_to(timezone: str, window: Window, quiet: QuietHours) -> Recipient:
    return Recipient("email", False, True, timezone, window, quiet)


def test_quiet_hours_that_wrap_midnight() -> None:
    assert QuietHours(21, 8).hours() == frozenset({21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7})


def test_quiet_hours_within_a_day_cut_the_window_in_two() -> None:
    assert allowed_hours("email", Window(8, 20), QuietHours(12, 14)) == frozenset(
        {8, 9, 10, 11, 14, 15, 16, 17, 18, 19}
    )


def test_equal_start_and_end_mean_no_quiet_hours() -> None:
    assert QuietHours(5, 5).hours() == frozenset()
    assert allowed_hours("email", Window(0, 24), NO_QUIET_HOURS) == frozenset(range(24))


def test_sms_keeps_its_legal_hours_under_the_tenants_quiet_hours() -> None:
    assert allowed_hours("sms", Window(0, 24), QuietHours(19, 9)) == frozenset(range(9, 19))


@pytest.mark.parametrize(("start", "end"), [(-1, 8), (21, 24)])
def test_quiet_hours_are_clock_hours(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="quiet hours"):
        QuietHours(start, end)


def test_an_email_in_the_tenants_quiet_hours_is_deferred_to_their_end_even_with_an_all_day_window() -> None:
    ten_pm_new_york = datetime(2030, 1, 15, 3, 0, tzinfo=UTC)
    verdict = gate(email_to(NEW_YORK, Window(0, 24), QuietHours(21, 8)), ten_pm_new_york)
    assert verdict.verdict is Verdict.DEFER
    assert verdict.until == datetime(2030, 1, 15, 13, 0, tzinfo=UTC)  # 08:00 EST
    assert verdict.reason == f"quiet hours in {NEW_YORK}"


def test_a_lunch_break_defers_to_its_end_the_same_day() -> None:
    half_past_twelve = datetime(2030, 1, 15, 17, 30, tzinfo=UTC)  # 12:30 EST
    verdict = gate(email_to(NEW_YORK, Window(8, 20), QuietHours(12, 14)), half_past_twelve)
    assert verdict.until == datetime(2030, 1, 15, 19, 0, tzinfo=UTC)


def test_outside_quiet_hours_and_inside_the_window_it_goes() -> None:
    ten_am = datetime(2030, 1, 15, 15, 0, tzinfo=UTC)
    assert gate(email_to(NEW_YORK, Window(8, 20), QuietHours(21, 8)), ten_am).verdict is Verdict.SEND


def test_quiet_hours_covering_the_whole_window_defer_for_a_day_and_say_why() -> None:
    noon = datetime(2030, 1, 15, 17, 0, tzinfo=UTC)
    verdict = gate(email_to(NEW_YORK, Window(9, 17), QuietHours(8, 18)), noon)
    assert verdict.verdict is Verdict.DEFER
    assert verdict.until == noon + NEVER_OPEN_RETRY
    assert verdict.reason is not None
    assert "quiet hours cover" in verdict.reason


INSTANTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2032, 12, 31)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)
ZONES = st.sampled_from(["UTC", NEW_YORK, "Asia/Kolkata", "Europe/London", "Pacific/Chatham"])


@given(
    now=INSTANTS,
    zone=ZONES,
    start=st.integers(0, 23),
    length=st.integers(1, 24),
    quiet_start=st.integers(0, 23),
    quiet_end=st.integers(0, 23),
    channel=st.sampled_from(["email", "sms"]),
)
def test_a_deferral_opens_on_an_allowed_hour_and_nothing_before_it_was_allowed(
    now: datetime, zone: str, start: int, length: int, quiet_start: int, quiet_end: int, channel: str
) -> None:
    window = Window(start, min(24, start + length))
    quiet = QuietHours(quiet_start, quiet_end)
    hours = allowed_hours(channel, window, quiet)
    verdict = gate(Recipient(channel, False, True, zone, window, quiet), now)
    tz = ZoneInfo(zone)
    if now.astimezone(tz).hour in hours:
        assert verdict.verdict is Verdict.SEND
        return
    assert verdict.verdict is Verdict.DEFER
    assert verdict.until is not None
    assert verdict.until > now
    opening = next_open(now, zone, hours)
    if opening is None:
        assert not hours
        return
    assert verdict.until == opening
    assert opening.astimezone(tz).hour in hours
    before = opening - timedelta(minutes=15)
    assert before < now or before.astimezone(tz).hour not in hours
