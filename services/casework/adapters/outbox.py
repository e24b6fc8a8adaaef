"""Publishes the outbox to assist.decisions: an entry is deleted only after Kafka acknowledged it (acks=all),
so a crash between the two re-sends it; decision ids are deterministic, so consumers keep one of each.

One publisher at a time holds a short lease in Redis, so two workers do not both send every decision; a rebuild
takes the lease itself, so no decision is in flight while it reads assist.decisions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any, cast

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.casework.adapters.records import decision_from_outbox
from services.casework.adapters.redis_layout import Keys
from services.casework.metrics import CaseworkMetrics
from services.core.codec import Contract, encode_record
from services.core.conformance import ContractError
from services.core.topics import DECISIONS

log = logging.getLogger(__name__)
BATCH = 1000
LEADER_MS = 10_000
SEND_TIMEOUT_SECONDS = 15.0
_LEAD = """
if redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
  return 0
end
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""
_RESIGN = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class OutboxPublisher:
    def __init__(self, redis: Redis, keys: Keys, producer: AIOKafkaProducer, contract: Contract,
                 metrics: CaseworkMetrics):
        self._redis = redis
        self._keys = keys
        self._producer = producer
        self._contract = contract
        self._metrics = metrics
        self._me = uuid.uuid4().hex
        self._lead_script = redis.register_script(_LEAD)
        self._resign_script = redis.register_script(_RESIGN)

    async def run(self, stop: asyncio.Event, block_ms: int = 500) -> None:
        """Publish until `stop` is set; an outage of Kafka or Redis is waited out, nothing is dropped."""
        while not stop.is_set():
            try:
                if not await self._lead():
                    await _pause(stop, LEADER_MS / 4000)
                    continue
                await self.publish_once(block_ms)
            except (KafkaError, RedisError, TimeoutError, OSError) as exc:
                log.warning("outbox not published (%s); retrying", exc)
                await _pause(stop, 1.0)
        with contextlib.suppress(RedisError):  # the lease runs out by itself
            await self._resign_script(keys=[self._keys.publisher], args=[self._me])

    async def drain(self) -> int:
        """Publish everything in the outbox now; how many decisions were sent."""
        sent = 0
        while n := await self.publish_once(0):
            sent += n
        return sent

    async def publish_once(self, block_ms: int) -> int:
        """Send one batch from the head of the outbox and delete it once acknowledged; how many were sent."""
        entries: list[tuple[str, dict[str, str]]]
        if block_ms:
            found: Any = await self._redis.xread({self._keys.outbox: "0-0"}, count=BATCH, block=block_ms)
            entries = found[0][1] if found else []
        else:
            entries = cast(Any, await self._redis.xrange(self._keys.outbox, count=BATCH))
        if not entries:
            self._metrics.outbox_pending.set(0)
            return 0
        futures = []
        for entry_id, fields in entries:
            try:
                key, value, headers = decision_from_outbox(fields)
                payload = encode_record(self._contract, "decision", value)
            except (ContractError, KeyError, ValueError) as exc:
                # Kept aside rather than blocking every decision behind it.
                log.error("outbox entry %s is not a valid decision (%s); moved to %s", entry_id, exc,
                          self._keys.outbox_rejected)
                await self._redis.xadd(self._keys.outbox_rejected, cast(Any, fields))
                continue
            futures.append(await self._producer.send(DECISIONS.name, payload, key=key.encode(), headers=headers))
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
            await asyncio.gather(*futures)
        await self._redis.xdel(self._keys.outbox, *[entry_id for entry_id, _ in entries])
        self._metrics.published(len(entries))
        self._metrics.outbox_pending.set(await self._redis.xlen(self._keys.outbox))
        return len(entries)

    async def _lead(self) -> bool:
        """Take or keep the publisher's lease; a rebuild in progress takes it away."""
        return bool(await self._lead_script(keys=[self._keys.publisher, self._keys.rebuilding],
                                            args=[self._me, LEADER_MS]))


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
