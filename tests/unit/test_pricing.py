"""Unit prices: what a tenant may type, what is stored, and what a stored value reads back as."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain import pricing
from app.domain.pricing import UnitPrices


def test_defaults_are_sendgrid_and_twilio_list_prices() -> None:
    prices = UnitPrices()
    assert (prices.email, prices.sms) == (Decimal("0.001"), Decimal("0.0079"))
    assert prices.is_default
    assert UnitPrices.from_settings(None) == prices
    assert UnitPrices.from_settings({"other": 1}) == prices


@pytest.mark.parametrize(
    ("email", "sms", "expected"),
    [
        ("0.002", "0.01", (Decimal("0.002"), Decimal("0.01"))),
        (" $0.0015 ", "0", (Decimal("0.0015"), Decimal(0))),
        ("0.0010000", "10", (Decimal("0.001"), Decimal(10))),
    ],
)
def test_typed_prices_are_read_exactly(email: str, sms: str, expected: tuple[Decimal, Decimal]) -> None:
    prices = UnitPrices.parse(email=email, sms=sms)
    assert (prices.email, prices.sms) == expected


@pytest.mark.parametrize(
    ("email", "sms", "message"),
    [
        ("-0.001", "0.01", "Email price: cannot be negative"),
        ("0.001", "cheap", "SMS price: enter a number of dollars"),
        ("", "0.01", "Email price: enter a number of dollars"),
        ("NaN", "0.01", "Email price: enter a number of dollars"),
        ("Infinity", "0.01", "Email price: enter a number of dollars"),
        ("0.001", "10.01", "SMS price: at most $10"),
        ("0.0000001", "0.01", "Email price: at most 6 decimal places"),
        # found by fuzzing: Decimal.normalize() rounds to 28 digits, so these read as 5 and as 0 and were saved
        ("5.000000000000000000000000000000000001", "0.01", "Email price: at most 6 decimal places"),
        ("0.001", "1e-99999999999", "SMS price: at most 6 decimal places"),
    ],
)
def test_bad_prices_are_refused_by_channel(email: str, sms: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("$", r"\$")):
        UnitPrices.parse(email=email, sms=sms)


def test_a_negative_price_cannot_be_built_either() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        UnitPrices(email=Decimal("-1"))


def test_settings_round_trip_as_decimal_strings() -> None:
    prices = UnitPrices.parse(email="0.0012", sms="0.0456")
    stored = prices.to_settings()
    assert stored == {"email": "0.0012", "sms": "0.0456"}
    assert UnitPrices.from_settings({pricing.SETTINGS_KEY: stored, "unsubscribe_email": "x@y"}) == prices


def test_an_unreadable_stored_price_falls_back_to_its_default_only() -> None:
    stored = {pricing.SETTINGS_KEY: {"email": "-5", "sms": "0.05"}}
    assert UnitPrices.from_settings(stored) == UnitPrices(email=pricing.DEFAULT_EMAIL, sms=Decimal("0.05"))
    assert UnitPrices.from_settings({pricing.SETTINGS_KEY: "garbage"}) == UnitPrices()


def test_message_cost_and_roi() -> None:
    prices = UnitPrices.parse(email="0.001", sms="0.0079")
    assert pricing.message_cost(prices, {"email": 1000, "sms": 100}) == Decimal("1.790")
    assert pricing.roi(Decimal(30), Decimal(10)) == 2.0
    assert pricing.roi(Decimal(30), Decimal(0)) is None
    with pytest.raises(ValueError, match="unknown channel"):
        pricing.message_cost(prices, {"fax": 1})


# --- the fixed monthly cost ------------------------------------------------------------------
# The rule: monthly × days ÷ (365.25 ÷ 12), a month being 30.4375 days.


@pytest.mark.parametrize(
    ("monthly", "days", "expected"),
    [
        ("3043.75", 1, "100"),  # 3,043.75 ÷ 30.4375 = 100 exactly: $100 a day
        ("3043.75", 7, "700"),
        ("3043.75", 30, "3000"),
        ("2500", "365.25", "30000"),  # a whole year of days is twelve payments: 2,500 × 12
        ("0", 30, "0"),
    ],
)
def test_the_fixed_cost_is_prorated_by_days_of_an_average_month(monthly: str, days: int | str, expected: str) -> None:
    found = pricing.prorated_fixed_cost(Decimal(monthly), Decimal(days))
    assert found == Decimal(expected)


def test_a_30_day_period_carries_a_little_less_than_a_month() -> None:
    # 2,500 × 30 = 75,000; 30.4375 × 2,464 = 74,998, so 75,000 ÷ 30.4375 = 2,464 + 2 ÷ 30.4375 = 2,464.0657…
    found = pricing.prorated_fixed_cost(Decimal(2500), 30)
    assert found.quantize(Decimal("0.0001")) == Decimal("2464.0657")
    # 31 days: 77,500 ÷ 30.4375 = 2,546.2012… (30.4375 × 2,546 = 77,493.875; 6.125 ÷ 30.4375 = 0.2012)
    assert pricing.prorated_fixed_cost(Decimal(2500), 31).quantize(Decimal("0.0001")) == Decimal("2546.2012")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("2500", Decimal(2500)), (" $2,500.00 ", Decimal(2500)), ("1999.99", Decimal("1999.99")), ("", Decimal(0))],
)
def test_a_typed_fixed_cost_is_read_exactly(typed: str, expected: Decimal) -> None:
    assert pricing.parse_fixed_monthly(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-1", "Fixed cost: cannot be negative"),
        ("lots", "Fixed cost: enter dollars a month"),
        ("NaN", "Fixed cost: enter dollars a month"),
        ("10.001", "Fixed cost: at most 2 decimal places"),
        ("1000000.01", "Fixed cost: at most $1,000,000 a month"),
        ("100.0000000000000000000000000000000001", "Fixed cost: at most 2 decimal places"),
        ("1e-99999999999", "Fixed cost: at most 2 decimal places"),
    ],
)
def test_a_bad_fixed_cost_is_refused_by_name(typed: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("$", r"\$")):
        pricing.parse_fixed_monthly(typed)


def test_the_stored_fixed_cost_reads_back_and_a_bad_one_counts_as_none() -> None:
    stored = {pricing.FIXED_COST_KEY: pricing.fixed_monthly_to_settings(Decimal("2750.50"))}
    assert stored == {"fixed_monthly_cost": "2750.50"}
    assert pricing.fixed_monthly_from_settings(stored) == Decimal("2750.50")
    assert pricing.fixed_monthly_from_settings(None) == 0
    assert pricing.fixed_monthly_from_settings({pricing.FIXED_COST_KEY: "-3"}) == 0
    assert pricing.fixed_monthly_from_settings({pricing.FIXED_COST_KEY: {"x": 1}}) == 0
