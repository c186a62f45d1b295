"""A campaign's A/B test: which message variant has the best rate, and when to stop asking.

The rule, checked as often as anyone likes:

1. **No verdict below the minimum sample.** Until every variant has `min_per_arm` sends the
   test is `collecting`, whatever the numbers say: a few early replies decide nothing, and the
   test's normal approximation needs some volume.
2. **A winner only at the configured confidence.** The variant with the highest observed rate
   wins (`decided`) once the mixture sequential probability ratio (`app.domain.msprt`) of its
   rate against every other variant's reaches 1/α, α = 1 − confidence (20 at 0.95), with α
   shared among the pairs when there are more than two variants. Between equal variants that
   happens, however often the test is checked, with probability at most α: the confidence is
   the share of A/A tests that never crown a winner.
3. **Stop early when the difference cannot matter.** With no winner, the test ends with
   `no_difference` once picking *any* variant would cost less than `max_loss` in expected rate
   (each variant's Bayesian expected loss Σ E[max(other − this, 0)] under uniform priors,
   `app.domain.beta`, is below it): the variants are then known to be within a hair of each
   other. This stop promotes nothing, so it cannot add false winners.
4. Otherwise the test is `leading`: the leader is the variant with the highest observed rate.

The figures shown beside the verdict: each rate with its Wilson interval, the evidence (the
leader's smallest ratio against a rival), the posterior probability of being best, and the
expected loss of picking each variant.

What the rule promises, as properties (tests/unit/test_ab_test.py): it is symmetric in the
variants; it never decides below the minimum sample; and, at a fixed confidence, more evidence
the same way (another success for the winner, another failure for a rival) does not take a
winner back. The last holds because, at a ratio of 1/α or more, the exponent dominates Λ and
grows with d²/V; it is checked, not proved, for the normal approximation. A recorded verdict
is final anyway (`app/services/ab_decisions.py`).

Successes that arrive late (a reply days after its send) count when they arrive, as failures
until then; both variants are affected alike while they are sent side by side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any

from app.domain.beta import expected_excess, posterior, prob_greater
from app.domain.lift import wilson
from app.domain.msprt import likelihood_ratio

METRICS: dict[str, str] = {"replied": "reply rate", "clicked": "click rate", "converted": "conversion rate"}
"""What counts as a success of a sent message, and how its rate reads on screen."""
DEFAULT_METRIC = "replied"
DEFAULT_CONFIDENCE = 0.95
DEFAULT_MIN_PER_ARM = 100
DEFAULT_MAX_LOSS = 0.002
"""0.2 percentage points of rate: below this, a better variant is not worth more sends."""
DEFAULT_EFFECT = 0.02
"""The mSPRT's τ: the test finds differences of about 2 points of rate soonest."""


class State(StrEnum):
    COLLECTING = "collecting"
    LEADING = "leading"
    DECIDED = "decided"
    NO_DIFFERENCE = "no_difference"


FINAL_STATES = frozenset({State.DECIDED, State.NO_DIFFERENCE})


@dataclass(frozen=True)
class Settings:
    """A campaign's test, as kept in `campaigns.variants['test']`."""

    metric: str = DEFAULT_METRIC
    confidence: float = DEFAULT_CONFIDENCE
    min_per_arm: int = DEFAULT_MIN_PER_ARM
    max_loss: float = DEFAULT_MAX_LOSS
    effect: float = DEFAULT_EFFECT

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"metric: must be one of {', '.join(METRICS)}, got {self.metric!r}")
        if not 0.5 < self.confidence < 1:
            raise ValueError(f"confidence: must be above 0.5 and below 1 (e.g. 0.95), got {self.confidence!r}")
        if self.min_per_arm < 1:
            raise ValueError(f"min_per_arm: must be at least 1 send, got {self.min_per_arm!r}")
        if not 0 <= self.max_loss < 1:
            raise ValueError(f"max_loss: must be a rate from 0 (never stop early) to below 1, got {self.max_loss!r}")
        if not 0 < self.effect < 1:
            raise ValueError(f"effect: must be a rate difference above 0 and below 1 (e.g. 0.02), got {self.effect!r}")

    @property
    def label(self) -> str:
        return METRICS[self.metric]

    @classmethod
    def from_json(cls, raw: Any) -> Settings:
        """The settings stored as JSON (None or {}: the defaults); ValueError naming the bad key."""
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ValueError(f"the test settings must be an object, got {type(raw).__name__}")
        unknown = sorted(set(raw) - set(KEYS))
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown setting (expected {', '.join(KEYS)})")
        min_per_arm = raw.get("min_per_arm", DEFAULT_MIN_PER_ARM)
        if isinstance(min_per_arm, bool) or not isinstance(min_per_arm, int):
            raise ValueError(f"min_per_arm: must be a whole number of sends, got {min_per_arm!r}")
        return cls(
            metric=raw.get("metric", DEFAULT_METRIC),
            confidence=_number(raw, "confidence", DEFAULT_CONFIDENCE),
            min_per_arm=min_per_arm,
            max_loss=_number(raw, "max_loss", DEFAULT_MAX_LOSS),
            effect=_number(raw, "effect", DEFAULT_EFFECT),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "confidence": self.confidence,
            "min_per_arm": self.min_per_arm,
            "max_loss": self.max_loss,
            "effect": self.effect,
        }


