"""Intent score: how likely a lead is to buy now, 0-100, from signals a rep can check.

Every point comes from one named part with a sentence saying why, and the parts add up to the
total, so the console can show a lead's score as its breakdown. The parts and their ceilings:

- *recency* (up to 30): `30 × 0.5 ** (days_silent / 7)`; the half-life is `HALF_LIFE_DAYS`
  (a lead silent a week gets half, two weeks a quarter).
- *engagement* (up to 30): per kind of activity over the last 30 days, `weight × log2(1 +
  count)` (the second click adds less than the first), summed and capped (`ENGAGEMENT_WEIGHTS`).
- *sentiment* (−15 to +10): the latest triaged reply's sentiment (`SENTIMENT_POINTS`).
- *value* (up to 15): the deal value relative to the tenant's 80th percentile, so a €2,000 deal
  counts as much at a dental group as a €40,000 one at a solar installer.
- *source* (0-8) and *stage* (0-7): fixed tables (`SOURCE_POINTS`, `STAGE_POINTS`).
- *floor*: when a negative reply pulls the sum below 0, the points that bring it back to 0.

Each part is rounded on its own, so the total is exactly the sum of what the console shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HALF_LIFE_DAYS = 7.0
RECENCY_MAX = 30.0
ENGAGEMENT_MAX = 30.0
VALUE_MAX = 15.0
ENGAGEMENT_WINDOW_DAYS = 30

ENGAGEMENT_WEIGHTS: dict[str, float] = {
    # signal: points for the first one; each doubling of the count adds as much again
    "opens": 1.0,  # weak: mail clients open messages by themselves
    "clicks": 4.0,
    "page_views": 2.0,
    "forms": 6.0,
    "calls": 6.0,
    "replies": 6.0,
}
SENTIMENT_POINTS: dict[str, int] = {"positive": 10, "neutral": 2, "negative": -15}
SOURCE_POINTS: dict[str, int] = {
    "referral": 8,
    "partner": 7,
    "web_form": 6,
    "live_chat": 6,
    "webinar": 5,
    "trade_show": 5,
    "organic_search": 4,
    "google_ads": 3,
    "meta_ads": 2,
    "cold_outbound": 1,
}
SOURCE_DEFAULT = 2
"""Points for a source not in `SOURCE_POINTS` (unknown, or a tenant's own)."""
STAGE_POINTS: dict[str, int] = {"new": 1, "contacted": 2, "qualified": 4, "proposal": 6, "negotiation": 7}
STAGE_DEFAULT = 0


@dataclass(frozen=True)
class Signals:
    """What the score is computed from, for one lead; counts cover the last 30 days."""

    days_silent: float
    opens: int = 0
    clicks: int = 0
    page_views: int = 0
    forms: int = 0
    calls: int = 0
    replies: int = 0
    sentiment: str | None = None
    deal_value: float = 0.0
    deal_value_p80: float = 0.0
    source: str = "unknown"
    stage: str = "new"

    def __post_init__(self) -> None:
        if any(getattr(self, name) < 0 for name in ENGAGEMENT_WEIGHTS):
            raise ValueError("engagement counts cannot be negative")
        if self.deal_value < 0 or self.deal_value_p80 < 0:
            raise ValueError("deal values cannot be negative")
        if self.sentiment is not None and self.sentiment not in SENTIMENT_POINTS:
            raise ValueError(f"sentiment must be one of {', '.join(SENTIMENT_POINTS)} or None")


@dataclass(frozen=True)
class Part:
    """One line of a score's breakdown."""

    name: str
    points: int
    why: str


@dataclass(frozen=True)
class Score:
    """A total in 0..100 and the parts that add up to it."""

    total: int
    parts: tuple[Part, ...]


def score(signals: Signals) -> Score:
    """The lead's intent score and its breakdown."""
    parts = [recency(signals), engagement(signals), sentiment(signals), value(signals), source(signals), stage(signals)]
    subtotal = sum(part.points for part in parts)
    if subtotal < 0:
        parts.append(Part("floor", -subtotal, "a score never goes below 0"))
    total = sum(part.points for part in parts)
    return Score(total=total, parts=tuple(parts))  # the ceilings add up to exactly 100


def recency(signals: Signals) -> Part:
    days = max(0.0, signals.days_silent)
    points = round(RECENCY_MAX * 0.5 ** (days / HALF_LIFE_DAYS))
    return Part("recency", points, f"last activity {days:.1f} days ago (half-life {HALF_LIFE_DAYS:g} days)")


def engagement(signals: Signals) -> Part:
    counts = {name: int(getattr(signals, name)) for name in ENGAGEMENT_WEIGHTS}
    raw = sum(weight * math.log2(1 + counts[name]) for name, weight in ENGAGEMENT_WEIGHTS.items())
    points = round(min(ENGAGEMENT_MAX, raw))
    seen = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items() if count)
    why = f"{seen or 'no engagement'} in {ENGAGEMENT_WINDOW_DAYS} days"
    return Part("engagement", points, why + (" (capped)" if raw > ENGAGEMENT_MAX else ""))


def sentiment(signals: Signals) -> Part:
    if signals.sentiment is None:
        return Part("sentiment", 0, "no triaged reply")
    return Part("sentiment", SENTIMENT_POINTS[signals.sentiment], f"latest reply was {signals.sentiment}")


def value(signals: Signals) -> Part:
    if signals.deal_value_p80 <= 0:
        return Part("value", 0, "no deal values in this account to compare with")
    share = min(1.0, signals.deal_value / signals.deal_value_p80)
    points = round(VALUE_MAX * share)
    return Part("value", points, f"deal {signals.deal_value:,.0f} is {share:.0%} of the account's top-fifth mark")


def source(signals: Signals) -> Part:
    points = SOURCE_POINTS.get(signals.source, SOURCE_DEFAULT)
    return Part("source", points, f"came from {signals.source.replace('_', ' ')}")


def stage(signals: Signals) -> Part:
    points = STAGE_POINTS.get(signals.stage, STAGE_DEFAULT)
    return Part("stage", points, f"at stage {signals.stage}")
