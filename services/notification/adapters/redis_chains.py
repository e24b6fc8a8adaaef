"""OfferChains in Redis: applies a revision or withdrawal of an offer to its deliveries in one script, so a
revision racing with the step that sends the offer either replaces the waiting message or, once it went, adds a
notice; a withdrawn offer made again is told again as the offer (key layout in redis_jobs.py; the rules in
domain/revisions.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

from services.core.codec import Contract, encode_record
from services.notification.adapters.redis_jobs import RETENTION_SECONDS
from services.notification.domain.revisions import Amended, received, revision_number, withdrawn

_AMEND = """
local jobs, offer_id, number = ARGV[1], ARGV[2], tonumber(ARGV[3])
local gone = ARGV[4] == '1'
local c = redis.call('HMGET', KEYS[1], 'number', 'withdrawn', 'current', 'opened')
local base = jobs .. offer_id
local stored = math.max(tonumber(c[1] or '0'), tonumber(redis.call('HGET', base, 'number') or '0'))
if number <= stored then return 'stale' end
if c[2] == '1' and gone then return 'stale' end
local current = c[3]
if (not current or current == '') and redis.call('EXISTS', base) == 1 then current = offer_id end
local id = offer_id .. '~' .. number
local function add(notice, recipient, approved)
  local key = jobs .. id
  if redis.call('EXISTS', key) == 1 then return end
  redis.call('HSET', key, 'offer', ARGV[5], 'recipient', recipient, 'approved', approved, 'ready_ms', ARGV[7],
             'offer_id', offer_id, 'number', tostring(number), 'notice', notice)
  redis.call('EXPIRE', key, ARGV[8])
  redis.call('ZADD', KEYS[2], ARGV[7], id)
  redis.call('HSET', KEYS[1], 'current', id)
end
if c[2] == '1' then
  -- Made again after its withdrawal: told again as the offer, to whom it was told (or was to be). A withdrawal
  -- notice still waiting goes first (it is due earlier).
  local recipient, approved = ARGV[6], ARGV[10]
  if current and current ~= '' then
    local j = redis.call('HMGET', jobs .. current, 'recipient', 'approved')
    if j[1] then recipient, approved = j[1], j[2] or approved end
  end
  redis.call('HSET', KEYS[1], 'number', tostring(number), 'withdrawn', '0', 'opened', tostring(number))
  redis.call('EXPIRE', KEYS[1], ARGV[8])
  add('', recipient, approved)
  return 'reopened'
end
-- Told since the chain last opened: a withdrawal told before the offer was made again is not news of the offer.
local opened = tonumber(c[4] or '0')
local told = opened == 0 and redis.call('HGET', base, 'told') == '1'
for k = math.max(1, opened), stored do
  told = told or redis.call('HGET', jobs .. offer_id .. '~' .. k, 'told') == '1'
end
redis.call('HSET', KEYS[1], 'number', tostring(number), 'withdrawn', gone and '1' or '0')
redis.call('EXPIRE', KEYS[1], ARGV[8])
if current and current ~= '' then
  local key = jobs .. current
  local j = redis.call('HMGET', key, 'done', 'recipient', 'approved', 'notice')
  if j[2] and j[1] ~= '1' then
    -- Its message has not gone (or is going out right now: finishing it then tells the change).
    redis.call('HSET', key, 'done', '1', 'superseded', gone and 'withdrawn' or id, 'offer', ARGV[5])
    redis.call('ZREM', KEYS[2], current)
    if gone then
      if told then add('withdrawn', j[2], j[3]); return 'notice' end
      return 'cancelled'
    end
    add(j[4] or '', j[2], j[3])
    return 'replaced'
  end
  if j[2] then
    add(gone and 'withdrawn' or 'revised', j[2], j[3])
    return 'notice'
  end
end
if gone then return 'untold' end
add(ARGV[9] == '1' and 'revised' or '', ARGV[6], ARGV[10])
return 'notice'
"""


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


class RedisOfferChains:
    def __init__(self, redis: Redis, contract: Contract, prefix: str):
        self._contract = contract
        self._prefix = prefix
        self._amend = redis.register_script(_AMEND)

    async def amend(self, offer: Mapping[str, Any], recipient: str, now: dt.datetime,
                    approved: bool = False) -> Amended:
        offer_id = str(offer["offer_id"])
        payload = encode_record(self._contract, "offer", dict(offer))
        result = await self._amend(
            keys=[f"{self._prefix}:chain:{offer_id}", f"{self._prefix}:due"],
            args=[f"{self._prefix}:job:", offer_id, revision_number(offer), int(withdrawn(offer)), payload,
                  recipient, _ms(now), RETENTION_SECONDS, int(received(offer)), int(approved)])
        return Amended(result.decode() if isinstance(result, bytes) else str(result))
