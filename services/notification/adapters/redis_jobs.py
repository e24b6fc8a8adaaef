"""DeliveryJobs in Redis. A job is a hash per delivery (the offer id, or `<offer id>~<revision number>` for a notice
of a revision or withdrawal, see domain/revisions.py); its schedule is one sorted set (score = due time in ms), so a
retry or a quiet-hours wait survives any crash; claiming pushes the due time forward by a lease instead of
removing the job, so a worker that dies mid-step loses nothing. Send claims are one string per notification:
'sending:<ms>' while a provider call is under way, then 'sent:<ms>' (or 'unknown:<ms>').

    <p>:job:<delivery id>  hash: offer (Avro), recipient, approved, ready_ms, offer_id, number (the offer's revision
                           number), notice ('', revised, withdrawn), state, done, told (a message went out),
                           superseded (what replaced it before its message went: a delivery id, or 'withdrawn')
    <p>:chain:<offer id>   hash: the highest revision number applied, withdrawn, current (the latest delivery id),
                           opened (the revision number that made the offer again after its withdrawal, if one did)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

from services.core.codec import Contract, decode_record, encode_record
from services.notification.domain.contact import Channel, Language
from services.notification.domain.plan import DeliveryState
from services.notification.domain.revisions import Notice, revision_number
from services.notification.ports import Job, SendClaim

RETENTION_SECONDS = 400 * 24 * 3600
"""Longer than assist.offers keeps records (365 days): a redelivered offer is always recognised."""

_ADD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'offer', ARGV[1], 'recipient', ARGV[2], 'approved', ARGV[3], 'ready_ms', ARGV[4],
           'offer_id', ARGV[5], 'number', ARGV[7], 'notice', '')
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
return 1
"""
_FINISH = """
local f = redis.call('HMGET', KEYS[1], 'superseded', 'offer_id', 'offer', 'recipient', 'approved')
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'done', '1')
redis.call('HDEL', KEYS[1], 'offer')
redis.call('ZREM', KEYS[2], ARGV[5])
if ARGV[2] ~= '1' then return 0 end
redis.call('HSET', KEYS[1], 'told', '1')
if not f[1] or f[1] == '' or not f[2] then return 0 end
if f[1] == 'withdrawn' then
  -- Withdrawn while this message was going out: it went, so the withdrawal is told as well.
  local chain = ARGV[3] .. 'chain:' .. f[2]
  local id = f[2] .. '~' .. (redis.call('HGET', chain, 'number') or '0')
  local key = ARGV[3] .. 'job:' .. id
  if redis.call('EXISTS', key) == 0 and f[3] then
    redis.call('HSET', key, 'offer', f[3], 'recipient', f[4], 'approved', f[5] or '0', 'ready_ms', ARGV[4],
               'offer_id', f[2], 'number', (redis.call('HGET', chain, 'number') or '0'), 'notice', 'withdrawn')
    redis.call('EXPIRE', key, ARGV[6])
    redis.call('ZADD', KEYS[2], ARGV[4], id)
    redis.call('HSET', chain, 'current', id)
  end
  return 1
end
-- Replaced while its message was going out: the replacement, still waiting, is now news of a change.
local replacement = ARGV[3] .. 'job:' .. f[1]
if redis.call('HGET', replacement, 'done') ~= '1' then redis.call('HSET', replacement, 'notice', 'revised') end
return 1
"""
_CLAIM_DUE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return ids
"""
_CLAIM_SEND = """
local v = redis.call('GET', KEYS[1])
if v then
  local state, at = string.match(v, '^(%a+):(%d+)$')
  if state == 'sent' or state == 'unknown' then return state end
  if state == 'sending' and tonumber(ARGV[1]) - tonumber(at) < tonumber(ARGV[2]) then return 'busy' end
