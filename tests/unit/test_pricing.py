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
