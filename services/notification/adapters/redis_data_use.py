"""DataUseLog in Redis: a hash per person of the disclosures of their contact details (disclosure id → what they
are told of it, as JSON; never who saw them), and per offer the evidence events of its verification task."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from redis.asyncio import Redis

from services.notification.domain.data_use import ContactUse


class RedisDataUse:
    def __init__(self, redis: Redis, prefix: str):
        self._redis, self._prefix = redis, prefix

    def _uses(self, person_id: str) -> str:
        return f"{self._prefix}:contact-uses:{person_id}"

    def _evidence(self, offer_id: str) -> str:
        return f"{self._prefix}:evidence:{offer_id}"

    async def evidence(self, offer_id: str, event_ids: Sequence[str], event_types: Sequence[str] = ()) -> None:
        types = {e: t for e, t in zip(event_ids, event_types, strict=False) if t}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._evidence(offer_id), json.dumps(list(event_ids)))
            pipe.set(f"{self._evidence(offer_id)}:types", json.dumps(types))
            await pipe.execute()

    async def evidence_types_of(self, offer_ids: Sequence[str]) -> dict[str, str]:
        ids = list(offer_ids)
        if not ids:
            return {}
        found = await self._redis.mget([f"{self._evidence(o)}:types" for o in ids])
        return {e: t for raw in found if raw for e, t in json.loads(raw).items()}

    async def evidence_of(self, offer_ids: Sequence[str]) -> dict[str, list[str]]:
        ids = list(offer_ids)
        if not ids:
            return {}
        found = await self._redis.mget([self._evidence(o) for o in ids])
        return {offer_id: list(json.loads(raw)) for offer_id, raw in zip(ids, found, strict=True) if raw}

    async def disclosed(self, person_id: str, use: ContactUse) -> None:
        told = {"role": use.role, "district": use.district, "purpose": use.purpose, "fields": list(use.fields),
                "at": int(use.at.timestamp() * 1000)}
        await self._redis.hset(self._uses(person_id), use.disclosure_id, json.dumps(told))

    async def contact_uses(self, person_id: str) -> list[ContactUse]:
        rows = await self._redis.hgetall(self._uses(person_id))
        uses = []
        for key, raw in rows.items():
            told = json.loads(raw)
            uses.append(ContactUse(key.decode() if isinstance(key, bytes) else str(key), told["role"],
                                   told["district"], told["purpose"], tuple(told["fields"]),
                                   dt.datetime.fromtimestamp(told["at"] / 1000, dt.UTC)))
        return sorted(uses, key=lambda u: (u.at, u.disclosure_id), reverse=True)
