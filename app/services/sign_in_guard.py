"""Slowing down password guessing at the sign-in form, without letting anyone lock an owner out.

Three failure logs in Redis, each a sorted set of failure instants over a sliding
`WINDOW_SECONDS`:

- per (email, client address): at `PAIR_MAX_FAILURES` that address may not try that email
  again until the oldest counted failure leaves the window. This stops one guesser hard while
  the owner, elsewhere, is not affected;
- per client address, over every email: at `ADDRESS_MAX_FAILURES` the address is refused
  altogether (a guesser spraying many accounts);
- per email, over every address: past `ACCOUNT_FREE_FAILURES`, each further try must wait
  `2^(failures - free)` seconds after the latest failure, capped at `ACCOUNT_MAX_DELAY`. A
  guesser with many addresses is slowed to one guess a minute, yet the delay never grows past
  the cap: the owner waits a minute at most, never until the window runs out. An address this
  email signed in from within `KNOWN_SECONDS` skips that slow-down, so an attack on the demo
  account (or anyone's) does not keep its usual users out at all.

Without a client address (the console reached directly on this machine, or a proxy that names
no client) the address locks would lock everyone at once, so only the capped slow-down applies,
with no address to exempt.

A refused try is not counted (it checked no password), so the logs stay small. Time comes in
as `now` (seconds since the epoch), so tests drive a clock of their own; Redis expiries only
collect old keys and decide nothing.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.services.operators import normalise_email

WINDOW_SECONDS = 15 * 60
PAIR_MAX_FAILURES = 5
ADDRESS_MAX_FAILURES = 30
ACCOUNT_FREE_FAILURES = 5
ACCOUNT_MAX_DELAY = 60
KNOWN_SECONDS = 30 * 24 * 3600
UNKNOWN_ADDRESS = "unknown"
_PREFIX = "lre:signin"

P = ParamSpec("P")
R = TypeVar("R")


class Unavailable(RuntimeError):
    """Redis cannot be reached: the form says so rather than show a traceback, and signs no one
    in, because a guard that cannot count failures would let a guesser run unthrottled."""


@dataclass(frozen=True)
class Refusal:
    """Why a try is refused and for how many more seconds: `scope` is "address" (this client,
    any email), "pair" (this email from this client) or "account" (this email, slowed down)."""

    scope: str
    seconds: int


def _needs_redis(func: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(func)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError) as error:
            raise Unavailable("the sign-in guard cannot reach Redis") from error

    return guarded


def _address(ip: str | None) -> str:
    return (ip or "").strip() or UNKNOWN_ADDRESS


def _keys(email: str, ip: str | None) -> tuple[str, str, str, str]:
    """(pair, address, account, known) keys."""
    who, where = normalise_email(email), _address(ip)
    return (
        f"{_PREFIX}:pair:{who}:{where}",
        f"{_PREFIX}:address:{where}",
        f"{_PREFIX}:account:{who}",
        f"{_PREFIX}:known:{who}",
    )


def _recent(connection: Redis, key: str, now: float) -> list[float]:
    """The failure instants of `key` still inside the window, oldest first."""
    rows: list[tuple[bytes, float]] = connection.zrangebyscore(key, now - WINDOW_SECONDS, "+inf", withscores=True)  # type: ignore[assignment]
    return [float(row[1]) for row in rows]


def _until_below(failures: list[float], limit: int, now: float) -> float:
    """Seconds until fewer than `limit` of `failures` are inside the window (0: already)."""
    if len(failures) < limit:
        return 0.0
    return failures[len(failures) - limit] + WINDOW_SECONDS - now


def account_delay(failures: int) -> int:
    """The wait after the latest failure once an email has `failures` in the window."""
    if failures < ACCOUNT_FREE_FAILURES:
        return 0
    return min(ACCOUNT_MAX_DELAY, 2 ** (failures - ACCOUNT_FREE_FAILURES))


@_needs_redis
def refusal(connection: Redis, *, email: str, ip: str | None, now: float) -> Refusal | None:
    """Why this email may not try from this address now, or None when it may."""
    pair_key, address_key, account_key, known_key = _keys(email, ip)
    if _address(ip) != UNKNOWN_ADDRESS:
        address_wait = _until_below(_recent(connection, address_key, now), ADDRESS_MAX_FAILURES, now)
        if address_wait > 0:
            return Refusal("address", _whole(address_wait))
        pair_wait = _until_below(_recent(connection, pair_key, now), PAIR_MAX_FAILURES, now)
        if pair_wait > 0:
            return Refusal("pair", _whole(pair_wait))
        known_since = connection.zscore(known_key, _address(ip))
        if known_since is not None and now - float(known_since) < KNOWN_SECONDS:
            return None
    account = _recent(connection, account_key, now)
    wait = account[-1] + account_delay(len(account)) - now if account else 0.0
    return Refusal("account", _whole(wait)) if wait > 0 else None


def _whole(seconds: float) -> int:
    return max(1, int(-(-seconds // 1)))


@_needs_redis
def record_failure(connection: Redis, *, email: str, ip: str | None, now: float) -> None:
    """Count a wrong password in the three logs (one transaction); without an address, only the email's."""
    member = f"{now!r}:{secrets.token_hex(4)}"
    pair_key, address_key, account_key, _ = _keys(email, ip)
    keys = (pair_key, address_key, account_key) if _address(ip) != UNKNOWN_ADDRESS else (account_key,)
    pipe = connection.pipeline(transaction=True)
    for key in keys:
        pipe.zadd(key, {member: now})
        pipe.zremrangebyscore(key, "-inf", now - WINDOW_SECONDS)
        pipe.expire(key, WINDOW_SECONDS + 60)
    pipe.execute()


@_needs_redis
def record_success(connection: Redis, *, email: str, ip: str | None, now: float) -> None:
    """Clear this address's failures for this email and remember the address as the owner's.

    The per-email and per-address logs stay: a success from one address says nothing about
    the guesses made from others.
    """
    if _address(ip) == UNKNOWN_ADDRESS:
        return
    pair_key, _, _, known_key = _keys(email, ip)
    pipe = connection.pipeline(transaction=True)
    pipe.delete(pair_key)
    pipe.zadd(known_key, {_address(ip): now})
    pipe.zremrangebyscore(known_key, "-inf", now - KNOWN_SECONDS)
    pipe.expire(known_key, KNOWN_SECONDS)
    pipe.execute()
