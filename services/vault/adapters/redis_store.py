"""SealedStore in Redis: a hash per person (sealed fields, household, version) and a set per household."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import cast

from redis.asyncio import Redis

from services.vault.domain.disclosure import FIELDS, Disclosure, Purpose

PREFIX = "assist:vault"
# One script per write, so the version check and the move between households are atomic.
_PUT = """
local current = tonumber(redis.call('HGET', KEYS[1], 'updated_at_ms') or '-1')
if current > tonumber(ARGV[2]) then return 0 end
local previous = redis.call('HGET', KEYS[1], 'household_id')
if previous and previous ~= ARGV[1] then redis.call('SREM', ARGV[3] .. previous, ARGV[4]) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'household_id', ARGV[1], 'updated_at_ms', ARGV[2], unpack(ARGV, 5))
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[4])
return 1
"""
_ERASE = """
local household = redis.call('HGET', KEYS[1], 'household_id')
if household then redis.call('SREM', ARGV[1] .. household, ARGV[2]) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 1
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisSealedStore:
    def __init__(self, redis: Redis, prefix: str = PREFIX):
        self._redis = redis
        self._prefix = prefix
        self._put = redis.register_script(_PUT)
        self._erase = redis.register_script(_ERASE)

    def _person(self, person_id: str) -> str:
        return f"{self._prefix}:person:{person_id}"

    def _household(self, household_id: str) -> str:
        return f"{self._prefix}:household:{household_id}"

    @property
    def _everyone(self) -> str:
        return f"{self._prefix}:persons"

    async def put(self, person_id: str, household_id: str, sealed: Mapping[str, str], updated_at_ms: int) -> bool:
        pairs = [item for name_value in sealed.items() for item in name_value]
        done = await self._put(keys=[self._person(person_id), self._household(household_id), self._everyone],
                               args=[household_id, updated_at_ms, f"{self._prefix}:household:", person_id, *pairs])
        return bool(done)

    async def erase(self, person_id: str) -> None:
        await self._erase(keys=[self._person(person_id), self._everyone],
                          args=[f"{self._prefix}:household:", person_id])

    async def members(self, household_id: str) -> list[str]:
        return sorted(map(_text, await self._redis.smembers(self._household(household_id))))

    async def sealed(self, person_ids: Iterable[str], fields: Iterable[str]) -> dict[str, dict[str, str]]:
        wanted = list(fields)
        ids = list(person_ids)
        async with self._redis.pipeline(transaction=False) as pipe:
            for person_id in ids:
                pipe.hmget(self._person(person_id), wanted)
            rows = await pipe.execute()
        return {person_id: {f: _text(v) for f, v in zip(wanted, row, strict=True) if v is not None}
                for person_id, row in zip(ids, rows, strict=True)}

    async def person_ids(self, batch: int) -> AsyncIterator[list[str]]:
        cursor = 0
        while True:
            cursor, found = await self._redis.sscan(self._everyone, cursor, count=batch)
            if found:
                yield [_text(m) for m in found]
            if cursor == 0:
                return


TALLY_DAYS = 3 * 365
"""The least the tally keeps a disclosure: as long as the audit topic (assist.disclosures) keeps it. Older ones go
as a member of staff discloses again, or by `python -m services.vault purge` (ASSIST_DISCLOSURE_RETENTION_DAYS)."""


class RedisDisclosureTally:
    """A sorted set per member of staff: one member per disclosure (id|household|purpose|role), scored by time."""

    def __init__(self, redis: Redis, prefix: str = PREFIX):
        self._redis, self._prefix = redis, prefix

    def _key(self, actor: str) -> str:
        return f"{self._prefix}:tally:{actor}"

    async def note(self, disclosure: Disclosure) -> None:
        at_ms = int(disclosure.at.timestamp() * 1000)
        member = "|".join((disclosure.disclosure_id, disclosure.household_id, disclosure.purpose.value,
                           disclosure.actor_role, disclosure.district, disclosure.task_id))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._key(disclosure.actor), {member: at_ms})
            pipe.zremrangebyscore(self._key(disclosure.actor), "-inf", at_ms - TALLY_DAYS * 86_400_000)
            pipe.sadd(f"{self._prefix}:tally-actors", disclosure.actor)
            await pipe.execute()

    async def purge(self, before_ms: int) -> tuple[int, int]:
        """Remove the disclosures recorded before `before_ms` (epoch ms) for every member of staff, and staff with
        none left from the list; how many were removed and kept."""
        removed = kept = 0
        for actor in sorted(map(_text, await self._redis.smembers(f"{self._prefix}:tally-actors"))):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(self._key(actor), "-inf", f"({before_ms}")
                pipe.zcard(self._key(actor))
                gone, left = await pipe.execute()
            removed, kept = removed + int(gone), kept + int(left)
            if not left:
                await self._redis.srem(f"{self._prefix}:tally-actors", actor)
        return removed, kept

    async def since(self, at_ms: int, actors: Iterable[str] | None = None) -> list[Disclosure]:
        names = sorted(map(_text, await self._redis.smembers(f"{self._prefix}:tally-actors"))) if actors is None \
            else list(actors)
        found = []
        for actor in names:
            rows = await self._redis.zrangebyscore(self._key(actor), at_ms, "+inf", withscores=True)
            for member, score in cast(list[tuple[bytes, float]], rows):
                disclosure_id, household, purpose, role, district, task = _text(member).split("|")
                found.append(Disclosure(disclosure_id, actor, role, district, task, household, (), Purpose(purpose),
                                        FIELDS[Purpose(purpose)], dt.datetime.fromtimestamp(score / 1000, dt.UTC)))
        return found
