"""A provider that answered "too many requests, wait N seconds" is left alone until then.

The pause lives in Redis, one key per channel holding the epoch second it ends, so every
worker on every host honours it: while it lasts, the sender claims that channel's due rows
only to set them back to `pending` until it ends, and calls nothing. A 429 storm therefore
costs one refused call per pause, not one per batch or per worker. A pause only ever grows
(a shorter answer never cuts a longer one). The end is counted on the sender's clock (the
`now` a test injects), and the key expires a minute after it. If Redis loses it, the next call
meets the provider's 429 again and the pause is set again: nothing is sent twice or lost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

import redis

KEY = "lre:provider-pause:{channel}"
KEEP_AFTER_S = 60

_PAUSE = """
local ends = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > ends then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return 0
"""


class ProviderPauses:
    """Reads and sets the per-channel pauses a provider's rate limit asked for."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._pause = client.register_script(_PAUSE)

    def pause(self, channel: str, seconds: float, *, now: datetime) -> None:
        """Leave `channel`'s provider alone for `seconds` from `now`, unless paused for longer."""
        until = now.timestamp() + seconds
        self._pause(keys=[KEY.format(channel=channel)], args=[repr(until), math.ceil(seconds) + KEEP_AFTER_S])

    def left(self, channels: Iterable[str], *, now: datetime) -> dict[str, float]:
        """Seconds of pause left at `now`, for each of `channels` paused then."""
        names = sorted(set(channels))
        if not names:
            return {}
        values = self._client.mget([KEY.format(channel=channel) for channel in names])
        found = {channel: float(value) - now.timestamp() for channel, value in zip(names, values, strict=True) if value}
        return {channel: seconds for channel, seconds in found.items() if seconds > 0}
