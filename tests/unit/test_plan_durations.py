"""ISO-8601 durations of a plan: fixed-length units only, to timedelta, and back."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.plan.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT24H", timedelta(hours=24)),
        ("P2D", timedelta(days=2)),
        ("P1W", timedelta(days=7)),
        ("P2W3D", timedelta(days=17)),  # 2 × 7 + 3
        ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)),
        ("PT90M", timedelta(minutes=90)),
        ("PT45S", timedelta(seconds=45)),
        ("PT1.5H", timedelta(minutes=90)),
        ("PT0,5H", timedelta(minutes=30)),  # ISO allows a decimal comma
        ("pt24h", timedelta(hours=24)),
        (" P1D ", timedelta(days=1)),
    ],
)
def test_fixed_length_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P1M", "P1Y", "P1Y2M3D", "P2MT1H"])
def test_months_and_years_are_refused_with_the_reason(text: str) -> None:
    with pytest.raises(DurationError, match="months and years have no fixed length"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["", "P", "PT", "P1DT", "24H", "PT-1H", "P1H", "PT1D", "1 day", "PT1H2H"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


def test_a_zero_duration_is_refused() -> None:
    with pytest.raises(DurationError, match="zero"):
        parse_duration("PT0S")


def test_a_duration_that_is_not_text_is_refused() -> None:
    with pytest.raises(DurationError, match="ISO-8601"):
        parse_duration(24)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(hours=24), "P1D"),
        (timedelta(hours=26, minutes=30), "P1DT2H30M"),
        (timedelta(minutes=90), "PT1H30M"),
        (timedelta(seconds=5), "PT5S"),
    ],
)
def test_durations_format_to_the_shortest_text(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text


@given(st.integers(min_value=1, max_value=400 * 86_400))
def test_formatting_then_parsing_gives_the_same_duration(seconds: int) -> None:
    assert parse_duration(format_duration(timedelta(seconds=seconds))) == timedelta(seconds=seconds)
