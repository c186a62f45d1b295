"""The sign-in throttles on real Redis, on a clock of the test's own (seconds since the epoch).

Expected waits are worked out by hand from the module's documented rules: a (email, address)
pair locks at its 5th failure for 15 min from its oldest counted failure; an address locks at
30 failures over any emails; an email's slow-down after its 5th failure doubles from 1 s and
stops at 60 s; an address the email signed in from skips that slow-down; without an address,
only the slow-down applies.
"""

from __future__ import annotations

import redis

from app.services import sign_in_guard as guard

T0 = 1_800_000_000.0  # any instant: the guard reads no other clock
ANN = "Ann@Example.com"


def fail(conn: redis.Redis, *, email: str = ANN, ip: str | None, at: float) -> None:
    guard.record_failure(conn, email=email, ip=ip, now=at)


def test_five_failures_lock_that_address_out_of_that_email_for_the_window(redis_conn: redis.Redis) -> None:
    for i in range(5):
        assert guard.refusal(redis_conn, email=ANN, ip="10.0.0.1", now=T0 + i) is None
        fail(redis_conn, ip="10.0.0.1", at=T0 + i)
    assert guard.refusal(redis_conn, email="ann@example.com", ip="10.0.0.1", now=T0 + 100) == guard.Refusal(
        "pair", 800
    ), "15 min from the first failure (T0), case-insensitive email"
    assert guard.refusal(redis_conn, email=ANN, ip="10.0.0.1", now=T0 + 900) is None, "the window slid past T0"
    assert guard.refusal(redis_conn, email="bob@example.com", ip="10.0.0.1", now=T0 + 100) is None


def test_another_address_is_only_slowed_and_the_delay_stops_at_a_minute(redis_conn: redis.Redis) -> None:
    for i in range(5):
        fail(redis_conn, ip="10.0.0.1", at=T0 + i)
    # 5 failures on the email, the latest at T0+4: wait 2^0 = 1 s after it.
    assert guard.refusal(redis_conn, email=ANN, ip="10.0.0.2", now=T0 + 4) == guard.Refusal("account", 1)
    assert guard.refusal(redis_conn, email=ANN, ip="10.0.0.2", now=T0 + 5) is None
    for i in range(35):  # an attacker with many addresses, each try taken as soon as allowed
        fail(redis_conn, ip=f"10.1.0.{i}", at=T0 + 10 + i)
    # 40 failures, the latest at T0+44: 2^35 s capped at 60 s.
    assert guard.refusal(redis_conn, email=ANN, ip="10.0.0.2", now=T0 + 50) == guard.Refusal("account", 54)
    assert guard.refusal(redis_conn, email=ANN, ip="10.0.0.2", now=T0 + 104) is None, "never longer than a minute"


def test_the_owners_usual_address_is_not_slowed_by_an_attack_on_the_account(redis_conn: redis.Redis) -> None:
    guard.record_success(redis_conn, email=ANN, ip="192.0.2.7", now=T0)
    for i in range(20):
        fail(redis_conn, ip=f"10.1.0.{i}", at=T0 + 60 + i)
    # 20 failures, the latest at T0+79: 60 s after it, 59 s left at T0+80.
    assert guard.refusal(redis_conn, email=ANN, ip="10.9.9.9", now=T0 + 80) == guard.Refusal("account", 59)
    assert guard.refusal(redis_conn, email="ann@example.com", ip="192.0.2.7", now=T0 + 80) is None


def test_an_address_guessing_many_emails_is_refused_for_every_email(redis_conn: redis.Redis) -> None:
    for i in range(30):
        fail(redis_conn, email=f"user{i}@example.com", ip="203.0.113.5", at=T0 + i)
    assert guard.refusal(redis_conn, email="new@example.com", ip="203.0.113.5", now=T0 + 30) == guard.Refusal(
        "address", 870
    )
    assert guard.refusal(redis_conn, email="new@example.com", ip="203.0.113.6", now=T0 + 30) is None


def test_a_success_clears_only_that_addresses_lock(redis_conn: redis.Redis) -> None:
    for i in range(5):
        fail(redis_conn, ip="10.0.0.1", at=T0 + i)
    guard.record_success(redis_conn, email=ANN, ip="10.0.0.1", now=T0 + 5)
    assert guard.refusal(redis_conn, email=ANN, ip="10.0.0.1", now=T0 + 6) is None
    assert redis_conn.zcard("lre:signin:account:ann@example.com") == 5, "the email's log keeps other guesses"


def test_without_an_address_only_the_capped_slow_down_applies(redis_conn: redis.Redis) -> None:
    """No address: locking "the unknown address" would lock every visitor at once."""
    for i in range(30):
        fail(redis_conn, email=f"user{i}@example.com", ip=None, at=T0 + i)
    assert guard.refusal(redis_conn, email="new@example.com", ip="", now=T0 + 30) is None
    for i in range(5):
        fail(redis_conn, ip=None, at=T0 + 100 + i)
    # 5 failures on the email, the latest at T0+104: 1 s, and no 15-minute lock.
    assert guard.refusal(redis_conn, email=ANN, ip=None, now=T0 + 104) == guard.Refusal("account", 1)
    assert guard.refusal(redis_conn, email=ANN, ip=None, now=T0 + 105) is None
