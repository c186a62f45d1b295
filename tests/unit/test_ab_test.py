"""The A/B rule on counts worked by hand (the integrals in the comments), and its promises as
properties: symmetric in the variants, silent below the minimum sample, and never taking back a
winner when more evidence points the same way."""

import datetime as dt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.domain.ab_test import Arm, Settings, State, evaluate, rule_text
from app.domain.ab_verdict import decision_from_json, decision_to_json


def test_one_reply_against_none_is_no_evidence_yet() -> None:
    # A 0/1 → Beta(1, 2), B 1/1 → Beta(2, 1): P(B > A) = ∫ 2x (2x − x²) dx = 5/6.
    decision = evaluate([Arm("A", 1, 0), Arm("B", 1, 1)], Settings(confidence=0.8, min_per_arm=1))
    assert (decision.state, decision.winner, decision.leader) == (State.LEADING, None, "B")
    a, b = decision.arm("A"), decision.arm("B")
    assert (a.p_best, b.p_best) == (pytest.approx(1 / 6), pytest.approx(5 / 6))
    # Choosing B loses E[max(A − B, 0)] = ∫ 2(1 − a) a³/3 da = 1/30; choosing A loses 2/3 − 1/3 + 1/30 = 11/30.
    assert (a.expected_loss, b.expected_loss) == (pytest.approx(11 / 30), pytest.approx(1 / 30))
    # Wilson at 80 % (z = 1.28155, z² = 1.64237) for 1/1: centre (1 + z²/2)/(1 + z²) = 0.68922,
    # half-width z/(1 + z²) · z/2 = 0.31078 → 0.37845 to 1.
    assert (b.rate, b.low, b.high) == (1.0, pytest.approx(0.37845, abs=1e-5), pytest.approx(1.0))
    assert (a.rate, a.low) == (0.0, 0.0)
    # mSPRT: pooled 1/2, V = 1/4 · 2 = 0.5, d = 1, τ² = 0.0004:
    # Λ = √(0.5/0.5004) · exp(0.0004/(2 · 0.5 · 0.5004)) = 0.99960 · 1.00080 = 1.00040, of the 1/0.2 = 5 needed.
    assert (b.evidence, a.evidence) == (pytest.approx(1.00040, abs=1e-5), None)
    assert decision.threshold == pytest.approx(5)
    assert decision.summary == (
        "Variant B leads: 100.0% reply rate against 0.0% for A, evidence 1.0× of the 5.0× a winner needs."
    )


def test_evidence_decides_at_95_but_not_at_96_percent() -> None:
    # 100/1000 against 150/1000: pooled 0.125, V = 0.125 · 0.875 · 2/1000 = 0.00021875, d = 0.05,
    # τ² = 0.0004: Λ = √(0.00021875/0.00061875) · exp(0.0004 · 0.0025/(2 · 0.00021875 · 0.00061875))
    # = 0.594588 · e^3.694118 = 0.594588 · 40.2090 = 23.908: past 1/0.05 = 20, short of 1/0.04 = 25.
    arms = [Arm("A", 1000, 100), Arm("B", 1000, 150)]
    decision = evaluate(arms, Settings(metric="clicked"))
    assert (decision.state, decision.winner) == (State.DECIDED, "B")
    assert decision.arm("B").evidence == pytest.approx(23.908, abs=1e-3)
    assert decision.summary == (
        "Variant B wins: 15.0% click rate, with evidence of 23.9× against 10.0% for A (a winner needs 20.0×)."
    )
    stricter = evaluate(arms, Settings(metric="clicked", confidence=0.96))
    assert (stricter.state, stricter.winner, stricter.leader) == (State.LEADING, None, "B")
    # The posterior alone would have called it long ago: P(B > A) ≈ Φ(3.39) = 0.99965.
    assert stricter.arm("B").p_best == pytest.approx(0.99965, abs=2e-4)


def test_nothing_is_decided_below_the_minimum_sample() -> None:
    # 0 of 99 against 99 of 100 is overwhelming, but A has 99 sends of the 100 needed.
    decision = evaluate([Arm("A", 99, 0), Arm("B", 100, 99)], Settings(min_per_arm=100))
    assert (decision.state, decision.winner) == (State.COLLECTING, None)
    assert (decision.arm("B").evidence or 0) > 1000
    assert decision.summary == "Collecting: variant A has 99 of the 100 sends each variant needs before a verdict."


