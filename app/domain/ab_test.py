"""A campaign's A/B test: which message variant has the best rate, and when to stop asking.

The rule (Bayesian, Beta-Binomial, a uniform prior on each variant's rate):

1. **No verdict below the minimum sample.** Until every variant has `min_per_arm` sends the
   test is `collecting`, whatever the numbers say: a few early replies decide nothing.
2. **A winner at the configured confidence.** A variant wins (`decided`) once the posterior
   probability that its rate is the highest reaches `confidence` (0.95 by default). With two
   variants that is exactly P(B > A) (`app.domain.beta`, in closed form); with more it is the
   lower bound 1 − Σ P(other > this), so a winner of three is at least that likely to be best.
   As the confidence is above one half, at most one variant can reach it.
3. **Stop early when the difference cannot matter.** With no winner, the test ends with
   `no_difference` once choosing the leader would cost less than `max_loss` in expected rate
   (the expected loss Σ E[max(other − this, 0)], again exact for two variants and an upper
   bound for more): at that point more sends could only split hairs.
4. Otherwise the test is `leading`: the leader is the variant with the smallest expected loss,
   the one a decision now would pick.

The posterior probability is what the data say at any look, so checking after every send is
allowed; but, as with any rule checked repeatedly, the share of A/A tests (two identical
variants) that end with a "winner" is higher than 1 − confidence. The minimum sample per
variant holds that down; the loss threshold ends most of those tests as `no_difference` first.

More evidence in the same direction never takes a verdict back: another success for the winner,
or another failure for any other variant, can only raise the winner's probability (a Beta
posterior with one more success is stochastically larger, with one more failure smaller).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.domain.beta import expected_excess, posterior, prob_greater
from app.domain.lift import wilson

METRICS: dict[str, str] = {"replied": "reply rate", "clicked": "click rate", "converted": "conversion rate"}
"""What counts as a success of a sent message, and how its rate reads on screen."""
DEFAULT_METRIC = "replied"
DEFAULT_CONFIDENCE = 0.95
DEFAULT_MIN_PER_ARM = 100
DEFAULT_MAX_LOSS = 0.002
"""0.2 percentage points of rate: below this, a better variant is not worth more sends."""
TIE = 1e-12
"""Expected losses closer than this are level (no leader), not a leader by rounding noise."""


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

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"metric: must be one of {', '.join(METRICS)}, got {self.metric!r}")
        if not 0.5 < self.confidence < 1:
            raise ValueError(f"confidence: must be above 0.5 and below 1 (e.g. 0.95), got {self.confidence!r}")
        if self.min_per_arm < 1:
            raise ValueError(f"min_per_arm: must be at least 1 send, got {self.min_per_arm!r}")
        if not 0 <= self.max_loss < 1:
            raise ValueError(f"max_loss: must be a rate from 0 (never stop early) to below 1, got {self.max_loss!r}")

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
        unknown = sorted(set(raw) - {"metric", "confidence", "min_per_arm", "max_loss"})
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown setting (expected metric, confidence, min_per_arm, max_loss)")
        min_per_arm = raw.get("min_per_arm", DEFAULT_MIN_PER_ARM)
        if isinstance(min_per_arm, bool) or not isinstance(min_per_arm, int):
            raise ValueError(f"min_per_arm: must be a whole number of sends, got {min_per_arm!r}")
        return cls(
            metric=raw.get("metric", DEFAULT_METRIC),
            confidence=_number(raw, "confidence", DEFAULT_CONFIDENCE),
            min_per_arm=min_per_arm,
            max_loss=_number(raw, "max_loss", DEFAULT_MAX_LOSS),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "confidence": self.confidence,
            "min_per_arm": self.min_per_arm,
            "max_loss": self.max_loss,
        }


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
    any send), the probability it is the best variant, and the expected loss of choosing it."""

    name: str
    sent: int
    successes: int
    rate: float | None
    low: float | None
    high: float | None
    p_best: float
    expected_loss: float


@dataclass(frozen=True)
class Decision:
    state: State
    winner: str | None
    leader: str | None
    arms: tuple[ArmStats, ...]
    settings: Settings
    rule: str
    """The rule in one sentence, for the console."""
    summary: str
    """Where the test stands in one sentence, for the console."""

    def arm(self, name: str) -> ArmStats:
        return next(a for a in self.arms if a.name == name)


def rule_text(settings: Settings) -> str:
    return (
        f"Bayesian test of the {settings.label} with a uniform prior per variant: no verdict until every "
        f"variant has {settings.min_per_arm:,} sends, then a variant wins once it is at least "
        f"{_pct(settings.confidence)} likely to have the best {settings.label}, and the test stops "
        f"with no winner once picking the leader would cost less than {_points(settings.max_loss)} "
        f"of {settings.label} in expectation."
    )


