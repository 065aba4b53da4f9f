"""Rate windows in Redis, shared by every worker host; one Lua script per decision.

The script checks every budget and, only when all have room, records the call in all of
them, atomically. Time comes from the caller's clock (hosts run NTP; tests inject one).
Sliding windows are sorted sets of ``<id>:<cost>`` scored by time; fixed windows are
counters per window index that expire with the window.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from crmsync.connectors.http.ratelimit import Budget

__all__ = ["RedisWindows"]

_SCRIPT = """
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local member = ARGV[3]
local n = tonumber(ARGV[4])
local blocked = tonumber(redis.call('GET', KEYS[1]) or '0')
if blocked > now then return math.ceil((blocked - now) * 1000) end
local function spent(entry) return tonumber(string.match(entry, ':([^:]+)$')) end
local wait = 0
local fixed = {}
for i = 1, n do
  local base = 4 + (i - 1) * 4
  local limit = tonumber(ARGV[base + 1])
  local period = tonumber(ARGV[base + 2])
  local kind = ARGV[base + 3]
  local offset = tonumber(ARGV[base + 4])
  local key = KEYS[i + 1]
  if kind == 'sliding' then
    -- a running total beside the log keeps a decision from re-adding the whole window
    local total = key .. ':sum'
    local expired = redis.call('ZRANGEBYSCORE', key, '-inf', now - period)
    local used = tonumber(redis.call('GET', total) or '0')
    for j = 1, #expired do used = used - spent(expired[j]) end
    if #expired > 0 then redis.call('ZREMRANGEBYSCORE', key, '-inf', now - period) end
    if redis.call('ZCARD', key) == 0 or used < 0 then used = 0 end
    redis.call('SET', total, used, 'PX', math.ceil(period * 1000) + 1000)
    local excess = used + cost - limit
    if excess > 0 then
      local freed = 0
      local w = period
      local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
      for j = 1, #entries, 2 do
        freed = freed + spent(entries[j])
        if freed >= excess then w = tonumber(entries[j + 1]) + period - now; break end
      end
      if w > wait then wait = w end
    end
  else
    local window = math.floor((now - offset) / period)
    local wkey = key .. ':' .. window
    local used = tonumber(redis.call('GET', wkey) or '0')
    if used + cost > limit then
      local w = (window + 1) * period + offset - now
      if w > wait then wait = w end
    end
    fixed[i] = wkey
  end
end
if wait > 0 then return math.max(1, math.ceil(wait * 1000)) end
for i = 1, n do
  local base = 4 + (i - 1) * 4
  local period = tonumber(ARGV[base + 2])
  local ttl = math.ceil(period * 1000) + 1000
  if fixed[i] then
    redis.call('INCRBYFLOAT', fixed[i], cost)
    redis.call('PEXPIRE', fixed[i], ttl)
  else
    redis.call('ZADD', KEYS[i + 1], now, member .. ':' .. ARGV[2])
    redis.call('PEXPIRE', KEYS[i + 1], ttl)
    redis.call('INCRBYFLOAT', KEYS[i + 1] .. ':sum', cost)
    redis.call('PEXPIRE', KEYS[i + 1] .. ':sum', ttl)
  end
end
return 0
"""


_BLOCK_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return 0
"""
_BLOCK_TTL = 86_400


class RedisWindows:
    """``WindowBackend`` on Redis: the same answers as ``MemoryWindows``, across hosts."""

    def __init__(self, redis: Any, prefix: str = "crmsync:rate"):
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_SCRIPT)
        self._block = redis.register_script(_BLOCK_SCRIPT)

    def try_acquire(self, key: str, budgets: Sequence[Budget], cost: float, now: float) -> float:
        keys = [f"{self._prefix}:{key}:blocked"]
        args: list[Any] = [repr(now), repr(float(cost)), uuid.uuid4().hex, len(budgets)]
        for index, budget in enumerate(budgets):
            keys.append(f"{self._prefix}:{key}:{index}:{budget.kind}:{budget.period:g}")
            args += [
                repr(float(budget.limit)),
                repr(float(budget.period)),
                budget.kind,
                repr(float(budget.offset)),
            ]
        wait_ms = int(self._script(keys=keys, args=args))
        return wait_ms / 1000.0

    def block(self, key: str, until: float) -> None:
        # keep the later of two blocks; the key outlives any sensible wait
        self._block(keys=[f"{self._prefix}:{key}:blocked"], args=[repr(until), _BLOCK_TTL])