KEYS = ("metric", "confidence", "min_per_arm", "max_loss", "effect")


def _number(raw: Mapping[str, Any], key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key}: must be a number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Arm:
    """One variant's counts: messages sent, and how many of them had the metric's success."""

    name: str
    sent: int
    successes: int

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a variant needs a name")
        if self.sent < 0 or not 0 <= self.successes <= self.sent:
            raise ValueError(f"variant {self.name}: need 0 <= successes <= sent, got {self.successes} of {self.sent}")


@dataclass(frozen=True)
class ArmStats:
    """A variant's figures: its rate with a Wilson interval at the test's confidence (None before
    any send), the evidence that it beats every rival (the smallest mSPRT ratio against one; None
    unless its observed rate is the highest), the posterior probability that it is the best
    variant, and the expected loss of choosing it."""

    name: str
    sent: int
    successes: int
    rate: float | None
    low: float | None
    high: float | None
    evidence: float | None
    p_best: float
    expected_loss: float


@dataclass(frozen=True)
class Decision:
    state: State
    winner: str | None
    leader: str | None
    arms: tuple[ArmStats, ...]
    settings: Settings
    threshold: float
    """The evidence a winner needs: 1/α, times the number of pairs when there are more than two."""
    rule: str
    """The rule in one sentence, for the console."""
    summary: str
    """Where the test stands in one sentence, for the console."""

    def arm(self, name: str) -> ArmStats:
        return next(a for a in self.arms if a.name == name)


def threshold(settings: Settings, variants: int) -> float:
    pairs = variants * (variants - 1) // 2
    return pairs / (1 - settings.confidence)


def rule_text(settings: Settings, variants: int = 2) -> str:
    return (
        f"Sequential test (mSPRT) of the {settings.label}, tuned to differences of about "
        f"{_points(settings.effect)}: no verdict until every variant has {settings.min_per_arm:,} sends, "
        f"then the best variant wins once the evidence that it beats each other one reaches "
        f"{_times(threshold(settings, variants))}, which crowns one of {_equal(variants)} variants less than "
        f"{_pct(1 - settings.confidence)} of the time however often the test is checked; with no winner, "
        f"the test stops once picking any variant would cost less than {_points(settings.max_loss)} of "
        f"{settings.label} in expectation."
    )


def _equal(variants: int) -> str:
    return "two equal" if variants == 2 else f"{variants} equal"


def evaluate(arms: Sequence[Arm], settings: Settings | None = None) -> Decision:
    """Where the test stands on these counts (at least two variants, distinct names)."""
    settings = settings or Settings()
    names = [arm.name for arm in arms]
    if len(names) < 2:
        raise ValueError("an A/B test needs at least two variants")
    if len(set(names)) != len(names):
        raise ValueError(f"variant names must differ, got {', '.join(names)}")
    bar = threshold(settings, len(arms))
    stats = _stats(arms, settings)
    leader = next((s.name for s in stats if s.evidence is not None), None)
    winner = next((s.name for s in stats if s.evidence is not None and s.evidence >= bar), None)
    if min(arm.sent for arm in arms) < settings.min_per_arm:
        state, winner = State.COLLECTING, None
    elif winner is not None:
        state = State.DECIDED
    elif max(s.expected_loss for s in stats) < settings.max_loss:
        state = State.NO_DIFFERENCE
    else:
        state = State.LEADING
    summary = _summary(state, winner, leader, stats, settings, bar)
    return Decision(state, winner, leader, stats, settings, bar, rule_text(settings, len(arms)), summary)


