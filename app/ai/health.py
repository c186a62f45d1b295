"""Whether Claude has lately been failing us, so the console can say the AI is degraded.

When the API answers 429 (rate limited), 5xx or 529 (overloaded), or not at all (a timeout, a
dropped connection), the writer and the lead insight fall back to the offline versions without
raising: messages still go out, written by rules. Operators should know, so each such fallback
stamps a marker in Redis (the instant, the reason, a count) that lives `WINDOW_SECONDS`; the
console shows a degraded strip while it is fresh. The marker is shared by every tenant: it says
something about the API, nothing about anyone's leads.

Noting is best effort: a Redis outage must not turn a fallback into a failure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

from app import runtime

KEY = "lre:ai:degraded"
WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class Degraded:
    """The latest API trouble: when (seconds since the epoch), why, and how many in the window."""

    at: float
    reason: str
    count: int


def note_fallback(reason: str, *, now: float | None = None, connection: Redis | None = None) -> None:
    """Record that an AI call fell back offline because of the API (`reason`, e.g. "HTTP 529")."""
    at = time.time() if now is None else now
    try:
        redis = connection or runtime.redis_client()
        pipe = redis.pipeline(transaction=True)
        pipe.hset(KEY, mapping={"at": repr(at), "reason": reason[:120]})
        pipe.hincrby(KEY, "count", 1)
        pipe.expire(KEY, WINDOW_SECONDS)
        pipe.execute()
    except RedisError:
        pass


def degraded(*, now: float, connection: Redis | None = None) -> Degraded | None:
    """The trouble noted within `WINDOW_SECONDS` before `now`, or None (Claude is fine, or unknown)."""
    try:
        redis = connection or runtime.redis_client()
        fields = redis.hgetall(KEY)
    except RedisError:
        return None
    values = {_text(key): _text(value) for key, value in fields.items()}
    if "at" not in values:
        return None
    at = float(values["at"])
    if not 0 <= now - at < WINDOW_SECONDS:
        return None
    return Degraded(at, values.get("reason", ""), int(values.get("count", "1")))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
