"""What a model call costs, from the token counts the API reports.

The prices below are configuration, not measurements: Anthropic's published list prices in
USD per million tokens (standard tier, prompts under any long-context threshold, 5-minute
cache writes), as read from platform.claude.com's pricing and model pages in November 2026.
Sonnet 5.5's cache-read price is the reduced one reported from 2026-10-07. Check them against
the current pricing page when you change models. A model we do not know is priced like a
Sonnet 4.x, so the cost column errs towards a plausible figure rather than showing zero.

Requests sent through the Message Batches API are billed at half these prices, every kind of
token alike (the pricing page's "Batch processing" table; prompt-caching multipliers stack on
top of the batch discount), so a batch answer's cost is `cost_usd(..., batch=True)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

MILLION = Decimal(1_000_000)
MICRODOLLAR = Decimal("0.000001")


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: Decimal
    output: Decimal
    cache_write: Decimal
    cache_read: Decimal


def _price(input_: str, output: str, cache_write: str, cache_read: str) -> Price:
    return Price(Decimal(input_), Decimal(output), Decimal(cache_write), Decimal(cache_read))


# Matched by the longest prefix, so dated ids ("claude-sonnet-4-5-20250929") find their family.
PRICES: dict[str, Price] = {
    "claude-fable-5-1": _price("10", "50", "12.50", "0.25"),
    "claude-mythos-5-1": _price("10", "50", "12.50", "0.25"),
    "claude-fable-5": _price("10", "50", "12.50", "1"),
    "claude-mythos-5": _price("10", "50", "12.50", "1"),
    "claude-opus-5-5": _price("4", "20", "5", "0.20"),
    "claude-opus-5": _price("5", "25", "6.25", "0.50"),
    "claude-opus-4-8": _price("5", "25", "6.25", "0.50"),
    "claude-opus-4-7": _price("5", "25", "6.25", "0.50"),
    "claude-opus-4-6": _price("5", "25", "6.25", "0.50"),
    "claude-opus-4-5": _price("5", "25", "6.25", "0.50"),
    "claude-opus-4-1": _price("15", "75", "18.75", "1.50"),
    "claude-opus-4": _price("15", "75", "18.75", "1.50"),
    "claude-sonnet-5-5": _price("2", "10", "2.50", "0.10"),
    "claude-sonnet-5": _price("2", "10", "2.50", "0.20"),
    "claude-sonnet-4": _price("3", "15", "3.75", "0.30"),
    "claude-3-7-sonnet": _price("3", "15", "3.75", "0.30"),
    "claude-haiku-5-5": _price("0.10", "0.50", "0.125", "0.01"),
    "claude-haiku-4-5": _price("1", "5", "1.25", "0.10"),
    "claude-3-5-haiku": _price("0.80", "4", "1", "0.08"),
    "claude-3-haiku": _price("0.25", "1.25", "0.30", "0.03"),
}
DEFAULT_PRICE = PRICES["claude-sonnet-4"]
BATCH_DISCOUNT = Decimal("0.5")


@dataclass(frozen=True)
class Usage:
    """Token counts as the Messages API reports them; `input_tokens` excludes cached ones."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )

    @property
    def uncached_input(self) -> int:
        """Input billed at or above the base rate: fresh tokens plus those written to the cache."""
        return self.input_tokens + self.cache_write_tokens


def price_for(model: str) -> Price:
    matches = [prefix for prefix in PRICES if model.startswith(prefix)]
    return PRICES[max(matches, key=len)] if matches else DEFAULT_PRICE


def cost_usd(model: str, usage: Usage, *, batch: bool = False) -> Decimal:
    """The dollar cost of `usage` on `model`, to the millionth of a dollar (half through a batch)."""
    price = price_for(model)
    total = (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_write_tokens * price.cache_write
        + usage.cache_read_tokens * price.cache_read
    ) / MILLION
    return (total * BATCH_DISCOUNT if batch else total).quantize(MICRODOLLAR)