def _stats(arms: Sequence[Arm], settings: Settings) -> tuple[ArmStats, ...]:
    params = [posterior(arm.sent, arm.successes) for arm in arms]
    top = _top(arms)
    out = []
    for k, arm in enumerate(arms):
        others = [j for j in range(len(arms)) if j != k]
        p_best = max(0.0, 1.0 - math.fsum(prob_greater(params[j], params[k]) for j in others))
        loss = math.fsum(expected_excess(params[j], params[k]) for j in others)
        evidence = None
        if k == top:
            mine = (arm.sent, arm.successes)
            evidence = min(likelihood_ratio((arms[j].sent, arms[j].successes), mine, settings.effect) for j in others)
        rate, low, high = None, None, None
        if arm.sent:
            rate = arm.successes / arm.sent
            low, high = wilson(arm.successes, arm.sent, settings.confidence)
        out.append(ArmStats(arm.name, arm.sent, arm.successes, rate, low, high, evidence, p_best, loss))
    return tuple(out)


def _top(arms: Sequence[Arm]) -> int | None:
    """The position of the one variant with the highest observed rate; None on a tie or before any send.

    Rates are compared as fractions (s₁ · n₂ against s₂ · n₁), so a tie is a tie, not rounding.
    """
    if any(arm.sent == 0 for arm in arms):
        return None
    best = max(range(len(arms)), key=lambda k: Fraction(arms[k].successes, arms[k].sent))
    rate = Fraction(arms[best].successes, arms[best].sent)
    if sum(Fraction(arm.successes, arm.sent) == rate for arm in arms) > 1:
        return None
    return best


def _summary(
    state: State,
    winner: str | None,
    leader: str | None,
    stats: Sequence[ArmStats],
    settings: Settings,
    bar: float,
) -> str:
    label = settings.label
    by_name = {s.name: s for s in stats}
    if state is State.COLLECTING:
        short = min(stats, key=lambda s: (s.sent, s.name))
        return (
            f"Collecting: variant {short.name} has {short.sent:,} of the {settings.min_per_arm:,} sends "
            "each variant needs before a verdict."
        )
    if state is State.DECIDED and winner is not None:
        best = by_name[winner]
        return (
            f"Variant {winner} wins: {_rate(best)} {label}, with evidence of {_times(best.evidence)} "
            f"against {_runner_up(stats, winner)} (a winner needs {_times(bar)})."
        )
    if state is State.NO_DIFFERENCE:
        loss = max(s.expected_loss for s in stats)
        return (
            f"No difference worth waiting for: picking any variant costs at most {_points(loss)} of {label} "
            f"in expectation, under the {_points(settings.max_loss)} threshold."
        )
    if leader is None:
        return f"No variant leads yet: the {label}s are level."
    best = by_name[leader]
    return (
        f"Variant {leader} leads: {_rate(best)} {label} against {_runner_up(stats, leader)}, "
        f"evidence {_times(best.evidence)} of the {_times(bar)} a winner needs."
    )


def _runner_up(stats: Sequence[ArmStats], best: str) -> str:
    rivals = [s for s in stats if s.name != best]
    second = max(rivals, key=lambda s: (s.rate or 0.0, s.name))
    return f"{_rate(second)} for {second.name}" if len(rivals) == 1 else f"{_rate(second)} for the next best"


def _rate(stats: ArmStats) -> str:
    return "no" if stats.rate is None else _pct(stats.rate, 1)


def _times(ratio: float | None) -> str:
    if ratio is None:
        return "none"
    return "over 1,000×" if ratio > 1000 else f"{ratio:,.1f}×"


def _pct(ratio: float, digits: int | None = None) -> str:
    return f"{ratio * 100:.{digits}f}%" if digits is not None else f"{ratio * 100:g}%"


def _points(rate: float) -> str:
    return f"{rate * 100:.2f} points"
