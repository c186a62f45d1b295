"""Two Beta posteriors compared in closed form, against integrals worked by hand and a quadrature
of the test's own (Simpson's rule over the density times the binomial form of the other's CDF)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.beta import expected_excess, mean, posterior, prob_greater


def test_posterior_is_the_uniform_prior_updated() -> None:
    assert posterior(0, 0) == (1, 1)
    assert posterior(10, 3) == (4, 8)
    with pytest.raises(ValueError, match="successes <= sent"):
        posterior(3, 4)


def test_one_success_against_one_failure() -> None:
    # X ~ Beta(2, 1) (density 2x), Y ~ Beta(1, 2) (CDF 2y − y²):
    # P(X > Y) = ∫ 2x (2x − x²) dx = 4/3 − 1/2 = 5/6.
    assert prob_greater((2, 1), (1, 2)) == pytest.approx(5 / 6, abs=1e-15)
    assert prob_greater((1, 2), (2, 1)) == pytest.approx(1 / 6, abs=1e-15)


def test_two_successes_against_two_failures() -> None:
    # X ~ Beta(3, 1) (density 3x²), Y ~ Beta(1, 3) (CDF 1 − (1 − y)³):
    # P(X > Y) = 1 − ∫ 3x² (1 − x)³ dx = 1 − 3 B(3, 4) = 1 − 3 · 2! 3! / 6! = 1 − 1/20 = 19/20.
    assert prob_greater((3, 1), (1, 3)) == pytest.approx(0.95, abs=1e-15)


def test_equal_posteriors_are_even() -> None:
    assert prob_greater((1, 1), (1, 1)) == pytest.approx(0.5, abs=1e-15)
    assert prob_greater((40, 700), (40, 700)) == pytest.approx(0.5, abs=1e-12)


def test_expected_excess_worked_by_hand() -> None:
    # A ~ Beta(1, 2) (density 2(1 − a)), B ~ Beta(2, 1) (density 2b):
    # E[max(A − B, 0)] = ∫∫_{b<a} (a − b) 2b 2(1 − a) = ∫ 2(1 − a) a³/3 da = (2/3)(1/4 − 1/5) = 1/30;
    # E[max(B − A, 0)] = E[B − A] + 1/30 = 2/3 − 1/3 + 1/30 = 11/30.
    assert expected_excess((1, 2), (2, 1)) == pytest.approx(1 / 30, abs=1e-15)
    assert expected_excess((2, 1), (1, 2)) == pytest.approx(11 / 30, abs=1e-15)
    # Two uniforms: E|U − V| = 1/3, half of it on each side.
    assert expected_excess((1, 1), (1, 1)) == pytest.approx(1 / 6, abs=1e-15)


def test_large_arms_match_the_normal_approximation() -> None:
    # 150/1000 against 100/1000: the difference of rates is about normal with variance
    # .15 · .85 / 1000 + .1 · .9 / 1000 = 0.0002175 (sd 0.014748), so P = Φ(0.05 / 0.014748) = Φ(3.390) = 0.99965.
    assert prob_greater(posterior(1000, 150), posterior(1000, 100)) == pytest.approx(0.99965, abs=2e-4)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        prob_greater((0, 1), (1, 1))


# --- against a quadrature of the test's own ------------------------------------------------


def _density(a: int, b: int, t: float) -> float:
    norm = math.factorial(a + b - 1) / (math.factorial(a - 1) * math.factorial(b - 1))
    return norm * t ** (a - 1) * (1 - t) ** (b - 1)


def _cdf(c: int, d: int, t: float) -> float:
    # For whole numbers, P(Beta(c, d) <= t) = P(Binomial(c + d − 1, t) >= c).
    n = c + d - 1
    return math.fsum(math.comb(n, j) * t**j * (1 - t) ** (n - j) for j in range(c, n + 1))


def _quadrature(x: tuple[int, int], y: tuple[int, int], intervals: int = 2000) -> float:
    h = 1 / intervals
    total = 0.0
    for i in range(intervals + 1):
        t = i * h
        weight = 1 if i in (0, intervals) else (4 if i % 2 else 2)
        total += weight * _density(*x, t) * _cdf(*y, t)
    return total * h / 3


params = st.tuples(st.integers(1, 12), st.integers(1, 12))


@given(params, params)
def test_closed_form_matches_quadrature(x: tuple[int, int], y: tuple[int, int]) -> None:
    """Every branch of the closed form (the sum runs over whichever parameter is smallest)."""
    assert prob_greater(x, y) == pytest.approx(_quadrature(x, y), abs=1e-7)


@given(st.tuples(st.integers(1, 400), st.integers(1, 400)), st.tuples(st.integers(1, 400), st.integers(1, 400)))
def test_the_two_orders_add_to_one_and_the_excesses_to_the_difference_of_means(
    x: tuple[int, int], y: tuple[int, int]
) -> None:
    # Each term goes through log-gamma of numbers in the hundreds (~2,000), whose rounding
    # (~1e-16 relative) leaves about 1e-12 in a probability: far below any confidence setting.
    assert prob_greater(x, y) + prob_greater(y, x) == pytest.approx(1.0, abs=1e-9)
    # E[max(X − Y, 0)] − E[max(Y − X, 0)] = E[X − Y].
    assert expected_excess(x, y) - expected_excess(y, x) == pytest.approx(mean(x) - mean(y), abs=1e-9)
