"""Who to call first: the priority is score × value × recency weight, and it moves the way a rep expects."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import priority
from app.domain.priority import Candidate, rank, recency_weight

candidates = st.builds(
    Candidate,
    lead_id=st.integers(min_value=1, max_value=10**9),
    score=st.integers(min_value=0, max_value=100),
    deal_value=st.floats(min_value=0, max_value=1e8, allow_nan=False),
    days_silent=st.floats(min_value=-5, max_value=5_000, allow_nan=False),
    state=st.sampled_from(["active", "silent", "in_recovery", "replied", "recovered", "lost", "control"]),
)


def test_the_formula_on_a_worked_example() -> None:
    lead = Candidate(1, score=60, deal_value=10_000, days_silent=priority.RECENCY_HALF_LIFE_DAYS)
    assert priority.priority(lead) == pytest.approx(3_000)
    assert recency_weight(0) == 1
    assert recency_weight(2 * priority.RECENCY_HALF_LIFE_DAYS) == pytest.approx(0.25)


@given(candidates)
def test_priority_is_never_negative_and_never_above_the_deal(lead: Candidate) -> None:
    assert 0 <= priority.priority(lead) <= lead.deal_value + 1e-6


@given(candidates, st.integers(min_value=0, max_value=100))
def test_a_higher_score_never_lowers_priority(lead: Candidate, other: int) -> None:
    higher = Candidate(lead.lead_id, max(lead.score, other), lead.deal_value, lead.days_silent, lead.state)
    assert priority.priority(higher) >= priority.priority(lead)


@given(candidates, st.floats(min_value=0, max_value=1_000, allow_nan=False))
def test_more_silence_never_raises_priority(lead: Candidate, more: float) -> None:
    colder = Candidate(lead.lead_id, lead.score, lead.deal_value, lead.days_silent + more, lead.state)
    assert priority.priority(colder) <= priority.priority(lead)


@given(candidates, st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_a_bigger_deal_never_lowers_priority(lead: Candidate, more: float) -> None:
    bigger = Candidate(lead.lead_id, lead.score, lead.deal_value + more, lead.days_silent, lead.state)
    assert priority.priority(bigger) >= priority.priority(lead)


@given(st.lists(candidates, max_size=40, unique_by=lambda c: c.lead_id), st.integers(min_value=0, max_value=50))
def test_rank_keeps_the_best_queued_leads_in_order(leads: list[Candidate], limit: int) -> None:
    ranked = rank(leads, limit)
    queued = [c for c in leads if c.state in priority.QUEUED_STATES]
    assert len(ranked) == min(limit, len(queued))
    assert all(c.state in priority.QUEUED_STATES for c in ranked)
    values = [priority.priority(c) for c in ranked]
    assert values == sorted(values, reverse=True)
    left_out = [c for c in queued if c not in ranked]
    if ranked and left_out:
        assert max(priority.priority(c) for c in left_out) <= values[-1]


def test_control_leads_are_never_queued() -> None:
    held_out = Candidate(1, score=100, deal_value=1e6, days_silent=0, state="control")
    assert rank([held_out, Candidate(2, score=1, deal_value=1, days_silent=100)], 5) == [
        Candidate(2, score=1, deal_value=1, days_silent=100)
    ]


def test_ties_go_to_the_higher_score_then_the_lower_id() -> None:
    a = Candidate(5, score=50, deal_value=200, days_silent=0)
    b = Candidate(3, score=100, deal_value=100, days_silent=0)
    c = Candidate(4, score=100, deal_value=100, days_silent=0)
    assert [x.lead_id for x in rank([a, c, b], 3)] == [3, 4, 5]


def test_the_why_names_what_lifts_and_what_holds_back() -> None:
    assert priority.why(Candidate(1, 85, 12_000, 0.5, "replied")) == (
        "replied and waits for an answer, high intent (85), $12,000 deal, active today"
    )
    assert priority.why(Candidate(1, 20, 500, 30)) == "low intent (20), $500 deal, cold: quiet 30 d (weight 0.23)"
    assert priority.why(Candidate(1, 50, 1_000, 3)) == "intent 50, $1,000 deal, quiet 3 d"


def test_invalid_candidates_are_refused() -> None:
    with pytest.raises(ValueError, match="score"):
        Candidate(1, score=101, deal_value=0, days_silent=0)
    with pytest.raises(ValueError, match="negative"):
        Candidate(1, score=1, deal_value=-1, days_silent=0)
    with pytest.raises(ValueError, match="limit"):
        rank([], -1)
