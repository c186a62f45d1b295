"""The mixture sequential probability ratio test (mSPRT) for two conversion rates.

Why this test: an A/B test is looked at again and again (every rollup, every console refresh),
and a fixed-sample test or a posterior probability checked that often crowns a winner between
two identical variants far more often than its nominal level (this rule's first, Bayesian
version, "P(best) >= 95 %", crowned one in 179 of 300 simulated A/A tests at a 5 % rate, checked
every 25 sends per variant up to 5,000). The mSPRT's
likelihood ratio is, under equal rates, a nonnegative martingale with expectation 1, so by
Ville's inequality the chance that it ever reaches 1/α, however often it is checked, is at
most α (Johari, Pekelis and Walsh, "Always valid inference", 2017; Robbins 1970).

The statistic is the difference of the observed rates, d = p̂_B − p̂_A, taken as normal with
the variance it has when the rates are equal, V = p̂(1 − p̂)(1/n_A + 1/n_B) at the pooled rate
p̂. Mixing the true difference over N(0, τ²), the ratio of the data's likelihood under the
mixture to that under no difference is

    Λ = √(V / (V + τ²)) · exp(τ² d² / (2 V (V + τ²))).

τ is the size of difference the test is tuned to find (2 points of rate by default): it finds
differences near τ soonest, and needs more sends for much smaller or much larger ones. The
normal approximation is why a minimum sample per arm comes first.
"""

from __future__ import annotations

import math

MAX_LOG = 700.0
"""exp() of more overflows; a ratio of e^700 is as decided as any larger one."""


def likelihood_ratio(a: tuple[int, int], b: tuple[int, int], tau: float) -> float:
    """Λ for arms given as (sent, successes); 1 (no evidence) while either arm or every outcome is alike."""
    (n_a, s_a), (n_b, s_b) = a, b
    if not (0 <= s_a <= n_a and 0 <= s_b <= n_b):
        raise ValueError(f"need 0 <= successes <= sent, got {a} and {b}")
    if tau <= 0:
        raise ValueError(f"tau must be positive, got {tau}")
    total, successes = n_a + n_b, s_a + s_b
    if not n_a or not n_b or successes in (0, total):
        return 1.0
    pooled = successes / total
    variance = pooled * (1 - pooled) * (1 / n_a + 1 / n_b)
    d = s_b / n_b - s_a / n_a
    t2 = tau * tau
    log_ratio = 0.5 * math.log(variance / (variance + t2)) + t2 * d * d / (2 * variance * (variance + t2))
    return math.exp(min(log_ratio, MAX_LOG))
