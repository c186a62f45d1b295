"""Token buckets in Redis, shared by every worker on every host.

One Lua script takes a whole batch: for each message, in order, it takes a token from every
bucket the message draws from (tenant, sender, recipient domain) or from none of them, and
for a message that cannot go it answers how long until its tokens exist. The script runs
atomically, so two workers never spend the same token, and a batch of 500 is one round trip.

Denied messages on a bucket queue behind each other: the n-th denial waits for the n-th
future token, so a deferred backlog returns at the bucket's rate instead of as one wave.
Clock: Redis `TIME`, one clock for all hosts.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

from app.domain.rate_limits import Bucket

BUCKET_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rate, burst, tokens, owed = {}, {}, {}, {}
for i = 1, #KEYS do
  rate[i] = tonumber(ARGV[2 * i - 1])
  burst[i] = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', KEYS[i], 't', 'ts')
  local t, ts = tonumber(state[1]), tonumber(state[2])
  if t == nil or ts == nil then
    t = burst[i]
  else
    t = math.min(burst[i], t + math.max(0, now - ts) * rate[i])
  end
  tokens[i] = t
  owed[i] = 0
end
local pos = 2 * #KEYS + 1
local count = tonumber(ARGV[pos])
pos = pos + 1
local waits = {}
for j = 1, count do
  local k = tonumber(ARGV[pos])
  pos = pos + 1
  local idx, ok = {}, true
  for q = 1, k do
    idx[q] = tonumber(ARGV[pos])
    pos = pos + 1
    if tokens[idx[q]] < 1 then ok = false end
  end
  if ok then
    for q = 1, k do tokens[idx[q]] = tokens[idx[q]] - 1 end
    waits[j] = 0
  else
    local wait = 0
    for q = 1, k do
      local i = idx[q]
      if tokens[i] < 1 then
        owed[i] = owed[i] + 1
        local w = (owed[i] - tokens[i]) / rate[i]
        if w > wait then wait = w end
      end
    end
    waits[j] = math.max(1, math.ceil(wait * 1000))
  end
end
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], 't', string.format('%.6f', tokens[i]), 'ts', string.format('%.6f', now))
  redis.call('PEXPIRE', KEYS[i], math.ceil(burst[i] / rate[i] * 1000) + 60000)
end
return waits
"""


class TokenBuckets:
    """Takes tokens for a batch of messages in one atomic call."""

    def __init__(self, client: redis.Redis) -> None:
        self._script = client.register_script(BUCKET_SCRIPT)

    def take(self, wanted: Sequence[Sequence[Bucket]]) -> list[float]:
        """Seconds each message must wait: 0.0 when its tokens were taken now."""
        if not wanted:
            return []
        distinct, index = _distinct(wanted)
        keys = [bucket.key for bucket in distinct]
        args: list[float | int] = [v for bucket in distinct for v in (bucket.limit.per_second, bucket.limit.burst)]
        args.append(len(wanted))
        for buckets in wanted:
            args.append(len(buckets))
            args.extend(index[bucket.key] for bucket in buckets)
        waits = self._script(keys=keys, args=args)
        return [int(ms) / 1000 for ms in waits]


def _distinct(wanted: Sequence[Sequence[Bucket]]) -> tuple[list[Bucket], dict[str, int]]:
    """Each distinct bucket once, numbered from 1 as Lua counts."""
    index: dict[str, int] = {}
    distinct: list[Bucket] = []
    for buckets in wanted:
        for bucket in buckets:
            if bucket.key not in index:
                index[bucket.key] = len(distinct) + 1
                distinct.append(bucket)
    return distinct, index
