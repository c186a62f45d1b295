from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.sending_window import SMS_WINDOW, Window, may_send_now, next_allowed, window_for


def test_sms_is_quiet_at_night_in_the_leads_own_zone() -> None:
    # 02:00 UTC is 21:00 the day before in New York (EST, UTC-5): too late for SMS.
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert not may_send_now(now, "America/New_York", SMS_WINDOW)
    assert may_send_now(now, "Asia/Tokyo", SMS_WINDOW)  # 11:00 in Tokyo


def test_deferral_goes_to_the_next_local_opening() -> None:
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 21:00 New York
    opening = next_allowed(now, "America/New_York", SMS_WINDOW)
    assert opening == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 08:00 New York


def test_sms_window_is_never_wider_than_the_law() -> None:
    assert window_for("sms", Window(6, 23)) == Window(8, 21)
    assert window_for("email", Window(6, 23)) == Window(6, 23)


def test_unknown_zone_falls_back_to_utc() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert may_send_now(now, "Mars/Olympus", SMS_WINDOW)


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(["America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata", "UTC"]),
)
def test_next_allowed_is_inside_the_window_and_not_in_the_past(now: datetime, tz: str) -> None:
    opening = next_allowed(now, tz, SMS_WINDOW)
    assert opening >= now
    assert may_send_now(opening, tz, SMS_WINDOW)


def test_malformed_window_is_refused() -> None:
    with pytest.raises(ValueError, match="send window"):
        Window(20, 8)
