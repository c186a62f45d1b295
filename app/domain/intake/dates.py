"""Reading a moment (a lead's last activity, an activity's time) as files and APIs write it.

Accepted, with an optional time (`14:05`, `14:05:09`, `2:05 PM`):
- ISO 8601: `2026-12-01`, `2026-12-01T14:05:00Z`, `2026-12-01 14:05+01:00`;
- Excel's numeric dates: `12/1/2026`, `1.12.2026`, `01-12-26`, `2026/12/01`;
- month names (English): `1-Dec-2026`, `01-Dec-26`, `1 December 2026`, `Dec 1, 2026`;
- Excel's serial numbers (a date column exported as "General"): `46357`, `46357.5`.

Day or month first? One file uses one order, so the order is decided per column
(`infer_order`): a column with `13/01/2026` is day-first, one with `01/13/2026` month-first,
and with no such value the tenant's country decides (month-first in the US). Two-digit years
follow Excel: 00-29 are 2000-2029, 30-99 are 1930-1999.

A moment without a zone is the tenant's local time. Moments before 1970 or in the future (beyond
five minutes of clock skew) are refused.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from app.domain.intake.fields import Invalid

DateOrder = Literal["mdy", "dmy"]
MONTH_FIRST_COUNTRIES = frozenset({"US", "PH", "PR", "GU", "VI", "AS", "MP", "UM", "FM", "MH", "PW"})
EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 1 is 1900-01-01 in Excel's (leap-year-bugged) 1900 system
SERIAL_RANGE = (25569, 73051)  # 1970-01-01 up to 2100-01-01
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
FUTURE_SKEW = timedelta(minutes=5)
EXAMPLE = "e.g. 2026-12-01, 12/01/2026 or 2026-12-01T14:30:00Z"

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}

_TIME = r"(?:[ T]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}")
_NUMERIC = re.compile(r"^(?P<a>\d{1,4})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{2,4})\.?" + _TIME + "$")
_DAY_NAMED = re.compile(r"^(?P<d>\d{1,2})[ \-]+(?P<m>[A-Za-z]{3,9})\.?[ \-,]+(?P<y>\d{2,4})" + _TIME + "$")
_NAMED_DAY = re.compile(
    r"^(?P<m>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})" + _TIME + "$", re.IGNORECASE
)
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")


def default_order(country: str | None) -> DateOrder:
    """The order a column with only ambiguous dates is read in: month-first in the US (and
    where its dates are written the US way), day-first elsewhere; US when the tenant set none."""
    return "mdy" if country is None or country.upper() in MONTH_FIRST_COUNTRIES else "dmy"


def infer_order(values: list[str], default: DateOrder) -> DateOrder:
    """The order of a column's numeric dates: whichever its unambiguous dates show most, else `default`."""
    day_first = month_first = 0
    for value in values:
        found = _NUMERIC.match(value.strip())
        if found is None or len(found["a"]) > 2:
            continue
        a, b = int(found["a"]), int(found["b"])
        if a > 12 >= b:
            day_first += 1
        elif b > 12 >= a:
            month_first += 1
    if day_first != month_first:
        return "dmy" if day_first > month_first else "mdy"
    return default


def moment(value: object, *, zone: ZoneInfo, now: datetime, order: DateOrder = "mdy") -> datetime | None:
    """The moment `value` names, in UTC; None when empty; `Invalid` when it is not one we accept."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"must be a date as text, {EXAMPLE}")
    cleaned = " ".join(value.split())
    if not cleaned:
        return None
    found = _parse(cleaned, order)
    if found.tzinfo is None:
        found = found.replace(tzinfo=zone)
    at = found.astimezone(UTC)
    if at < EARLIEST:
        raise Invalid(f"{_shown(cleaned)} is before 1970")
    if at > now + FUTURE_SKEW:
        raise Invalid(f"{_shown(cleaned)} is in the future")
    return at


def _parse(value: str, order: DateOrder) -> datetime:
    if _ISO.match(value):
        try:
            return datetime.fromisoformat(value.replace(" ", "T", 1) if "T" not in value else value)
        except ValueError:
            raise Invalid(f"{_shown(value)} is not a date, {EXAMPLE}") from None
    if _SERIAL.match(value):
        return _serial(value)
    if found := _NUMERIC.match(value):
        first, second, third = found["a"], int(found["b"]), found["c"]
        if len(first) == 4:
            year, month, day = int(first), second, int(third)
            label = "year/month/day"
        elif order == "dmy":
            day, month, year = int(first), second, _year(third)
            label = "day/month/year"
        else:
            month, day, year = int(first), second, _year(third)
            label = "month/day/year"
        return _combine(value, year, month, day, found, f" (read as {label})")
    for pattern in (_DAY_NAMED, _NAMED_DAY):
        if found := pattern.match(value):
            named = MONTHS.get(found["m"].lower())
            if named is None:
                raise Invalid(f"{_shown(value)}: {found['m']!r} is not a month")
            return _combine(value, _year(found["y"]), named, int(found["d"]), found, "")
    raise Invalid(f"{_shown(value)} is not a date, {EXAMPLE}")


def _year(text: str) -> int:
    if len(text) == 2:
        short = int(text)
        return 2000 + short if short < 30 else 1900 + short
    if len(text) != 4:
        raise Invalid(f"year {text!r}: write it with 4 digits")
    return int(text)


def _combine(value: str, year: int, month: int, day: int, found: re.Match[str], how: str) -> datetime:
    try:
        day_part = date(year, month, day)
    except ValueError:
        raise Invalid(f"{_shown(value)} is not a date{how}") from None
    return datetime.combine(day_part, _time_of_day(value, found))


def _time_of_day(value: str, found: re.Match[str]) -> time:
    if found["h"] is None:
        return time()
    hour, minute, second = int(found["h"]), int(found["mi"]), int(found["s"] or 0)
    if ampm := found["ampm"]:
        if not 1 <= hour <= 12:
            raise Invalid(f"{_shown(value)}: hour {hour} with {ampm}")
        hour = hour % 12 + (12 if ampm[0] in "Pp" else 0)
    try:
        return time(hour, minute, second)
    except ValueError:
        raise Invalid(f"{_shown(value)} is not a time of day") from None


def _serial(value: str) -> datetime:
    serial = float(value)
    low, high = SERIAL_RANGE
    if not low <= serial < high:
        raise Invalid(f"{_shown(value)} is not a date, {EXAMPLE}")
    return EXCEL_EPOCH + timedelta(seconds=round(serial * 86_400))


def _shown(value: str, limit: int = 40) -> str:
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")
