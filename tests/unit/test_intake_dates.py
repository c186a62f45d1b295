"""Moments as files and APIs write them: ISO 8601, Excel's numeric dates and serials, month names;
day or month first decided per column; local times in the tenant's zone. Answers worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.domain.intake import dates
from app.domain.intake.fields import Invalid

NEW_YORK = ZoneInfo("America/New_York")  # UTC-5 in winter, UTC-4 in summer
NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)


def at(value: str, order: dates.DateOrder = "mdy", zone: ZoneInfo = NEW_YORK) -> datetime | None:
    return dates.moment(value, zone=zone, now=NOW, order=order)


@pytest.mark.parametrize(
    ("written", "order", "utc"),
    [
        ("2026-12-01T14:05:00Z", "mdy", datetime(2026, 12, 1, 14, 5, tzinfo=UTC)),
        ("2026-12-01T14:05:00+01:00", "mdy", datetime(2026, 12, 1, 13, 5, tzinfo=UTC)),
        ("2026-12-01", "mdy", datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),  # local midnight, EST
        ("2026-07-01 09:30", "mdy", datetime(2026, 7, 1, 13, 30, tzinfo=UTC)),  # EDT
        ("12/1/2026", "mdy", datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),
        ("1/12/2026", "dmy", datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),
        ("01.12.2026", "dmy", datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),
        ("12/1/2026 2:05 PM", "mdy", datetime(2026, 12, 1, 19, 5, tzinfo=UTC)),
        ("12/1/2026 12:00 AM", "mdy", datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),
        ("12/1/2026 14:05:09", "mdy", datetime(2026, 12, 1, 19, 5, 9, tzinfo=UTC)),
        ("12/01/26", "mdy", datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),
        ("2026/12/01", "dmy", datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),  # year first whatever the order
        ("1-Dec-2026", "mdy", datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),
        ("01-Dec-26", "dmy", datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),
        ("1 December 2026", "mdy", datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),
        ("Dec 1, 2026", "dmy", datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),
        ("September 30th 2026 8:00 am", "mdy", datetime(2026, 9, 30, 12, 0, tzinfo=UTC)),
        # Excel serials: day 46357 is 1899-12-30 + 46357 days = 2026-12-01; .5 is noon
        ("46357", "mdy", datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),
        ("46357.5", "mdy", datetime(2026, 12, 1, 17, 0, tzinfo=UTC)),
        ("", "mdy", None),
    ],
)
def test_moments_in_the_formats_excel_and_apis_write(
    written: str, order: dates.DateOrder, utc: datetime | None
) -> None:
    assert at(written, order) == utc


@pytest.mark.parametrize(
    ("written", "order", "reason"),
    [
        ("13/13/2026", "mdy", "'13/13/2026' is not a date (read as month/day/year)"),
        ("31/02/2026", "dmy", "'31/02/2026' is not a date (read as day/month/year)"),
        ("2026-02-30", "mdy", "'2026-02-30' is not a date, e.g. 2026-12-01"),
        ("yesterday", "mdy", "'yesterday' is not a date, e.g. 2026-12-01"),
        ("1-Foo-2026", "mdy", "'1-Foo-2026': 'Foo' is not a month"),
        ("12/1/2026 13:00 PM", "mdy", "'12/1/2026 13:00 PM': hour 13 with PM"),
        ("12/1/2026 24:30", "mdy", "'12/1/2026 24:30' is not a time of day"),
        ("12/1/2027", "mdy", "'12/1/2027' is in the future"),
        ("1969-12-31T00:00:00Z", "mdy", "'1969-12-31T00:00:00Z' is before 1970"),
        ("1/2/1930", "mdy", "'1/2/1930' is before 1970"),
        ("1/2/30", "mdy", "'1/2/30' is before 1970"),  # Excel: 30 is 1930
        ("1/2/29", "mdy", "'1/2/29' is in the future"),  # Excel: 29 is 2029
        ("99999", "mdy", "'99999' is not a date"),  # past Excel's serials we accept (2100)
        ("1/2/203", "mdy", "year '203': write it with 4 digits"),
    ],
)
def test_what_is_not_a_moment_says_why(written: str, order: dates.DateOrder, reason: str) -> None:
    with pytest.raises(Invalid) as refused:
        at(written, order)
    assert str(refused.value).startswith(reason)


def test_a_date_must_be_text() -> None:
    with pytest.raises(Invalid, match="must be a date as text"):
        dates.moment(1733500000, zone=NEW_YORK, now=NOW)


def test_the_column_decides_day_or_month_first() -> None:
    assert dates.infer_order(["1/2/2026", "13/2/2026", "4/5/2026"], "mdy") == "dmy"
    assert dates.infer_order(["1/2/2026", "2/13/2026"], "dmy") == "mdy"
    assert dates.infer_order(["1/2/2026", "3/4/2026", "2026-12-01"], "dmy") == "dmy"  # nothing tells: the default
    assert dates.infer_order(["13/1/2026", "1/13/2026"], "mdy") == "mdy"  # a tie: the default
    assert dates.infer_order(["13/1/2026", "14/1/2026", "1/13/2026"], "mdy") == "dmy"  # the most wins


def test_the_tenants_country_orders_ambiguous_dates() -> None:
    assert dates.default_order(None) == "mdy"
    assert dates.default_order("US") == "mdy"
    assert dates.default_order("gb") == "dmy"
    assert dates.default_order("DE") == "dmy"
