from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.silence import Ladder, next_rung, reached_rung

LADDER = Ladder((24, 48, 72))


@pytest.mark.parametrize(
    ("hours", "last", "expected"),
    [
        (23, None, None),
        (24, None, 1),
        (120, None, 1),  # five days silent, never contacted: the gentle first rung, not the third
        (47, 1, None),
        (48, 1, 2),
        (72, 2, 3),
        (500, 3, None),  # top of the ladder: nothing more
    ],
)
def test_next_rung(hours: int, last: int | None, expected: int | None) -> None:
    assert next_rung(LADDER, timedelta(hours=hours), last) == expected


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=3))
def test_a_lead_climbs_exactly_one_rung_and_never_repeats_one(hours: int, last: int) -> None:
    rung = next_rung(LADDER, timedelta(hours=hours), last)
    if rung is not None:
        assert rung == last + 1
        assert rung <= reached_rung(LADDER, timedelta(hours=hours))


@pytest.mark.parametrize("hours", [(), (0, 24), (48, 24), (24, 24)])
def test_malformed_ladders_are_refused(hours: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="ladder"):
        Ladder(hours)