def test_equal_rates_on_many_sends_stop_with_no_difference() -> None:
    # 500/10,000 each: no leader, no evidence. The difference of rates is about normal with
    # sd √(2 · .05 · .95 / 10,000) = 0.0030822, so each variant's expected loss is E[max(d, 0)] =
    # sd / √(2π) = 0.0012296 < 0.002.
    arms = [Arm("A", 10_000, 500), Arm("B", 10_000, 500)]
    decision = evaluate(arms, Settings())
    assert (decision.state, decision.winner, decision.leader) == (State.NO_DIFFERENCE, None, None)
    assert decision.arm("A").p_best == pytest.approx(0.5)
    assert decision.arm("A").expected_loss == pytest.approx(0.0012296, abs=2e-5)
    assert decision.summary == (
        "No difference worth waiting for: picking any variant costs at most 0.12 points of reply rate "
        "in expectation, under the 0.20 points threshold."
    )
    # Demanding a loss under 0.1 points keeps it running, with nobody ahead.
    level = evaluate(arms, Settings(max_loss=0.001))
    assert (level.state, level.leader) == (State.LEADING, None)
    assert level.summary == "No variant leads yet: the reply rates are level."


def test_a_leader_that_is_cheap_to_pick_is_not_a_winner_nor_no_difference() -> None:
    # 8/100 against 3/100: picking A costs only ~0.1 points (B is rarely better), but picking B
    # costs ~5, so this is not "no difference"; and the evidence is weak: pooled 0.055,
    # V = 0.055 · 0.945 · 0.02 = 0.0010395, d = 0.05: Λ = √(0.0010395/0.0014395) ·
    # exp(0.0004 · 0.0025/(2 · 0.0010395 · 0.0014395)) = 0.84978 · e^0.33414 = 1.1869.
    decision = evaluate([Arm("A", 100, 8), Arm("B", 100, 3)], Settings())
    assert (decision.state, decision.winner, decision.leader) == (State.LEADING, None, "A")
    assert decision.arm("A").expected_loss < 0.002 < decision.arm("B").expected_loss
    assert decision.arm("A").evidence == pytest.approx(1.1869, abs=1e-4)


def test_three_variants_share_the_error_among_the_pairs() -> None:
    # C against A and against B is the 23.908 of the two-variant case; three pairs make the bar
    # 3/α: 15 at 80 % (decided), 30 at 90 % (not yet).
    arms = [Arm("A", 1000, 100), Arm("B", 1000, 100), Arm("C", 1000, 150)]
    decision = evaluate(arms, Settings(confidence=0.8))
    assert (decision.state, decision.winner, decision.threshold) == (State.DECIDED, "C", pytest.approx(15))
    assert decision.arm("C").evidence == pytest.approx(23.908, abs=1e-3)
    assert decision.arm("A").evidence is None
    assert "against 10.0% for the next best" in decision.summary
    assert evaluate(arms, Settings(confidence=0.9)).state is State.LEADING


def test_three_variants_bound_the_chance_of_being_best() -> None:
    # A 0/1, B 0/1, C 1/1: P(C > A) = P(C > B) = 5/6, so C's bound is 1 − 1/6 − 1/6 = 2/3 (the exact
    # P(C best) = ∫ 2x (2x − x²)² dx = 2 − 8/5 + 1/3 = 0.7333 is higher). A's bound is
    # 1 − P(B > A) − P(C > A) = 1 − 1/2 − 5/6 < 0, shown as 0.
    decision = evaluate([Arm("A", 1, 0), Arm("B", 1, 0), Arm("C", 1, 1)], Settings(min_per_arm=1))
    assert decision.arm("C").p_best == pytest.approx(2 / 3)
    assert decision.arm("A").p_best == 0.0
    assert decision.arm("C").expected_loss == pytest.approx(2 / 30)  # 1/30 against each of A and B


