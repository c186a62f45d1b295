"""One Anthropic client per process, whose retries are the SDK's but never sleep for long.

Building a client per call costs a new connection pool and TLS handshake each time (the
insight built one per drawer opening), so every task takes its client from `shared()`, keyed
by key, address and retry policy; per-call timeouts are passed to each request instead.

Retries are left to the SDK (`max_retries`), which honours `x-should-retry` and retries 408,
409, 429, 5xx and 529 (overloaded) with exponential backoff and jitter. The SDK however obeys
any `retry-after` it is sent, however long: `BoundedAnthropic` caps every wait at `max_wait`
seconds and does not retry at all when the server asks for a longer wait, so the caller
falls back (offline writer, offline insight) and pauses instead of sleeping inside a batch.
"""

from __future__ import annotations

import threading
from typing import Any

from anthropic import Anthropic

from app.settings import Settings

MAX_RETRIES = 2
MAX_WAIT = 2.0


class BoundedAnthropic(Anthropic):
    """The SDK client with every retry wait bounded by `max_wait` seconds."""

    def __init__(self, *, max_wait: float = MAX_WAIT, **options: Any) -> None:
        super().__init__(**options)
        self.max_wait = max_wait

    def _should_retry(self, response: Any) -> bool:
        asked = self._parse_retry_after_header(response.headers)
        if asked is not None and asked > self.max_wait:
            return False  # the server wants a longer pause than a batch may spend asleep
        return super()._should_retry(response)

    def _calculate_retry_timeout(self, remaining_retries: int, options: Any, response_headers: Any = None) -> float:
        return min(super()._calculate_retry_timeout(remaining_retries, options, response_headers), self.max_wait)


_clients: dict[tuple[str, str | None, int, float], BoundedAnthropic] = {}
_lock = threading.Lock()


def shared(
    *, api_key: str, base_url: str | None = None, max_retries: int = MAX_RETRIES, max_wait: float = MAX_WAIT
) -> BoundedAnthropic:
    """The process's client for this key and address (built on first use, never closed by callers)."""
    key = (api_key, base_url, max_retries, max_wait)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = BoundedAnthropic(api_key=api_key, base_url=base_url, max_retries=max_retries, max_wait=max_wait)
            _clients[key] = client
        return client


def from_settings(settings: Settings, **options: Any) -> BoundedAnthropic | None:
    """The shared client for the configured key; None without a key (offline, no network)."""
    if settings.anthropic_api_key is None:
        return None
    return shared(api_key=settings.anthropic_api_key.get_secret_value(), base_url=base_url(settings), **options)


def base_url(settings: Settings) -> str | None:
    return str(settings.anthropic_base_url).rstrip("/") if settings.anthropic_base_url else None
