"""Two Beta distributions compared in closed form: how likely one is the larger, and by how much.

An A/B test's variants are Beta posteriors (a uniform prior updated by s successes in n sends is
Beta(1 + s, 1 + n − s)), and the test asks two things of each pair: the probability that one
rate exceeds the other, and what choosing one costs in expectation if the other is better. For
whole-number parameters both have exact finite sums (Evan Miller, "Formulas for Bayesian A/B
testing", 2015), so every call gives the same answer and needs no random draws, which a verdict
recorded once and shown later must not depend on.

The sum has as many terms as one of the four parameters; the symmetries
P(X > Y) = 1 − P(Y > X) and P(X > Y) = P(1 − Y > 1 − X) let it run over the smallest of them
(the successes of the rarer arm, for reply rates of a few percent).
"""

from __future__ import annotations

import math

BetaParams = tuple[int, int]
"""(alpha, beta), both whole numbers of at least 1."""


def posterior(sent: int, successes: int) -> BetaParams:
    """The Beta posterior of a rate under a uniform prior, after `successes` of `sent`."""
    if sent < 0 or not 0 <= successes <= sent:
        raise ValueError(f"need 0 <= successes <= sent, got {successes} of {sent}")
    return (1 + successes, 1 + sent - successes)


def mean(params: BetaParams) -> float:
    a, b = params
    return a / (a + b)


def prob_greater(x: BetaParams, y: BetaParams) -> float:
    """P(X > Y) for independent X ~ Beta(x) and Y ~ Beta(y) (ties have probability zero)."""
    _check(x)
    _check(y)
    (a, b), (c, d) = x, y
    smallest = min(a, b, c, d)
    if smallest == a:
        p = _sum_over_first(a, b, c, d)
    elif smallest == c:
        p = 1.0 - _sum_over_first(c, d, a, b)
    elif smallest == d:
        p = _sum_over_first(d, c, b, a)  # 1 − Y ~ Beta(d, c) exceeds 1 − X ~ Beta(b, a)
    else:
        p = 1.0 - _sum_over_first(b, a, d, c)
    return min(1.0, max(0.0, p))


def expected_excess(x: BetaParams, y: BetaParams) -> float:
    """E[max(X − Y, 0)]: what choosing Y costs in expectation, counting only the cases where X is larger.

    E[X · 1{X > Y}] = E[X] · P(X' > Y) with X' ~ Beta(a + 1, b), because x times the Beta(a, b)
    density is E[X] times the Beta(a + 1, b) density; likewise for Y. So the excess is
    E[X] · P(X' > Y) − E[Y] · P(X > Y').
    """
    (a, b), (c, d) = x, y
    excess = mean(x) * prob_greater((a + 1, b), y) - mean(y) * prob_greater(x, (c + 1, d))
    return max(0.0, excess)


def _sum_over_first(a: int, b: int, c: int, d: int) -> float:
    """P(Beta(a, b) > Beta(c, d)) as Miller's sum of `a` terms:

        sum over i = 0 .. a − 1 of  B(c + i, d + b) / ((b + i) · B(1 + i, b) · B(c, d)),

    each term taken through log-gamma so that no factorial overflows.
    """
    ln_b_cd = _ln_beta(c, d)
    lg_b, lg_db = math.lgamma(b), math.lgamma(d + b)
    terms = []
    for i in range(a):
        ln_term = (
            math.lgamma(c + i)
            + lg_db
            - math.lgamma(c + i + d + b)
            - math.log(b + i)
            - (math.lgamma(1 + i) + lg_b - math.lgamma(1 + i + b))
            - ln_b_cd
        )
        terms.append(math.exp(ln_term))
    return math.fsum(terms)


def _ln_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _check(params: BetaParams) -> None:
    a, b = params
    if not (isinstance(a, int) and isinstance(b, int)) or a < 1 or b < 1:
        raise ValueError(f"Beta parameters must be whole numbers of at least 1, got {params}")