def test_the_rule_in_one_sentence() -> None:
    assert rule_text(Settings()) == (
        "Sequential test (mSPRT) of the reply rate, tuned to differences of about 2.00 points: no verdict "
        "until every variant has 100 sends, then the best variant wins once the evidence that it beats each "
        "other one reaches 20.0×, which crowns one of two equal variants less than 5% of the time however "
        "often the test is checked; with no winner, the test stops once picking any variant would cost less "
        "than 0.20 points of reply rate in expectation."
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"confidence": 2}, "confidence: must be above 0.5 and below 1"),
        ({"confidence": 0.5}, "confidence: must be above 0.5"),
        ({"confidence": "high"}, "confidence: must be a number"),
        ({"min_per_arm": 0}, "min_per_arm: must be at least 1"),
        ({"min_per_arm": 10.5}, "min_per_arm: must be a whole number"),
        ({"metric": "opened"}, "metric: must be one of replied, clicked, converted"),
        ({"max_loss": -0.1}, "max_loss: must be a rate"),
        ({"effect": 0}, "effect: must be a rate difference above 0"),
        ({"treshold": 3}, "treshold: unknown setting"),
        (["replied"], "must be an object"),
    ],
)
def test_bad_settings_say_which_key(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_json(raw)


def test_missing_settings_take_the_defaults() -> None:
    assert Settings.from_json(None) == Settings.from_json({}) == Settings("replied", 0.95, 100, 0.002, 0.02)
    assert Settings.from_json({"metric": "converted", "min_per_arm": 50}) == Settings("converted", 0.95, 50)
    assert Settings.from_json(Settings("clicked", 0.9, 7, 0.01, 0.05).to_json()) == Settings(
        "clicked", 0.9, 7, 0.01, 0.05
    )


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="at least two variants"):
        evaluate([Arm("A", 10, 1)])
    with pytest.raises(ValueError, match="names must differ"):
        evaluate([Arm("A", 10, 1), Arm("A", 10, 2)])
    with pytest.raises(ValueError, match="need 0 <= successes <= sent"):
        Arm("B", 3, 4)


def test_the_stored_verdict_reads_back() -> None:
    decision = evaluate([Arm("A", 1000, 100), Arm("B", 1000, 150)])
    at = dt.datetime(2026, 12, 8, 9, 30, tzinfo=dt.UTC)
    assert decision_from_json(decision_to_json(decision, at)) == (decision, at)
    with pytest.raises(ValueError, match="not a stored A/B decision"):
        decision_from_json({"state": "decided"})


# --- properties -----------------------------------------------------------------------------

counts = st.integers(0, 600).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n)))
settings = st.builds(
    Settings,
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
    min_per_arm=st.integers(1, 300),
    max_loss=st.sampled_from([0.0, 0.002, 0.01]),
)


@given(counts, counts, settings)
def test_swapping_the_variants_swaps_the_verdict(a: tuple[int, int], b: tuple[int, int], rule: Settings) -> None:
    one = evaluate([Arm("A", *a), Arm("B", *b)], rule)
    swapped = evaluate([Arm("A", *b), Arm("B", *a)], rule)
    other = {"A": "B", "B": "A", None: None}
    assert swapped.state == one.state
    assert swapped.winner == other[one.winner]
    assert swapped.leader == other[one.leader]
    assert swapped.arm("A").p_best == pytest.approx(one.arm("B").p_best, abs=1e-9)
    assert swapped.arm("A").evidence == one.arm("B").evidence
    # Listing them the other way round changes nothing either.
    assert evaluate([Arm("B", *b), Arm("A", *a)], rule).winner == one.winner


@given(counts, counts, settings)
def test_never_decides_below_the_minimum_sample(a: tuple[int, int], b: tuple[int, int], rule: Settings) -> None:
    decision = evaluate([Arm("A", *a), Arm("B", *b)], rule)
    if min(a[0], b[0]) < rule.min_per_arm:
        assert (decision.state, decision.winner) == (State.COLLECTING, None)
    if decision.winner is not None:
        assert (decision.arm(decision.winner).evidence or 0) >= decision.threshold
        assert min(a[0], b[0]) >= rule.min_per_arm


@given(counts, counts, settings, st.integers(1, 50), st.booleans())
def test_more_evidence_the_same_way_never_takes_a_winner_back(
    a: tuple[int, int], b: tuple[int, int], rule: Settings, more: int, to_winner: bool
) -> None:
    decision = evaluate([Arm("A", *a), Arm("B", *b)], rule)
    assume(decision.winner is not None)
    arms = {"A": a, "B": b}
    winner = decision.winner
    loser = "B" if winner == "A" else "A"
    sent, won = arms[winner if to_winner else loser]
    # More successes for the winner, or more failures for the other variant.
    arms[winner if to_winner else loser] = (sent + more, won + more) if to_winner else (sent + more, won)
    later = evaluate([Arm(name, *counted) for name, counted in arms.items()], rule)
    assert (later.state, later.winner) == (State.DECIDED, winner)


@given(counts, counts)
def test_two_probabilities_of_being_best_add_to_one(a: tuple[int, int], b: tuple[int, int]) -> None:
    decision = evaluate([Arm("A", *a), Arm("B", *b)], Settings(min_per_arm=1))
    assert decision.arm("A").p_best + decision.arm("B").p_best == pytest.approx(1.0, abs=1e-9)  # see test_beta
