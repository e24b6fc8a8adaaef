"""The citizen's side in Redis: their offers with the state of their answer, and their in-app inbox.

Offers are a hash per person (offer id -> the offer as JSON, rewritten only by a later revision or the
withdrawal of the same offer id, or after its withdrawal by the offer made again); answers a second hash (offer id ->
'ANSWERING:<ms>', 'ACCEPTED:<ms>' or 'DECLINED:<ms>'; absent means still open); a third (`<p>:again:<person>`,
offer id -> ms) says when an offer withdrawn was made again (its publication's created_at): an answer given before
does not answer it (domain/answers.py answer_stands), whatever order the answer and the offer are read in, so a
rebuild agrees with the live worker. The inbox is a list per person, newest first, with a set of notification ids
so a repeated delivery adds nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from services.core.codec import jsonable
from services.notification.domain.answers import Answer, OfferState, OfferView, answer_stands
from services.notification.domain.attempts import ACCEPTED, Outcome, SendResult
from services.notification.domain.contact import Channel
from services.notification.domain.revisions import change_of, revision_number
from services.notification.ports import InboxItem, Message

ANSWERING_STALE_SECONDS = 60
"""An answer still being recorded after this long was interrupted; the offer is open again."""
INBOX_KEEP = 200

_BEGIN = """
local offer = redis.call('HGET', KEYS[1], ARGV[1])
if not offer then return 'missing' end
if cjson.decode(offer).change == 'WITHDRAWN' then return 'withdrawn' end
local s = redis.call('HGET', KEYS[2], ARGV[1])
if s then
  local state, at = string.match(s, '^(%u+):(%d+)$')
  local again = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
  if tonumber(at) >= again and (state ~= 'ANSWERING' or tonumber(ARGV[2]) - tonumber(at) < tonumber(ARGV[3])) then
    return s
  end
end
redis.call('HSET', KEYS[2], ARGV[1], 'ANSWERING:' .. ARGV[2])
return 'open'
"""
_APPLY = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if tonumber(ARGV[3]) < tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0') then return 0 end
local s = redis.call('HGET', KEYS[2], ARGV[1])
if s then
  local state, at = string.match(s, '^(%u+):(%d+)$')
  if state ~= 'ANSWERING' and tonumber(at) > tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
return 1
"""
_REVISE = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then
  if ARGV[4] == '1' then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); return 1 end
  return 0
