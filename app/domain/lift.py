"""Incremental lift: how much better treated leads did than the hold-out, and whether it is chance.

Two figures, both treated minus control:

- the *recovery rate* (share of leads that converted): the difference of two proportions, with
  Newcombe's hybrid score interval (method 10 of Newcombe 1998, built from two Wilson intervals;
  it stays inside [-1, 1] and behaves at rates near 0 or 1, where the Wald interval does not)
  and a two-sided p-value from the pooled two-proportion z-test;
- the *revenue per lead* (non-converters count as zero): the difference of two means with
  Welch's interval and Welch's t-test (unequal variances, Welch–Satterthwaite degrees of freedom).

A difference is *significant* when its interval leaves out zero. With fewer than
`MIN_GROUP` leads in either group there is no interval: too few to tell.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist

MIN_GROUP = 30
DEFAULT_CONFIDENCE = 0.95


class Measure(StrEnum):
    RATE = "rate"
    """A share of leads (0..1); shown in percentage points."""
    MONEY = "money"
    """An amount per lead, in dollars."""


@dataclass(frozen=True)
class Sample:
    """A group's per-lead values as sufficient statistics: count, sum and sum of squares."""

    n: int
    total: float
    total_squares: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Sample:
        xs = [float(v) for v in values]
        return cls(len(xs), math.fsum(xs), math.fsum(x * x for x in xs))

    @property
    def mean(self) -> float:
        return self.total / self.n

    @property
    def variance(self) -> float:
        """The sample variance (n − 1 in the denominator); never negative despite rounding."""
        return max(0.0, (self.total_squares - self.total * self.total / self.n) / (self.n - 1))


@dataclass(frozen=True)
class Lift:
    """Treated minus control, with its interval (None when a group is too small to tell)."""

    measure: Measure
    treated_n: int
    control_n: int
    treated: float | None
    control: float | None
    confidence: float
    low: float | None = None
    high: float | None = None
    p_value: float | None = None

    @property
    def difference(self) -> float | None:
        if self.treated is None or self.control is None:
            return None
        return self.treated - self.control

    @property
    def enough(self) -> bool:
        """Both groups have at least `MIN_GROUP` leads, so there is an interval."""
        return self.low is not None and self.high is not None

    @property
    def significant(self) -> bool:
        """The interval leaves out zero."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def _check(confidence: float, *counts: int) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence}")
    if any(n < 0 for n in counts):
        raise ValueError("group sizes and counts cannot be negative")


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(k: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
    """Wilson's score interval for the proportion k / n."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    z = _z(confidence)
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_lift(
    treated_n: int, treated_k: int, control_n: int, control_k: int, confidence: float = DEFAULT_CONFIDENCE
) -> Lift:
    """Recovery rate of the treated (k of n converted) minus the control's, Newcombe interval."""
    _check(confidence, treated_n, treated_k, control_n, control_k)
    if treated_k > treated_n or control_k > control_n:
        raise ValueError("more recovered leads than leads in a group")
    p1 = treated_k / treated_n if treated_n else None
    p2 = control_k / control_n if control_n else None
    lift = Lift(Measure.RATE, treated_n, control_n, p1, p2, confidence)
    if p1 is None or p2 is None or min(treated_n, control_n) < MIN_GROUP:
        return lift
    l1, u1 = wilson(treated_k, treated_n, confidence)
    l2, u2 = wilson(control_k, control_n, confidence)
    d = p1 - p2
    low = max(-1.0, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2))
    high = min(1.0, d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))
    pooled = (treated_k + control_k) / (treated_n + control_n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / treated_n + 1 / control_n))
    p_value = 2 * NormalDist().cdf(-abs(d) / se) if se > 0 else 1.0
    return Lift(Measure.RATE, treated_n, control_n, p1, p2, confidence, low, high, p_value)


def mean_lift(
    treated: Sample | Iterable[float], control: Sample | Iterable[float], confidence: float = DEFAULT_CONFIDENCE
) -> Lift:
    """Mean per lead of the treated minus the control's (pass values or `Sample` sums), Welch interval."""
    t = treated if isinstance(treated, Sample) else Sample.of(treated)
    c = control if isinstance(control, Sample) else Sample.of(control)
    _check(confidence, t.n, c.n)
    lift = Lift(Measure.MONEY, t.n, c.n, t.mean if t.n else None, c.mean if c.n else None, confidence)
    if min(t.n, c.n) < MIN_GROUP:
        return lift
    d = t.mean - c.mean
    a, b = t.variance / t.n, c.variance / c.n
    se = math.sqrt(a + b)
    if se == 0:
        return Lift(Measure.MONEY, t.n, c.n, t.mean, c.mean, confidence, d, d, 1.0 if d == 0 else 0.0)
    df = welch_df(a, b, t.n, c.n)
    half = t_quantile(0.5 + confidence / 2, df) * se
    p_value = 2 * (1 - t_cdf(abs(d) / se, df))
    return Lift(Measure.MONEY, t.n, c.n, t.mean, c.mean, confidence, d - half, d + half, p_value)


# --- Student's t, from the regularised incomplete beta function ----------------------------


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < eps:
            break
    return h


def _beta_regularised(a: float, b: float, x: float) -> float:
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1 - front * _beta_fraction(b, a, 1 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    tail = 0.5 * _beta_regularised(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t >= 0 else tail


def t_quantile(q: float, df: float) -> float:
    """The t with P(T <= t) = q, by bisection on `t_cdf`."""
    if not 0 < q < 1:
        raise ValueError(f"quantile must be between 0 and 1, got {q}")
    low, high = -1e3, 1e3
    for _ in range(200):
        middle = (low + high) / 2
        if t_cdf(middle, df) < q:
            low = middle
        else:
            high = middle
    return (low + high) / 2


# --- the sentence ---------------------------------------------------------------------------


def _amount(lift: Lift, x: float, *, signed: bool = False) -> str:
    if lift.measure is Measure.RATE:
        return f"{x * 100:.1f}"
    sign = "−" if x < 0 and signed else ""
    return f"{sign}${abs(x):,.2f}"


def _bound(lift: Lift, x: float) -> str:
    if lift.measure is Measure.RATE:
        return f"{x * 100:.1f}".replace("-", "−")
    return _amount(lift, x, signed=True)


def verdict(lift: Lift) -> str:
    """One plain sentence: what recovery changed, its interval, and whether it could be chance."""
    what = "the rate" if lift.measure is Measure.RATE else "revenue per lead"
    d = lift.difference
    if d is None or lift.low is None or lift.high is None:
        return (
            f"Too few leads to tell: the hold-out has {lift.control_n:,} and the treated group "
            f"{lift.treated_n:,}; at least {MIN_GROUP} in each are needed."
        )
    unit = " points" if lift.measure is Measure.RATE else ""
    change = "lifted" if d >= 0 else "lowered"
    level = f"{lift.confidence * 100:g} %"
    sentence = (
        f"Recovery {change} {what} by {_amount(lift, abs(d))}{unit} "
        f"({level} CI {_bound(lift, lift.low)} to {_bound(lift, lift.high)})"
    )
    if lift.significant:
        return f"{sentence}: significant."
    return f"{sentence}: not significant: the control group is too small or the difference could be chance."


def welch_df(a: float, b: float, n_treated: int, n_control: int) -> float:
    """Welch–Satterthwaite degrees of freedom from the two squared standard errors.

    With variances so small that their squares underflow to zero, the pooled df is the limit.
    """
    denominator = a * a / (n_treated - 1) + b * b / (n_control - 1)
    if denominator == 0:
        return float(n_treated + n_control - 2)
    return (a + b) ** 2 / denominator
