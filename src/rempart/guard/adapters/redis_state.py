"""``RedisGuardState``: the guard's counters in Redis, so several replicas share one budget.

Each admission is one Lua script: prune, count, check every limit, then add — atomically, so a
scraper alternating between replicas meets the same limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import redis

from rempart.guard.state import Admission, Window

# KEYS: the windows' sorted sets. ARGV: now, n_windows, seconds..., limits..., members...
_ADMIT = """
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local members = {}
for i = 3 + 2 * n, #ARGV do members[#members + 1] = ARGV[i] end
local counts, news = {}, {}
for w = 1, n do
  local secs = tonumber(ARGV[2 + w])
  redis.call('ZREMRANGEBYSCORE', KEYS[w], '-inf', now - secs)
  local new = 0
  for _, m in ipairs(members) do
    if not redis.call('ZSCORE', KEYS[w], m) then new = new + 1 end
  end
  news[w] = new
  counts[w] = redis.call('ZCARD', KEYS[w])
end
for w = 1, n do
  local limit = tonumber(ARGV[2 + n + w])
  if news[w] > 0 and counts[w] + news[w] > limit then
    local oldest = redis.call('ZRANGE', KEYS[w], 0, 0, 'WITHSCORES')
    local wait = tonumber(ARGV[2 + w])
    if oldest[2] then wait = tonumber(oldest[2]) + tonumber(ARGV[2 + w]) - now end
    return {0, w, tostring(wait), news[1], unpack(counts)}
  end
end
for w = 1, n do
  for _, m in ipairs(members) do redis.call('ZADD', KEYS[w], now, m) end
  redis.call('EXPIRE', KEYS[w], tonumber(ARGV[2 + w]) + 60)
  counts[w] = redis.call('ZCARD', KEYS[w])
end
return {1, 0, '0', news[1], unpack(counts)}
"""

_EVENT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]) + 60)
return redis.call('ZCARD', KEYS[1])
"""


class RedisGuardState:
    """Implements ``GuardState`` on Redis (redis-py, Lua scripts)."""

    def __init__(self, url: str, prefix: str = "rempart:guard:") -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix
        self._admit = self.client.register_script(_ADMIT)
        self._event = self.client.register_script(_EVENT)
        self._seq = 0

    def forgets_on_restart(self) -> bool | None:
        """True when this Redis keeps no append-only file: a restart would forget every
        budget. None when it cannot tell (unreachable, or CONFIG not allowed, as on some
        managed services)."""
        try:
            found = cast(dict[str, str], self.client.config_get("appendonly"))
        except redis.RedisError:
            return None
        value = found.get("appendonly")
        return None if value is None else value != "yes"

    def admit(self, windows: Sequence[Window], members: Sequence[str], now: float) -> Admission:
        """Atomically admit members to every window, or refuse."""
        unique = list(dict.fromkeys(members))
        keys = [self.prefix + "w:" + w.key for w in windows]
        args: list[Any] = [now, len(windows)]
        args += [w.seconds for w in windows] + [w.limit for w in windows] + unique
        res = cast(list[Any], self._admit(keys=keys, args=args))
        admitted, blocked, wait, new_first = int(res[0]), int(res[1]), float(res[2]), int(res[3])
        counts = tuple(int(c) for c in res[4:])
        if admitted:
            return Admission(True, counts, new_first)
        return Admission(False, counts, new_first, blocked - 1, max(1, math.ceil(wait)))

    def distinct(self, key: str, seconds: int, now: float) -> int:
        """Members in the window."""
        k = self.prefix + "w:" + key
        self.client.zremrangebyscore(k, "-inf", now - seconds)
        return int(self.client.zcard(k))

    def count_event(self, key: str, seconds: int, now: float) -> int:
        """One more event in a sliding window."""
        self._seq += 1
        member = f"{now}:{id(self)}:{self._seq}"
        return int(
            cast(int, self._event(keys=[self.prefix + "e:" + key], args=[now, seconds, member]))
        )

    def push_recent(self, key: str, value: int, keep: int) -> tuple[int, ...]:
        """Append to a bounded history."""
        k = self.prefix + "r:" + key
        pipe = self.client.pipeline()
        pipe.rpush(k, value)
        pipe.ltrim(k, -keep, -1)
        pipe.expire(k, 86_400)
        pipe.lrange(k, 0, -1)
        out = pipe.execute()
        return tuple(int(v) for v in out[-1])

    def get(self, key: str, now: float) -> str | None:
        """A remembered value, unless expired on the guard's clock."""
        raw = self.client.get(self.prefix + "v:" + key)
        if raw is None:
            return None
        expires, _, value = cast(bytes, raw).decode().partition("|")
        return value if float(expires) >= now else None

    def put(self, key: str, value: str, ttl_seconds: int, now: float) -> None:
        """Remember a value; Redis' own expiry only collects garbage later."""
        self.client.set(
            self.prefix + "v:" + key, f"{now + ttl_seconds}|{value}", ex=max(1, ttl_seconds) + 3600
        )

    def ping(self) -> None:
        """Raise when Redis is unreachable."""
        self.client.ping()

    def close(self) -> None:
        """Release the connection pool."""
        self.client.close()