end
redis.call('SET', KEYS[1], 'sending:' .. ARGV[1], 'EX', ARGV[3])
if v then return 'stale' end
return 'free'
"""


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _moment(ms: bytes | str | int) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(ms) / 1000, dt.UTC)


def state_to_json(state: DeliveryState) -> str:
    return json.dumps({"chain": [c.value for c in state.chain], "language": state.language.value,
                       "critical": state.critical, "suppressed": state.suppressed, "index": state.index,
                       "attempt": state.attempt, "in_person_reason": state.in_person_reason,
                       "in_person_done": state.in_person_done})


def state_from_json(text: bytes | str) -> DeliveryState:
    raw: dict[str, Any] = json.loads(text)
    return DeliveryState(tuple(Channel(c) for c in raw["chain"]), Language(raw["language"]), raw["critical"],
                         raw["suppressed"], raw["index"], raw["attempt"], raw["in_person_reason"],
                         raw["in_person_done"])


class RedisDeliveryJobs:
    def __init__(self, redis: Redis, contract: Contract, prefix: str):
        self._redis = redis
        self._contract = contract
        self._prefix = prefix
        self._due = f"{prefix}:due"
        self._add = redis.register_script(_ADD)
        self._finish = redis.register_script(_FINISH)
        self._claim_due = redis.register_script(_CLAIM_DUE)
        self._claim_send = redis.register_script(_CLAIM_SEND)

    def _job(self, offer_id: str) -> str:
        return f"{self._prefix}:job:{offer_id}"

    def _send(self, notification_id: str) -> str:
        return f"{self._prefix}:send:{notification_id}"

    async def add(self, offer: Mapping[str, Any], recipient: str, approved: bool, now: dt.datetime) -> bool:
        payload = encode_record(self._contract, "offer", dict(offer))
        added = await self._add(keys=[self._job(str(offer["offer_id"])), self._due],
                                args=[payload, recipient, int(approved), _ms(now), offer["offer_id"],
                                      RETENTION_SECONDS, revision_number(offer)])
        return bool(added)

    async def claim_due(self, now: dt.datetime, limit: int, lease_seconds: float) -> list[str]:
        if limit <= 0:
            return []
        ids = await self._claim_due(keys=[self._due], args=[_ms(now), _ms(now) + int(lease_seconds * 1000), limit])
        return [i.decode() if isinstance(i, bytes) else str(i) for i in ids]

    async def load(self, offer_id: str) -> Job | None:
        raw = await self._redis.hgetall(self._job(offer_id))
        fields = {k: v for k, v in raw.items() if isinstance(k, bytes) and isinstance(v, bytes)}
        if b"recipient" not in fields:
            return None
        done = fields.get(b"done") == b"1"
        if b"offer" not in fields and not done:
            return None
        offer = decode_record(self._contract, "offer", fields[b"offer"]) if b"offer" in fields else {}
        state = state_from_json(fields[b"state"]) if b"state" in fields else None
        return Job(fields.get(b"offer_id", offer_id.encode()).decode(), offer, fields[b"recipient"].decode(),
                   fields.get(b"approved") == b"1", _moment(fields[b"ready_ms"]), state, done, job_id=offer_id,
                   notice=Notice(fields.get(b"notice", b"").decode()), number=int(fields.get(b"number", b"0")))

    async def save(self, offer_id: str, state: DeliveryState, due: dt.datetime,
                   ready_at: dt.datetime | None = None) -> None:
        mapping: dict[str, str | int] = {"state": state_to_json(state)}
        if ready_at is not None:
            mapping["ready_ms"] = _ms(ready_at)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._job(offer_id), mapping=mapping)  # type: ignore[arg-type]
            pipe.zadd(self._due, {offer_id: _ms(due)})
            await pipe.execute()

    async def finish(self, offer_id: str, state: DeliveryState, told: bool = False) -> None:
        await self._finish(keys=[self._job(offer_id), self._due],
                           args=[state_to_json(state), int(told), f"{self._prefix}:", _ms(dt.datetime.now(dt.UTC)),
                                 offer_id, RETENTION_SECONDS])

    async def drop(self, offer_id: str) -> None:
        await self._redis.zrem(self._due, offer_id)

    async def claim_send(self, notification_id: str, now: dt.datetime, stale_after_seconds: float) -> SendClaim:
        result = await self._claim_send(keys=[self._send(notification_id)],
                                        args=[_ms(now), int(stale_after_seconds * 1000), RETENTION_SECONDS])
        return SendClaim(result.decode() if isinstance(result, bytes) else str(result))

    async def mark_sent(self, notification_id: str, now: dt.datetime) -> None:
        await self._redis.set(self._send(notification_id), f"sent:{_ms(now)}", ex=RETENTION_SECONDS)

    async def mark_unknown(self, notification_id: str, now: dt.datetime) -> None:
        await self._redis.set(self._send(notification_id), f"unknown:{_ms(now)}", ex=RETENTION_SECONDS)

    async def release_send(self, notification_id: str) -> None:
        await self._redis.delete(self._send(notification_id))

    async def pending(self) -> int:
        """Jobs scheduled (due now or later): the worker's backlog."""
        return int(await self._redis.zcard(self._due))
