"""How the console writes figures (components/format.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from components import format as fmt


def test_counts_money_and_percentages() -> None:
    assert fmt.count(1234567) == "1,234,567"
    assert fmt.money(Decimal("12345.6")) == "$12,346"
    assert fmt.money(-3.5, cents=True) == "-$3.50"
    assert fmt.percent(0.1234) == "12.3%"
    assert fmt.percent(None) == fmt.count(None) == fmt.money(None) == fmt.MISSING
    assert fmt.money(float("nan")) == fmt.percent(float("nan")) == fmt.MISSING


@pytest.mark.parametrize(("hours", "shown"), [(24, "24 h"), (72, "72 h"), (168, "7 d"), (170, "170 h")])
def test_hours(hours: int, shown: str) -> None:
    assert fmt.hours(hours) == shown


def test_ago() -> None:
    now = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    assert fmt.ago(None, now) == fmt.MISSING
    assert fmt.ago(now - dt.timedelta(seconds=5), now) == "just now"
    assert fmt.ago(now - dt.timedelta(minutes=5), now) == "5 min ago"
    assert fmt.ago(now - dt.timedelta(hours=3), now) == "3 h ago"
    assert fmt.ago(now - dt.timedelta(days=2), now) == "2 d ago"


def test_money_compact_fits_a_hero_card() -> None:
    assert fmt.money_compact(12_345) == "$12,345"
    assert fmt.money_compact(184_400) == "$184k"
    assert fmt.money_compact(1_843_210) == "$1.84M"
    assert fmt.money_compact(-2_500_000) == "-$2.50M"
    assert fmt.money_compact(None) == fmt.MISSING


def test_roi_reads_as_a_percentage_then_as_a_multiple_of_cost() -> None:
    assert fmt.roi(None) == fmt.MISSING
    assert fmt.roi(2.45) == "245.0%"
    assert fmt.roi(9.99) == "999.0%"
    assert fmt.roi(10.0) == "11× cost"
    assert fmt.roi(123_074.32) == "123,075× cost"
    assert fmt.roi(-0.5) == "-50.0%"
