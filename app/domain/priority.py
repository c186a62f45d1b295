"""Who to call first: one number per lead that a rep can sort a call list by.

    priority = (intent score ÷ 100) × deal value × recency weight
    recency weight = 0.5 ** (days silent ÷ RECENCY_HALF_LIFE_DAYS)

It reads as money: the deal value, discounted by how likely the lead is to buy (the intent
score) and by how cold the trail has gone (halved every two weeks of silence). A €10,000 deal
at score 60, silent 14 days, is worth calling like a €3,000 one: 0.6 × 10,000 × 0.5 = 3,000.

Why a product and not a sum: each factor can veto the others. A perfect score on a €0 deal,
or a big deal whose lead has not answered in a year, should not top the list; a weighted sum
would put both there. Why a longer half-life than the score's own recency part (7 days): the
score already rewards fresh activity; this weight only stops stale leads from riding on value.

Only leads a rep may still work are queued (`QUEUED_STATES`): control leads are held out and
must never be contacted, and recovered or lost leads are done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

RECENCY_HALF_LIFE_DAYS = 14.0
QUEUED_STATES = ("active", "silent", "in_recovery", "replied")
HIGH_INTENT = 70
LOW_INTENT = 30

FORMULA = (
    "Priority = intent score ÷ 100 × deal value × recency weight, where the recency weight halves every "
    f"{RECENCY_HALF_LIFE_DAYS:g} days of silence (1 today, 0.5 after {RECENCY_HALF_LIFE_DAYS:g} days). "
    "Read it as the deal value you can expect to win back by calling now."
)


@dataclass(frozen=True)
class Candidate:
    """What the queue needs to know about one lead."""

    lead_id: int
    score: int
    deal_value: float
    days_silent: float
    state: str = "active"

    def __post_init__(self) -> None:
        if not 0 <= self.score <= 100:
            raise ValueError(f"score must be within 0..100, got {self.score}")
        if self.deal_value < 0:
            raise ValueError("deal value cannot be negative")


def recency_weight(days_silent: float) -> float:
    """1 for a lead active just now, halving every RECENCY_HALF_LIFE_DAYS; a future date counts as now."""
    return float(0.5 ** (max(0.0, days_silent) / RECENCY_HALF_LIFE_DAYS))


def priority(candidate: Candidate) -> float:
    """The lead's priority (see the module docstring): never negative, at most its deal value."""
    return candidate.score / 100 * candidate.deal_value * recency_weight(candidate.days_silent)


def rank(candidates: Iterable[Candidate], limit: int) -> list[Candidate]:
    """The `limit` queued candidates with the highest priority; ties go to the higher score, then the lower id."""
    if limit < 0:
        raise ValueError(f"limit cannot be negative, got {limit}")
    queued = [c for c in candidates if c.state in QUEUED_STATES]
    return sorted(queued, key=lambda c: (-priority(c), -c.score, c.lead_id))[:limit]


def why(candidate: Candidate) -> str:
    """A short reason a rep can read at a glance: the factor that lifts the lead, then the one that holds it back."""
    reasons = [_state_reason(candidate.state)] if candidate.state in ("replied", "in_recovery") else []
    if candidate.score >= HIGH_INTENT:
        reasons.append(f"high intent ({candidate.score})")
    elif candidate.score < LOW_INTENT:
        reasons.append(f"low intent ({candidate.score})")
    else:
        reasons.append(f"intent {candidate.score}")
    reasons.append(f"${candidate.deal_value:,.0f} deal")
    reasons.append(_recency_reason(candidate.days_silent))
    return ", ".join(reasons)


def _state_reason(state: str) -> str:
    return "replied and waits for an answer" if state == "replied" else "a recovery is messaging them"


def _recency_reason(days_silent: float) -> str:
    days = max(0.0, days_silent)
    if days < 1:
        return "active today"
    if days < RECENCY_HALF_LIFE_DAYS:
        return f"quiet {days:.0f} d"
    return f"cold: quiet {days:.0f} d (weight {recency_weight(days):.2f})"
