"""ContactBook in Redis: one JSON value per person. Only this service reads it; nothing in it is ever logged or
put on a topic. Erased when the person withdraws consent (a tombstone on assist.contacts)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

from services.core.codec import jsonable
from services.notification.domain.contact import Contact, Language, contact_from_record


class RedisContactBook:
    def __init__(self, redis: Redis, prefix: str):
        self._redis = redis
        self._prefix = prefix

    def _key(self, person_id: str) -> str:
        return f"{self._prefix}:contact:{person_id}"

    async def put(self, contact: Mapping[str, Any]) -> None:
        await self._redis.set(self._key(str(contact["person_id"])), json.dumps(jsonable(dict(contact))))

    async def forget(self, person_id: str) -> None:
        await self._redis.delete(self._key(person_id))

    async def get(self, person_id: str) -> Contact | None:
        raw = await self._redis.get(self._key(person_id))
        return contact_from_record(json.loads(raw)) if raw else None

    async def language(self, person_id: str) -> Language | None:
        contact = await self.get(person_id)
        return contact.language if contact else None
