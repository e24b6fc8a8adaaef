"""SeenEvents in Redis: one key per (source, event id); 'pending' briefly while publishing, then 'published'
for the idempotency window."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from redis.asyncio import Redis

from services.core.codec import Event
from services.intake.service import Claim

PENDING_SECONDS = 60


def _key(event: Event) -> str:
    source = hashlib.sha1(event.source.encode(), usedforsecurity=False).hexdigest()[:16]
    return f"assist:intake:seen:{source}:{event.id}"


class RedisSeenEvents:
    def __init__(self, redis: Redis, window_seconds: int):
        self._redis = redis
        self._window = window_seconds

    async def claim(self, events: Sequence[Event]) -> list[Claim]:
        if not events:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for e in events:
                pipe.set(_key(e), b"pending", nx=True, ex=PENDING_SECONDS, get=True)
            previous = await pipe.execute()
        return [Claim.NEW if p is None else Claim.DUPLICATE if p == b"published" else Claim.IN_FLIGHT
                for p in previous]

    async def confirm(self, events: Sequence[Event]) -> None:
        if events:
            async with self._redis.pipeline(transaction=False) as pipe:
                for e in events:
                    pipe.set(_key(e), b"published", ex=self._window)
                await pipe.execute()

    async def release(self, events: Sequence[Event]) -> None:
        if events:
            await self._redis.delete(*[_key(e) for e in events])
