import pytest

from app.domain.holdout import holdout_bucket, is_control


def test_bucket_is_stable_and_in_range() -> None:
    assert holdout_bucket(3, 12345) == holdout_bucket(3, 12345)
    assert all(0 <= holdout_bucket(1, lead) < 100 for lead in range(1000))


def test_share_of_control_is_close_to_the_percent() -> None:
    share = sum(is_control(7, lead, 10) for lead in range(20_000)) / 20_000
    assert 0.09 < share < 0.11


def test_tenant_changes_the_assignment() -> None:
    a = [is_control(1, lead, 10) for lead in range(2000)]
    b = [is_control(2, lead, 10) for lead in range(2000)]
    assert a != b


def test_refuses_absurd_percent() -> None:
    with pytest.raises(ValueError, match="between 0 and 50"):
        is_control(1, 1, 90)
