import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.lift import MIN_GROUP, Sample, mean_lift, rate_lift, t_cdf, t_quantile, verdict, wilson


def test_wilson_matches_newcombe_1998() -> None:
    # Newcombe (1998), Table I: 81/263 -> 0.2553 to 0.3662.
    low, high = wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_rate_lift_matches_newcombe_method_10() -> None:
    # Newcombe (1998), example (a): 56/70 vs 48/80, difference 0.2000, method 10: 0.0524 to 0.3339.
    lift = rate_lift(70, 56, 80, 48)
    assert lift.difference == pytest.approx(0.2)
    assert (round(lift.low or 0, 4), round(lift.high or 0, 4)) == (0.0524, 0.3339)
    assert lift.significant


def test_rate_p_value_is_the_pooled_z_test() -> None:
    # pooled p = 104/150; z = 0.2 / sqrt(p(1-p)(1/70+1/80)) = 2.6502 -> two-sided p = erfc(z/√2) = 0.00805
    lift = rate_lift(70, 56, 80, 48)
    assert lift.p_value == pytest.approx(0.00805, abs=5e-5)


def test_t_distribution_matches_tables() -> None:
    assert t_quantile(0.975, 10) == pytest.approx(2.228139, abs=1e-5)
    assert t_quantile(0.975, 30) == pytest.approx(2.042272, abs=1e-5)
    assert t_quantile(0.95, 5) == pytest.approx(2.015048, abs=1e-5)
    assert t_cdf(0, 7) == pytest.approx(0.5)
    assert t_cdf(2.228139, 10) == pytest.approx(0.975, abs=1e-6)


def test_mean_lift_is_welch() -> None:
    treated = [float(x % 7) * 10 for x in range(40)]
    control = [float(x % 5) * 6 for x in range(35)]
    lift = mean_lift(treated, control)
    a = statistics.variance(treated) / len(treated)
    b = statistics.variance(control) / len(control)
    df = (a + b) ** 2 / (a * a / (len(treated) - 1) + b * b / (len(control) - 1))
    half = t_quantile(0.975, df) * math.sqrt(a + b)
    d = statistics.mean(treated) - statistics.mean(control)
    assert lift.difference == pytest.approx(d)
    assert (lift.low, lift.high) == (pytest.approx(d - half), pytest.approx(d + half))
    assert mean_lift(Sample.of(treated), Sample.of(control)) == lift


def test_small_groups_have_no_interval() -> None:
    lift = rate_lift(500, 60, MIN_GROUP - 1, 1)
    assert lift.difference is not None
    assert (lift.low, lift.high, lift.p_value, lift.enough, lift.significant) == (None, None, None, False, False)
    assert verdict(lift).startswith("Too few leads to tell: the hold-out has 29 and the treated group 500")
    assert verdict(rate_lift(0, 0, 0, 0)).startswith("Too few leads to tell")
    assert not mean_lift([1.0] * 10, [0.0] * 100).enough


def test_verdict_sentences() -> None:
    assert (
        verdict(rate_lift(70, 56, 80, 48))
        == "Recovery lifted the rate by 20.0 points (95 % CI 5.2 to 33.4): significant."
    )
    flat = verdict(rate_lift(100, 10, 100, 9))
    assert flat.startswith("Recovery lifted the rate by 1.0 points (95 % CI −7.5 to 9.5)")
    assert flat.endswith("not significant: the control group is too small or the difference could be chance.")
    money = verdict(mean_lift([0.0] * 30 + [100.0] * 10, [0.0] * 40))
    assert money.startswith("Recovery lifted revenue per lead by $25.00 (95 % CI $")
    assert verdict(rate_lift(100, 2, 100, 20)).startswith("Recovery lowered the rate by 18.0 points")


def test_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="more recovered"):
        rate_lift(10, 11, 10, 1)
    with pytest.raises(ValueError, match="confidence"):
        rate_lift(10, 1, 10, 1, confidence=95)


groups = st.integers(min_value=MIN_GROUP, max_value=5000).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(min_value=0, max_value=n))
)


@given(groups, groups, st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_rate_interval_contains_the_estimate_and_swapping_negates(
    treated: tuple[int, int], control: tuple[int, int], confidence: float
) -> None:
    lift = rate_lift(*treated, *control, confidence=confidence)
    assert lift.low is not None
    assert lift.high is not None
    assert lift.difference is not None
    assert -1 <= lift.low <= lift.difference <= lift.high <= 1
    swapped = rate_lift(*control, *treated, confidence=confidence)
    assert swapped.difference == pytest.approx(-lift.difference)
    assert (swapped.low, swapped.high) == (pytest.approx(-lift.high), pytest.approx(-lift.low))
    assert swapped.p_value == pytest.approx(lift.p_value)


values = st.lists(st.floats(min_value=0, max_value=10_000, allow_nan=False), min_size=MIN_GROUP, max_size=80)


@given(values, values)
def test_mean_interval_contains_the_estimate_and_swapping_negates(treated: list[float], control: list[float]) -> None:
    lift = mean_lift(treated, control)
    assert lift.low is not None
    assert lift.high is not None
    assert lift.difference is not None
    assert lift.low <= lift.difference + 1e-9
    assert lift.difference <= lift.high + 1e-9
    swapped = mean_lift(control, treated)
    assert swapped.difference == pytest.approx(-lift.difference, abs=1e-6)
    assert (swapped.low, swapped.high) == (pytest.approx(-lift.high, abs=1e-6), pytest.approx(-lift.low, abs=1e-6))


def test_welch_df_survives_variances_whose_squares_underflow() -> None:
    from app.domain.lift import welch_df

    assert welch_df(1e-170, 1e-170, 30, 30) == 58.0
    assert 29 <= welch_df(1.0, 1.0, 30, 30) <= 58
