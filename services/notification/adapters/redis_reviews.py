"""Residents' requests for a review, in Redis (rebuilt from assist.tasks and assist.decisions):

    <p>:reviews:<person>   hash: review task id -> the request and, once decided, its outcome, as JSON
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict

from redis.asyncio import Redis

from services.notification.domain.reviews import ReviewRequest


class RedisReviews:
    def __init__(self, redis: Redis, prefix: str):
        self._redis, self._prefix = redis, prefix

    def _key(self, person_id: str) -> str:
        return f"{self._prefix}:reviews:{person_id}"

    async def asked(self, person_id: str, request: ReviewRequest) -> None:
        """Keep a request; the same request again (the worker reading what the page published) changes nothing,
        and never undoes an outcome."""
        await self._redis.hsetnx(self._key(person_id), request.task_id, _dumped(request))

    async def decided(self, person_id: str, request: ReviewRequest) -> None:
        await self._redis.hset(self._key(person_id), request.task_id, _dumped(request))

    async def get(self, person_id: str, task_id: str) -> ReviewRequest | None:
        raw = await self._redis.hget(self._key(person_id), task_id)
        return _loaded(raw) if raw else None

    async def of_person(self, person_id: str) -> list[ReviewRequest]:
        """The person's requests, newest first."""
        values = await self._redis.hvals(self._key(person_id))
        return sorted((_loaded(v) for v in values), key=lambda r: r.asked_at, reverse=True)


def _dumped(request: ReviewRequest) -> str:
    value = asdict(request)
    for name in ("asked_at", "decided_at"):
        value[name] = value[name].isoformat() if value[name] else None
    return json.dumps(value, ensure_ascii=False)


def _loaded(raw: bytes | str) -> ReviewRequest:
    value = json.loads(raw)
    for name in ("asked_at", "decided_at"):
        value[name] = dt.datetime.fromisoformat(value[name]) if value[name] else None
    return ReviewRequest(**value)
