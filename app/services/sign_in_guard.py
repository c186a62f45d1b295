"""Slowing down password guessing at the sign-in form.

Each email gets a failure counter in Redis that lives for `WINDOW_SECONDS` from its first
failure; at `MAX_FAILURES` that email is refused, right password or not, until the window runs
out. Counting per email (not per browser) is what a guesser cannot dodge by opening new
sessions; a success clears the counter. A locked-out rep waits at most the window.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.services.operators import normalise_email

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


P = ParamSpec("P")
R = TypeVar("R")


class Unavailable(RuntimeError):
    """Redis cannot be reached: the form says so rather than show a traceback, and signs no one
    in, because a guard that cannot count failures would let a guesser run unthrottled."""


def _needs_redis(func: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(func)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError) as error:
            raise Unavailable("the sign-in guard cannot reach Redis") from error

    return guarded


def _key(email: str) -> str:
    return f"lre:signin:failures:{normalise_email(email)}"


@_needs_redis
def seconds_locked(connection: Redis, *, email: str) -> int:
    """How long this email stays refused (0: it may try)."""
    key = _key(email)
    failures = connection.get(key)
    if failures is None or int(failures) < MAX_FAILURES:
        return 0
    return max(1, int(connection.ttl(key)))


@_needs_redis
def record_failure(connection: Redis, *, email: str) -> int:
    """Count a failed attempt; returns the failures in the current window."""
    key = _key(email)
    pipe = connection.pipeline(transaction=True)
    pipe.set(key, 0, nx=True, ex=WINDOW_SECONDS)  # the window starts at the first failure; INCR keeps the TTL
    pipe.incr(key)
    _, failures = pipe.execute()
    return int(failures)


@_needs_redis
def clear(connection: Redis, *, email: str) -> None:
    connection.delete(_key(email))
