"""The sign-in lock on real Redis: the window starts at the first failure and later failures
do not extend it; a success clears the count; emails are counted apart (case-insensitively)."""

from __future__ import annotations

import redis

from app.services import sign_in_guard


def test_the_fifth_failure_locks_for_what_is_left_of_the_window(redis_conn: redis.Redis) -> None:
    for n in range(1, sign_in_guard.MAX_FAILURES):
        assert sign_in_guard.record_failure(redis_conn, email="Ann@Example.com") == n
        assert sign_in_guard.seconds_locked(redis_conn, email="ann@example.com") == 0
    key = "lre:signin:failures:ann@example.com"
    redis_conn.expire(key, 100)  # as if the first failure was 800 s ago
    assert sign_in_guard.record_failure(redis_conn, email="ann@example.com") == sign_in_guard.MAX_FAILURES
    assert 0 < sign_in_guard.seconds_locked(redis_conn, email="ANN@example.com") <= 100, "not extended"
    assert sign_in_guard.seconds_locked(redis_conn, email="bob@example.com") == 0


def test_a_success_clears_the_count(redis_conn: redis.Redis) -> None:
    sign_in_guard.record_failure(redis_conn, email="ann@example.com")
    sign_in_guard.clear(redis_conn, email="ann@example.com")
    assert sign_in_guard.record_failure(redis_conn, email="ann@example.com") == 1
