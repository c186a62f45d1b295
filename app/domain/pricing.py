"""What a message costs: per-channel unit prices a tenant sets, checked before anything is saved.

The ROI page prices the messages it counts (sent × unit price per channel) instead of trusting
the provider cost each outbox row recorded: a sandbox send records $0, and a tenant on a
negotiated rate wants its own figure. The prices live in `tenants.settings` under
`unit_prices`, as decimal strings (JSON numbers would turn $0.0079 into a binary float).
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


def check_price(channel: str, price: Decimal) -> None:
    name = CHANNEL_NAMES.get(channel, channel)
    if not price.is_finite():
        raise ValueError(f"{name} price: enter a number of dollars, e.g. 0.001")
    if price < 0:
        raise ValueError(f"{name} price: cannot be negative")
    if price > MAX_PRICE:
        raise ValueError(f"{name} price: at most ${MAX_PRICE} per message (is it in dollars?)")
    exponent = price.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PLACES:
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


def message_cost(prices: UnitPrices, sent: Mapping[str, int]) -> Decimal:
    """Σ messages sent × that channel's unit price."""
    return sum((prices.of(channel) * count for channel, count in sent.items()), Decimal(0))


def roi(revenue: Decimal, cost: Decimal) -> float | None:
    """Return on spend, (revenue − cost) ÷ cost; None when nothing was spent."""
    return float((revenue - cost) / cost) if cost > 0 else None