def evaluate(arms: Sequence[Arm], settings: Settings | None = None) -> Decision:
    """Where the test stands on these counts (at least two variants, distinct names)."""
    settings = settings or Settings()
    names = [arm.name for arm in arms]
    if len(names) < 2:
        raise ValueError("an A/B test needs at least two variants")
    if len(set(names)) != len(names):
        raise ValueError(f"variant names must differ, got {', '.join(names)}")
    stats = _stats(arms, settings)
    winner = next((s.name for s in stats if s.p_best >= settings.confidence), None)
    leader = winner or _least_loss(stats)
    least_loss = min(s.expected_loss for s in stats)
    if min(arm.sent for arm in arms) < settings.min_per_arm:
        state = State.COLLECTING
        winner = None
    elif winner is not None:
        state = State.DECIDED
    elif least_loss < settings.max_loss:
        state = State.NO_DIFFERENCE
    else:
        state = State.LEADING
    summary = _summary(state, winner, leader, stats, settings)
    return Decision(state, winner, leader, stats, settings, rule_text(settings), summary)


def _stats(arms: Sequence[Arm], settings: Settings) -> tuple[ArmStats, ...]:
    params = [posterior(arm.sent, arm.successes) for arm in arms]
    out = []
    for k, arm in enumerate(arms):
        others = [params[j] for j in range(len(arms)) if j != k]
        p_best = max(0.0, 1.0 - math.fsum(prob_greater(other, params[k]) for other in others))
        loss = math.fsum(expected_excess(other, params[k]) for other in others)
        rate, low, high = None, None, None
        if arm.sent:
            rate = arm.successes / arm.sent
            low, high = wilson(arm.successes, arm.sent, settings.confidence)
        out.append(ArmStats(arm.name, arm.sent, arm.successes, rate, low, high, p_best, loss))
    return tuple(out)


def _least_loss(stats: Sequence[ArmStats]) -> str | None:
    ranked = sorted(stats, key=lambda s: s.expected_loss)
    if ranked[1].expected_loss - ranked[0].expected_loss <= TIE:
        return None
    return ranked[0].name


def _summary(
    state: State, winner: str | None, leader: str | None, stats: Sequence[ArmStats], settings: Settings
) -> str:
    label, bar = settings.label, _pct(settings.confidence)
    by_name = {s.name: s for s in stats}
    if state is State.COLLECTING:
        short = min(stats, key=lambda s: (s.sent, s.name))
        return (
            f"Collecting: variant {short.name} has {short.sent:,} of the {settings.min_per_arm:,} sends "
            "each variant needs before a verdict."
        )
    if state is State.DECIDED and winner is not None:
        p = by_name[winner].p_best
        return f"Variant {winner} wins: {_pct(p, 1)} likely to have the best {label} (the bar is {bar})."
    if state is State.NO_DIFFERENCE:
        loss = min(s.expected_loss for s in stats)
        return (
            f"No difference worth waiting for: picking the leader costs {_points(loss)} of {label} in "
            f"expectation, under the {_points(settings.max_loss)} threshold, and no variant is {bar} likely to be best."
        )
    if leader is None:
        return f"No variant leads yet: the {label}s are level."
    p = by_name[leader].p_best
    return f"Variant {leader} leads: {_pct(p, 1)} likely to have the best {label}; a winner needs {bar}."


def _pct(ratio: float, digits: int | None = None) -> str:
    return f"{ratio * 100:.{digits}f}%" if digits is not None else f"{ratio * 100:g}%"


def _points(rate: float) -> str:
    return f"{rate * 100:.2f} points"


# --- the verdict as stored on the campaign ------------------------------------------------


def decision_to_json(decision: Decision, decided_at: dt.datetime) -> dict[str, Any]:
    """The verdict with the figures it was made on, for `campaigns.variants['decision']`."""
    if decided_at.tzinfo is None:
        raise ValueError("decided_at needs its time zone")
    return {
        "state": decision.state.value,
        "winner": decision.winner,
        "leader": decision.leader,
        "decided_at": decided_at.isoformat(),
        "settings": decision.settings.to_json(),
        "rule": decision.rule,
        "summary": decision.summary,
        "arms": [
            {
                "name": s.name,
                "sent": s.sent,
                "successes": s.successes,
                "rate": s.rate,
                "low": s.low,
                "high": s.high,
                "p_best": s.p_best,
                "expected_loss": s.expected_loss,
            }
            for s in decision.arms
        ],
    }


def decision_from_json(raw: Any) -> tuple[Decision, dt.datetime]:
    """The stored verdict and when it was made; ValueError when the JSON is not one."""
    try:
        arms = tuple(
            ArmStats(
                str(a["name"]),
                int(a["sent"]),
                int(a["successes"]),
                _optional(a["rate"]),
                _optional(a["low"]),
                _optional(a["high"]),
                float(a["p_best"]),
                float(a["expected_loss"]),
            )
            for a in raw["arms"]
        )
        decided_at = dt.datetime.fromisoformat(raw["decided_at"])
        decision = Decision(
            State(raw["state"]),
            raw["winner"],
            raw["leader"],
            arms,
            Settings.from_json(raw["settings"]),
            str(raw["rule"]),
            str(raw["summary"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a stored A/B decision: {error}") from None
    if decided_at.tzinfo is None:
        raise ValueError("not a stored A/B decision: decided_at has no time zone")
    return decision, decided_at


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)
