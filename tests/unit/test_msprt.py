"""The mSPRT's likelihood ratio on counts worked by hand, and its promise under repeated looks:
between equal variants it rarely reaches 1/α, however often it is checked (seeded simulations,
so every run draws the same sends)."""

import random

import pytest

from app.domain.msprt import likelihood_ratio


def test_a_clear_difference_by_hand() -> None:
    # 100/1000 against 150/1000: pooled 0.125, V = 0.125 · 0.875 · 2/1000 = 0.00021875, d = 0.05,
    # τ² = 0.0004: Λ = √(0.00021875/0.00061875) · exp(0.0004 · 0.0025/(2 · 0.00021875 · 0.00061875))
    # = 0.594588 · e^3.694118 = 23.908.
    assert likelihood_ratio((1000, 100), (1000, 150), 0.02) == pytest.approx(23.908, abs=1e-3)
    # The sign of the difference does not matter: the test is two-sided.
    assert likelihood_ratio((1000, 150), (1000, 100), 0.02) == pytest.approx(23.908, abs=1e-3)


def test_no_difference_is_a_little_evidence_for_none() -> None:
    # 10/100 each: d = 0, so Λ = √(V/(V + τ²)) with V = 0.1 · 0.9 · 0.02 = 0.0018: √(0.0018/0.0022) = 0.904534.
    assert likelihood_ratio((100, 10), (100, 10), 0.02) == pytest.approx(0.904534, abs=1e-6)


def test_small_samples_need_a_large_effect() -> None:
    # 3/60 against 15/60 (z = 3.07 at a fixed horizon): pooled 0.15, V = 0.15 · 0.85 · 2/60 = 0.00425,
    # d = 0.2: Λ = √(0.00425/0.00465) · exp(0.0004 · 0.04/(2 · 0.00425 · 0.00465)) = 0.956022 · e^0.404807 = 1.4331
    # with τ = 0.02; with τ = 0.2 (V + τ² = 0.04425): 0.309912 · e^(0.0016/0.000376125) = 0.309912 · e^4.2539 = 21.811.
    assert likelihood_ratio((60, 3), (60, 15), 0.02) == pytest.approx(1.4331, abs=1e-4)
    assert likelihood_ratio((60, 3), (60, 15), 0.2) == pytest.approx(21.811, abs=1e-3)


def test_no_outcome_yet_or_all_alike_is_no_evidence() -> None:
    assert likelihood_ratio((0, 0), (10, 3), 0.02) == 1.0
    assert likelihood_ratio((50, 0), (80, 0), 0.02) == 1.0
    assert likelihood_ratio((50, 50), (80, 80), 0.02) == 1.0


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="successes <= sent"):
        likelihood_ratio((10, 11), (10, 1), 0.02)
    with pytest.raises(ValueError, match="tau must be positive"):
        likelihood_ratio((10, 1), (10, 1), 0.0)


def _share_decided(rate_a: float, rate_b: float, runs: int, *, seed: int = 2026) -> float:
    """Runs of 25 sends per variant at a time, checked after each from 100 sends on, up to 2,000:
    the share that ever reached Λ >= 20 (α = 5 %)."""
    rng = random.Random(seed)
    decided = 0
    for _ in range(runs):
        s_a = s_b = n = 0
        while n < 2000:
            s_a += sum(rng.random() < rate_a for _ in range(25))
            s_b += sum(rng.random() < rate_b for _ in range(25))
            n += 25
            if n >= 100 and likelihood_ratio((n, s_a), (n, s_b), 0.02) >= 20:
                decided += 1
                break
    return decided / runs


def test_equal_variants_checked_77_times_rarely_produce_a_winner() -> None:
    # Ville's inequality bounds this by 5 % for any number of looks (13 of these 1,000 runs: 1.3 %);
    # a fixed-horizon z-test at 5 % looked at this often would cross far more often.
    assert _share_decided(0.05, 0.05, 1000) <= 0.05


def test_a_real_difference_is_found() -> None:
    # 5 % against 10 %: every one of these 200 runs decides within 2,000 sends per variant.
    assert _share_decided(0.05, 0.10, 200) >= 0.95
