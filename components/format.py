"""How figures read on screen: one place, so every page (and the tests) format them alike."""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal

Number = int | float | Decimal
MISSING = "—"


def count(value: int | None) -> str:
    """`1,234`."""
    return MISSING if value is None else f"{int(value):,}"


def money(value: Number | None, *, cents: bool = False) -> str:
    """`$12,345` (whole dollars: the headline figures), or `$3.27` with `cents`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    amount = float(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}" if cents else f"{sign}${abs(amount):,.0f}"


def money_compact(value: Number | None) -> str:
    """`$12,345` below $100k, else `$184k` / `$1.84M`: a hero card has room for a few characters."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    amount = float(value)
    sign = "-" if amount < 0 else ""
    size = abs(amount)
    if size >= 1_000_000:
        return f"{sign}${size / 1_000_000:,.2f}M"
    if size >= 100_000:
        return f"{sign}${size / 1_000:,.0f}k"
    return money(value)


def percent(ratio: float | None) -> str:
    """`12.3%` from a ratio of 0.123 (`1,824%` from 18.24); a dash when there is nothing to divide by."""
    if ratio is None or math.isnan(ratio):
        return MISSING
    shown = ratio * 100
    return f"{shown:,.0f}%" if abs(shown) >= 1000 else f"{shown:.1f}%"


ROI_AS_MULTIPLE_FROM = 10.0  # 1,000 %: beyond it a percentage has too many digits to read at a glance


def roi(ratio: float | None) -> str:
    """ROI as a percentage (`245%`), or, from 1,000 %, as revenue over cost (`123,075× cost`).

    Recovery messages cost cents and deals are worth thousands, so a true ROI reads like
    12,307,432 %; "123,075× cost" says the same (revenue = (ROI + 1) × cost) in a way people read.
    """
    if ratio is None or math.isnan(ratio):
        return MISSING
    if ratio >= ROI_AS_MULTIPLE_FROM:
        return f"{ratio + 1:,.0f}× cost"
    return percent(ratio)


def hours(value: int) -> str:
    """`72 h`, or `14 d` for whole days of a week or more."""
    return f"{value // 24} d" if value >= 168 and value % 24 == 0 else f"{value} h"


def hour_of_day(value: int) -> str:
    return f"{value:02d}:00"


def ago(moment: dt.datetime | None, now: dt.datetime) -> str:
    """`just now`, `5 min ago`, `3 h ago`, `2 d ago`; a dash for never."""
    if moment is None:
        return MISSING
    seconds = max(0.0, (now - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def plain(text: object) -> str:
    """CRM text (names, companies) shown as written where Streamlit reads Markdown: every ASCII
    punctuation mark backslash-escaped (CommonMark), so a lead's name can never become a link,
    emphasis or HTML. Missing text is empty."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", str(text))
