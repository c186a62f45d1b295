"""What recovery costs: per-channel unit prices and a fixed monthly cost a tenant sets, checked
before anything is saved.

The ROI page prices the messages it counts (sent × unit price per channel) instead of trusting
the provider cost each outbox row recorded: a sandbox send records $0, and a tenant on a
negotiated rate wants its own figure. The prices live in `tenants.settings` under
`unit_prices`, as decimal strings (JSON numbers would turn $0.0079 into a binary float).

Messages and tokens are not all a business pays: the platform and its seats cost a fixed sum
a month whether one message goes out or a million. Left out, a month of recovered deals over a
few dollars of sends reads "157,516× cost", which convinces nobody. That sum lives under
`fixed_monthly_cost` (a decimal string too) and is prorated to the days a figure covers
(`prorated_fixed_cost`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

SETTINGS_KEY = "unit_prices"
CHANNELS = ("email", "sms")
CHANNEL_NAMES = {"email": "Email", "sms": "SMS"}
MAX_PRICE = Decimal(10)  # dollars per message: anything above is a typo (cents typed as dollars, …)
PLACES = 6  # the precision of the cost columns (Numeric(12, 6))

# Defaults, editable per tenant on the ROI page: SendGrid's list price is about $0.001 per
# email on its volume plans, Twilio's about $0.0079 per outbound US SMS segment.
DEFAULT_EMAIL = Decimal("0.001")
DEFAULT_SMS = Decimal("0.0079")


@dataclass(frozen=True)
class UnitPrices:
    """Dollars per message sent, per channel: non-negative, at most `MAX_PRICE`, at most
    `PLACES` decimal places."""

    email: Decimal = DEFAULT_EMAIL
    sms: Decimal = DEFAULT_SMS

    def __post_init__(self) -> None:
        for channel in CHANNELS:
            check_price(channel, getattr(self, channel))

    @classmethod
    def parse(cls, *, email: str, sms: str) -> UnitPrices:
        """Prices as typed (`"0.001"`, `"$0.0079"`); raises `ValueError` naming the channel."""
        return cls(email=parse_price("email", email), sms=parse_price("sms", sms))

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> UnitPrices:
        """The tenant's saved prices; the default for a channel never set or stored unreadable,
        so a bad row shows default figures rather than stopping the page."""
        saved = (settings or {}).get(SETTINGS_KEY)
        saved = saved if isinstance(saved, Mapping) else {}
        found: dict[str, Decimal] = {}
        for channel in CHANNELS:
            try:
                found[channel] = parse_price(channel, str(saved[channel]))
            except (KeyError, ValueError):
                continue
        return cls(**found)

    def to_settings(self) -> dict[str, str]:
        """The jsonb value stored under `SETTINGS_KEY`."""
        return {channel: format(getattr(self, channel), "f") for channel in CHANNELS}

    def of(self, channel: str) -> Decimal:
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
        price: Decimal = getattr(self, channel)
        return price

    @property
    def is_default(self) -> bool:
        return self == UnitPrices()


def decimal_places(amount: Decimal) -> int:
    """The decimal places a finite amount needs, trailing zeros aside. Exact, unlike `normalize()`,
    which rounds to the context: 5.000…0001 (29 digits or more) would read as 5, and 1e-1000030 as 0."""
    _, digits, exponent = amount.as_tuple()
    significant = "".join(map(str, digits)).rstrip("0")
    if not significant or not isinstance(exponent, int):
        return 0
    return max(0, -(exponent + len(digits) - len(significant)))


def check_price(channel: str, price: Decimal) -> None:
    name = CHANNEL_NAMES.get(channel, channel)
    if not price.is_finite():
        raise ValueError(f"{name} price: enter a number of dollars, e.g. 0.001")
    if price < 0:
        raise ValueError(f"{name} price: cannot be negative")
    if price > MAX_PRICE:
        raise ValueError(f"{name} price: at most ${MAX_PRICE} per message (is it in dollars?)")
    if decimal_places(price) > PLACES:
        raise ValueError(f"{name} price: at most {PLACES} decimal places")


def parse_price(channel: str, text: str) -> Decimal:
    """A price as typed, in dollars; a leading `$` and surrounding spaces are allowed."""
    name = CHANNEL_NAMES.get(channel, channel)
    cleaned = text.strip().removeprefix("$").strip()
    try:
        price = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{name} price: enter a number of dollars, e.g. 0.001 (got {text.strip()!r})") from None
    check_price(channel, price)
    return Decimal(format(price.normalize(), "f")) if price != 0 else Decimal(0)


FIXED_COST_KEY = "fixed_monthly_cost"
MAX_FIXED_MONTHLY = Decimal(1_000_000)  # dollars a month: anything above is a typo
DAYS_PER_MONTH = Decimal("365.25") / 12  # 30.4375: the average month, leap years included
FIXED_COST_NAME = "Fixed cost"


def check_fixed_monthly(amount: Decimal) -> None:
    if not amount.is_finite():
        raise ValueError(f"{FIXED_COST_NAME}: enter dollars a month, e.g. 2500")
    if amount < 0:
        raise ValueError(f"{FIXED_COST_NAME}: cannot be negative")
    if amount > MAX_FIXED_MONTHLY:
        raise ValueError(f"{FIXED_COST_NAME}: at most ${MAX_FIXED_MONTHLY:,} a month")
    if decimal_places(amount) > 2:
        raise ValueError(f"{FIXED_COST_NAME}: at most 2 decimal places (dollars and cents)")


def parse_fixed_monthly(text: str) -> Decimal:
    """Dollars a month as typed (`"2500"`, `"$2,500.00"`); empty is 0; raises `ValueError` naming the field."""
    cleaned = text.strip().removeprefix("$").strip().replace(",", "")
    if not cleaned:
        return Decimal(0)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{FIXED_COST_NAME}: enter dollars a month, e.g. 2500 (got {text.strip()!r})") from None
    check_fixed_monthly(amount)
    return Decimal(format(amount.normalize(), "f")) if amount != 0 else Decimal(0)


def fixed_monthly_from_settings(settings: Mapping[str, Any] | None) -> Decimal:
    """The tenant's saved fixed monthly cost; 0 when never set or stored unreadable (a bad row
    shows the figures without it rather than stopping the page)."""
    try:
        return parse_fixed_monthly(str((settings or {})[FIXED_COST_KEY]))
    except (KeyError, ValueError):
        return Decimal(0)


def fixed_monthly_to_settings(amount: Decimal) -> str:
    """The jsonb value stored under `FIXED_COST_KEY`: a decimal string."""
    return format(amount, "f")


def prorated_fixed_cost(monthly: Decimal, days: int | Decimal) -> Decimal:
    """The part of a fixed monthly cost that falls on `days` days.

    The rule: monthly × days ÷ (365.25 ÷ 12). A month is the average Gregorian month, 30.4375
    days, so every day of the year carries the same share: twelve months of days sum to twelve
    monthly payments over a year (leap years included), and a 30-day period carries slightly
    less than one month's cost, a 31-day one slightly more. Not rounded: callers sum days and
    round once, when they show the figure. E.g. $3,043.75 a month is $100 a day; $2,500 a month
    over 30 days is 75,000 ÷ 30.4375 = $2,464.07.
    """
    return monthly * Decimal(days) / DAYS_PER_MONTH


def message_cost(prices: UnitPrices, sent: Mapping[str, int]) -> Decimal:
    """Σ messages sent × that channel's unit price."""
    return sum((prices.of(channel) * count for channel, count in sent.items()), Decimal(0))


def roi(revenue: Decimal, cost: Decimal) -> float | None:
    """Return on spend, (revenue − cost) ÷ cost; None when nothing was spent."""
    return float((revenue - cost) / cost) if cost > 0 else None
