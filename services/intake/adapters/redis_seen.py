"""SeenEvents in Redis: one key per (source, event id); 'pending' briefly while publishing, then 'published'
for the idempotency window. Each batch is one server-side script call, not a command per event."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from redis.asyncio import Redis

from services.core.codec import Event
from services.intake.service import Claim

PENDING_SECONDS = 60

# Returns, per key, the previous value (false when the key was free and is now claimed as pending).
_CLAIM = """
local previous = {}
for i, key in ipairs(KEYS) do
  previous[i] = redis.call('SET', key, 'pending', 'NX', 'GET', 'EX', ARGV[1])
end
return previous
"""
_CONFIRM = """
for _, key in ipairs(KEYS) do
  redis.call('SET', key, 'published', 'EX', ARGV[1])
end
return #KEYS
"""


def _key(event: Event) -> str:
    source = hashlib.sha1(event.source.encode(), usedforsecurity=False).hexdigest()[:16]
    return f"assist:intake:seen:{source}:{event.id}"


class RedisSeenEvents:
    def __init__(self, redis: Redis, window_seconds: int):
        self._redis = redis
        self._window = window_seconds
        self._claim = redis.register_script(_CLAIM)
        self._confirm = redis.register_script(_CONFIRM)

    async def claim(self, events: Sequence[Event]) -> list[Claim]:
        if not events:
            return []
        previous = await self._claim(keys=[_key(e) for e in events], args=[PENDING_SECONDS])
        return [Claim.NEW if p is None else Claim.DUPLICATE if p == b"published" else Claim.IN_FLIGHT
                for p in previous]

    async def confirm(self, events: Sequence[Event]) -> None:
        if events:
            await self._confirm(keys=[_key(e) for e in events], args=[self._window])

    async def release(self, events: Sequence[Event]) -> None:
        if events:
            await self._redis.delete(*[_key(e) for e in events])