end
local o = cjson.decode(old)
local n = 0
if type(o.revision) == 'table' and o.revision.number then n = tonumber(o.revision.number) end
if tonumber(ARGV[3]) <= n then return 0 end
if o.change == 'WITHDRAWN' then
  if ARGV[5] == 'WITHDRAWN' or ARGV[5] == 'NEW' then return 0 end
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[6])  -- made again: open again from its publication on
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""
_ABANDON = """
local s = redis.call('HGET', KEYS[1], ARGV[1])
if s and string.sub(s, 1, 9) == 'ANSWERING' then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
"""
_PUSH = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return 1
"""


def citizen_redis(url: str, connections: int, wait_seconds: float) -> Redis:
    """The citizen API's client: at most `connections`; a command beyond them waits up to `wait_seconds` for one
    (then redis' ConnectionError, answered 503) instead of failing at once."""
    return Redis.from_pool(BlockingConnectionPool.from_url(url, max_connections=connections, timeout=wait_seconds))


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _moment(ms: bytes | str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(ms) / 1000, dt.UTC)


def _created_ms(offer: Mapping[str, Any]) -> int:
    created = offer["created_at"]
    if isinstance(created, dt.datetime):
        return _ms(created)
    return int(created) if isinstance(created, int) else _ms(dt.datetime.fromisoformat(str(created)))


def _view(offer_json: bytes, answer: bytes | None, again: bytes | None) -> OfferView:
    offer: dict[str, Any] = json.loads(offer_json)
    if answer is None:
        return OfferView(offer, OfferState.OFFERED)
    state, _, at = answer.decode().partition(":")
    if not answer_stands(_moment(at), _moment(again) if again is not None else None):
        return OfferView(offer, OfferState.OFFERED)
    return OfferView(offer, OfferState(state), _moment(at))


class RedisCitizenViews:
    def __init__(self, redis: Redis, prefix: str):
        self._redis = redis
        self._prefix = prefix
        self._begin = redis.register_script(_BEGIN)
        self._apply = redis.register_script(_APPLY)
        self._abandon = redis.register_script(_ABANDON)
        self._revise = redis.register_script(_REVISE)

    def _keys(self, person_id: str) -> list[str]:
        return [f"{self._prefix}:offers:{person_id}", f"{self._prefix}:answers:{person_id}",
                f"{self._prefix}:again:{person_id}"]

    async def add(self, person_id: str, offer: Mapping[str, Any]) -> None:
        await self._redis.hsetnx(self._keys(person_id)[0], str(offer["offer_id"]),
                                 json.dumps(jsonable(dict(offer))))

    async def revise(self, person_id: str, offer: Mapping[str, Any], add: bool) -> None:
        offers, _answers, again = self._keys(person_id)
        await self._revise(keys=[offers, again],
                           args=[str(offer["offer_id"]), json.dumps(jsonable(dict(offer))), revision_number(offer),
                                 int(add), change_of(offer), _created_ms(offer)])

    async def get(self, person_id: str, offer_id: str) -> OfferView | None:
        offers, answers, again = self._keys(person_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hget(offers, offer_id)
            pipe.hget(answers, offer_id)
            pipe.hget(again, offer_id)
            offer_json, answer, made_again = await pipe.execute()
        return _view(offer_json, answer, made_again) if offer_json else None

    async def all(self, person_id: str) -> list[OfferView]:
        offers, answers, again = self._keys(person_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(offers)
            pipe.hgetall(answers)
            pipe.hgetall(again)
            offer_jsons, states, made_again = await pipe.execute()
        views = [_view(v, states.get(k), made_again.get(k)) for k, v in offer_jsons.items()]
        return sorted(views, key=lambda v: str(v.offer.get("created_at", "")), reverse=True)

    async def begin_answer(self, person_id: str, offer_id: str, now: dt.datetime) -> OfferView | None:
        result = await self._begin(keys=self._keys(person_id), args=[offer_id, _ms(now), ANSWERING_STALE_SECONDS
                                                                     * 1000])
        if result == b"missing":
            return None
        # A withdrawn offer comes back as it is (open or answered): the desk refuses any answer to it.
        view = await self.get(person_id, offer_id)
        if view is None:
            return None
        return OfferView(view.offer, OfferState.OFFERED) if result == b"open" else view

    async def finish_answer(self, person_id: str, offer_id: str, answer: Answer, at: dt.datetime) -> None:
        await self._redis.hset(self._keys(person_id)[1], offer_id, f"{answer.value}:{_ms(at)}")

    async def abandon_answer(self, person_id: str, offer_id: str) -> None:
        await self._abandon(keys=[self._keys(person_id)[1]], args=[offer_id])

    async def apply_answer(self, person_id: str, offer_id: str, answer: Answer, at: dt.datetime) -> None:
        await self._apply(keys=self._keys(person_id), args=[offer_id, answer.value, _ms(at)])


class RedisInbox:
    """The in-app inbox: a ChannelSender for delivery and an InboxReader for the citizen page. Idempotent by
    notification id, so it may safely repeat an interrupted send."""

    channel = Channel.INBOX
    idempotent = True

    def __init__(self, redis: Redis, prefix: str):
        self._redis = redis
        self._prefix = prefix
        self._push = redis.register_script(_PUSH)

    def _keys(self, person_id: str) -> list[str]:
        return [f"{self._prefix}:inbox-ids:{person_id}", f"{self._prefix}:inbox:{person_id}"]

    async def send(self, address: str, message: Message, idempotency_key: str) -> SendResult:
        item = {"notification_id": idempotency_key, "offer_id": message.offer_id, "subject": message.subject,
                "body": message.body, "at": _ms(dt.datetime.now(dt.UTC))}
        try:
            await self._push(keys=self._keys(address), args=[idempotency_key, json.dumps(item), INBOX_KEEP])
        except RedisError:
            return SendResult(Outcome.TRANSIENT, "inbox store unreachable")
        return ACCEPTED

    async def restore(self, address: str, message: Message, idempotency_key: str, at: dt.datetime) -> int:
        """Write a delivered item again (a rebuild), at the time it was delivered; 0 when it is there already."""
        item = {"notification_id": idempotency_key, "offer_id": message.offer_id, "subject": message.subject,
                "body": message.body, "at": _ms(at)}
        return int(await self._push(keys=self._keys(address), args=[idempotency_key, json.dumps(item), INBOX_KEEP]))

    async def items(self, person_id: str, limit: int = 50) -> list[InboxItem]:
        raw = await self._redis.lrange(self._keys(person_id)[1], 0, limit - 1)
        items = [json.loads(r) for r in raw]
        return [InboxItem(i["notification_id"], i["offer_id"], i["subject"], i["body"],
                          dt.datetime.fromtimestamp(i["at"] / 1000, dt.UTC)) for i in items]
