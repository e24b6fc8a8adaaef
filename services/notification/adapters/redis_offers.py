"""OfferMemory in Redis: offers carried by VERIFY_ELIGIBILITY tasks (the latest revision of each: its number is kept
beside it), and approvals that arrived before them. Neither is deleted when used: handling a record twice must find
the same thing again."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

from services.core.codec import Contract, decode_record, encode_record
from services.notification.adapters.redis_jobs import RETENTION_SECONDS
from services.notification.domain.revisions import revision_number

_REMEMBER = """
if tonumber(ARGV[3]) > tonumber(redis.call('GET', KEYS[3]) or '-1') then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[2])
end
return redis.call('GET', KEYS[2])
"""
_APPROVE = """
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return redis.call('GET', KEYS[1])
"""


class RedisOfferMemory:
    def __init__(self, redis: Redis, contract: Contract, prefix: str):
        self._contract = contract
        self._prefix = prefix
        self._remember = redis.register_script(_REMEMBER)
        self._approve = redis.register_script(_APPROVE)

    def _keys(self, offer_id: str) -> list[str]:
        return [f"{self._prefix}:verify:{offer_id}", f"{self._prefix}:approved:{offer_id}",
                f"{self._prefix}:verify-number:{offer_id}"]

    async def remember_offer(self, offer: Mapping[str, Any]) -> str | None:
        payload = encode_record(self._contract, "offer", dict(offer))
        approval = await self._remember(keys=self._keys(str(offer["offer_id"])),
                                        args=[payload, RETENTION_SECONDS, revision_number(offer)])
        if approval is None:
            return None
        recipient: str | None = json.loads(approval)["recipient"]
        return recipient or str(offer.get("person_id") or offer["household_id"])

    async def approve(self, offer_id: str, recipient: str | None) -> dict[str, Any] | None:
        payload = await self._approve(keys=self._keys(offer_id)[:2], args=[json.dumps({"recipient": recipient}),
                                                                       RETENTION_SECONDS])
        return decode_record(self._contract, "offer", payload) if payload is not None else None
