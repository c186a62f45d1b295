"""The intent score: bounds, an honest breakdown, and the directions a rep expects."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import scoring
from app.domain.scoring import Signals, score

counts = st.integers(min_value=0, max_value=10_000)
signals = st.builds(
    Signals,
    days_silent=st.floats(min_value=-5, max_value=10_000, allow_nan=False),
    opens=counts,
    clicks=counts,
    page_views=counts,
    forms=counts,
    calls=counts,
    replies=counts,
    sentiment=st.sampled_from([None, *scoring.SENTIMENT_POINTS]),
    deal_value=st.floats(min_value=0, max_value=1e9, allow_nan=False),
    deal_value_p80=st.floats(min_value=0, max_value=1e9, allow_nan=False),
    source=st.sampled_from([*scoring.SOURCE_POINTS, "unknown"]),
    stage=st.sampled_from([*scoring.STAGE_POINTS, "won"]),
)


@given(signals)
def test_total_is_within_0_and_100_and_the_parts_add_up(s: Signals) -> None:
    result = score(s)
    assert 0 <= result.total <= 100
    assert sum(part.points for part in result.parts) == result.total
    assert all(part.why for part in result.parts)


@given(signals, st.floats(min_value=0, max_value=365, allow_nan=False))
def test_more_silence_never_raises_the_score(s: Signals, extra_days: float) -> None:
    quieter = Signals(**{**s.__dict__, "days_silent": s.days_silent + extra_days})
    assert score(quieter).total <= score(s).total


@given(signals, st.integers(min_value=1, max_value=100))
def test_another_click_never_lowers_the_score(s: Signals, more: int) -> None:
    busier = Signals(**{**s.__dict__, "clicks": s.clicks + more})
    assert score(busier).total >= score(s).total


def test_recency_halves_every_half_life() -> None:
    assert scoring.recency(Signals(days_silent=0)).points == 30
    assert scoring.recency(Signals(days_silent=scoring.HALF_LIFE_DAYS)).points == 15
    assert scoring.recency(Signals(days_silent=2 * scoring.HALF_LIFE_DAYS)).points == 8  # 7.5 rounds to even


def test_engagement_has_diminishing_returns_and_a_cap() -> None:
    one, three, seven = (scoring.engagement(Signals(days_silent=0, clicks=n)).points for n in (1, 3, 7))
    assert (one, three, seven) == (4, 8, 12)  # each doubling adds the same 4
    capped = scoring.engagement(Signals(days_silent=0, clicks=10**6, forms=10**6))
    assert capped.points == 30
    assert "capped" in capped.why


def test_a_hot_lead_and_a_cold_one() -> None:
    hot = Signals(
        days_silent=0,
        clicks=3,
        forms=1,
        replies=1,
        sentiment="positive",
        deal_value=9000,
        deal_value_p80=5000,
        source="referral",
        stage="negotiation",
    )
    cold = Signals(days_silent=90, sentiment="negative", source="cold_outbound", stage="new")
    assert score(hot).total >= 80
    result = score(cold)
    assert result.total == 0
    assert [p.name for p in result.parts][-1] == "floor"


def test_value_is_relative_to_the_tenant() -> None:
    assert scoring.value(Signals(days_silent=0, deal_value=2000, deal_value_p80=2000)).points == 15
    assert scoring.value(Signals(days_silent=0, deal_value=1000, deal_value_p80=2000)).points == 8
    assert scoring.value(Signals(days_silent=0, deal_value=1000, deal_value_p80=0)).points == 0


def test_bad_signals_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Signals(days_silent=0, clicks=-1)
    with pytest.raises(ValueError, match="sentiment"):
        Signals(days_silent=0, sentiment="ecstatic")
