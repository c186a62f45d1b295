"""Finds the date a reply names ("back on 3 January", "next month", "in 2 weeks").

Why: an out-of-office reply should delay the next step until the person is back, and a
"not now" should snooze until the moment they named; both fall back to None so the caller
chooses its own default rather than this guessing one.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for name in names
}
WEEKDAYS = {d: i for i, d in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}
NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "a few": 3, "a couple": 2, "a couple of": 2, "six": 6}

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\b\.?")
_MONTH_DAY = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b")
_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})\b")
_ORDINAL = re.compile(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b")
_MONTH_ONLY = re.compile(rf"\b(?:in|until|til|till|after|from)\s+({_MONTH})\b")
_WEEKDAY = re.compile(r"\b(next\s+)?(" + "|".join(WEEKDAYS) + r")\b")
_IN_N = re.compile(r"\bin\s+(\d+|a couple of|a couple|a few|a|one|two|three|four|six)\s+(day|week|month)s?\b")
_NUMBER_UNITS = re.compile(r"\b(\d+)\s+days\b")


def _next(d: date, today: date) -> date:
    """The named day-of-year on or after today (a date already passed means next year's)."""
    return d if d >= today else d.replace(year=d.year + 1)


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _add_months(d: date, months: int) -> date:
    month = d.month - 1 + months
    year, month = d.year + month // 12, month % 12 + 1
    for day in (d.day, 30, 29, 28):
        got = _safe(year, month, day)
        if got is not None:
            return got
    raise AssertionError("unreachable: the 28th exists in every month")


def extract_date(text: str, today: date) -> date | None:
    """The first date the text names, on or after today, else None."""
    t = text.lower()
    for rx, order in ((_DAY_MONTH, "dm"), (_MONTH_DAY, "md")):
        m = rx.search(t)
        if m:
            day, month = (m.group(1), m.group(2)) if order == "dm" else (m.group(2), m.group(1))
            got = _safe(today.year, MONTHS[month], int(day))
            if got is not None:
                return _next(got, today)
    m = _NUMERIC.search(t)
    if m:
        got = _safe(today.year, int(m.group(1)), int(m.group(2)))
        if got is not None:
            return _next(got, today)
    m = _IN_N.search(t)
    if m:
        raw = m.group(1)
        n = int(raw) if raw.isdigit() else NUMBERS.get(raw, 1)
        unit = m.group(2)
        if unit == "month":
            return _add_months(today, n)
        return today + timedelta(days=n * (7 if unit == "week" else 1))
    m = _NUMBER_UNITS.search(t)
    if m:
        return today + timedelta(days=int(m.group(1)))
    if "next month" in t:
        return _add_months(today, 1).replace(day=1)
    if "next week" in t:
        return today + timedelta(days=7 - today.weekday())
    if "next quarter" in t:
        return _add_months(today, 3 - (today.month - 1) % 3).replace(day=1)
    if "new year" in t:
        return date(today.year + 1, 1, 1)
    if "tomorrow" in t:
        return today + timedelta(days=1)
    m = _WEEKDAY.search(t)
    if m:
        ahead = (WEEKDAYS[m.group(2)] - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    m = _ORDINAL.search(t)
    if m:
        day = int(m.group(1))
        got = _safe(today.year, today.month, day)
        if got is not None and got > today:
            return got
        nxt = _add_months(today.replace(day=1), 1)
        return _safe(nxt.year, nxt.month, day)
    m = _MONTH_ONLY.search(t)
    if m:
        return _next(date(today.year, MONTHS[m.group(1)], 1), today)
    return None
