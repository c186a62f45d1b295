"""Slowing down password guessing at the sign-in form.

Each email gets a failure counter in Redis that lives for `WINDOW_SECONDS` from its first
failure; at `MAX_FAILURES` that email is refused, right password or not, until the window runs
out. Counting per email (not per browser) is what a guesser cannot dodge by opening new
sessions; a success clears the counter. A locked-out rep waits at most the window.
"""

from __future__ import annotations

from redis import Redis

from app.services.operators import normalise_email

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _key(email: str) -> str:
    return f"lre:signin:failures:{normalise_email(email)}"


def seconds_locked(connection: Redis, *, email: str) -> int:
    """How long this email stays refused (0: it may try)."""
    key = _key(email)
    failures = connection.get(key)
    if failures is None or int(failures) < MAX_FAILURES:
        return 0
    return max(1, int(connection.ttl(key)))


def record_failure(connection: Redis, *, email: str) -> int:
    """Count a failed attempt; returns the failures in the current window."""
    key = _key(email)
    pipe = connection.pipeline(transaction=True)
    pipe.set(key, 0, nx=True, ex=WINDOW_SECONDS)  # the window starts at the first failure; INCR keeps the TTL
    pipe.incr(key)
    _, failures = pipe.execute()
    return int(failures)


def clear(connection: Redis, *, email: str) -> None:
    connection.delete(_key(email))
