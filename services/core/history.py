"""Reading a topic's history for a rebuild: a consumer of no group over whole topics (or from given offsets), up to
the ends they had when it started. Casework and notification rebuild their Redis views with it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from redis.asyncio import Redis

from services.core.kafka_security import kafka_options
from services.core.topics import Topic

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
"""Delete a lock only while its holder still holds it."""


class HistoryReader:
    """A consumer of no group over whole topics, up to the ends they had when it started."""

    def __init__(self, bootstrap: str, topics: tuple[Topic, ...], client_id: str):
        self._consumer = AIOKafkaConsumer(**kafka_options(bootstrap), group_id=None, enable_auto_commit=False,
                                          isolation_level="read_committed", client_id=client_id,
                                          max_partition_fetch_bytes=4 * 1024 * 1024)
        self._topics = topics
        self._ends: dict[TopicPartition, int] = {}

    async def __aenter__(self) -> HistoryReader:
        await self._consumer.start()
        partitions = [TopicPartition(t.name, p) for t in self._topics for p in range(t.partitions)]
        self._ends = await self._consumer.end_offsets(partitions)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    @property
    def ends(self) -> dict[TopicPartition, int]:
        return dict(self._ends)

    async def offsets_since(self, topic: Topic, timestamp_ms: int) -> dict[TopicPartition, int]:
        """Per partition of `topic`, the first offset of a record written at or after `timestamp_ms` (the end
        where there is none): the `since` of `records` for the history of a time window."""
        partitions = [tp for tp in self._ends if tp.topic == topic.name]
        found = await self._consumer.offsets_for_times(dict.fromkeys(partitions, timestamp_ms))
        return {tp: at.offset if at is not None else self._ends[tp] for tp, at in found.items()}

    async def records(self, topic: Topic, since: Mapping[TopicPartition, int] | None = None
                      ) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
        """The topic's records from its beginning (or from `since`, where given) to its end at the start."""
        partitions = [tp for tp in self._ends if tp.topic == topic.name]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_beginning(*partitions)
        for tp in partitions:
            start = (since or {}).get(tp)
            if start is not None and start > await self._consumer.position(tp):
                self._consumer.seek(tp, min(start, self._ends[tp]))
        remaining = {tp for tp in partitions if await self._consumer.position(tp) < self._ends[tp]}
        while remaining:
            batch = await self._consumer.getmany(*remaining, timeout_ms=1000, max_records=2000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset < self._ends[tp]:
                        yield record
            for tp in list(remaining):
                if await self._consumer.position(tp) >= self._ends[tp]:
                    remaining.discard(tp)


class RebuildLock:
    """The lock a rebuild holds in Redis (NX with an expiry, kept alive while it runs, released only by its
    holder), so two rebuilds never run at once."""

    def __init__(self, redis: Redis, key: str, seconds: int):
        self._redis, self.key, self._seconds = redis, key, seconds
        self.holder = uuid.uuid4().hex
        self._release = redis.register_script(RELEASE)
        self._keep_alive: asyncio.Task[None] | None = None

    async def take(self) -> bool:
        if not await self._redis.set(self.key, self.holder, nx=True, ex=self._seconds):
            return False
        self._keep_alive = asyncio.create_task(self._renew())
        return True

    async def release(self) -> None:
        if self._keep_alive:
            self._keep_alive.cancel()
        await self._release(keys=[self.key], args=[self.holder])

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self._seconds / 4)
            await self._redis.expire(self.key, self._seconds)


async def clear_view(redis: Redis, prefix: str, kept: set[str]) -> None:
    """Delete every key under `prefix:` except `kept`, in batches (before a rebuild writes the view again)."""
    doomed: list[bytes | str] = []
    async for key in redis.scan_iter(match=f"{prefix}:*", count=1000):
        if (key.decode() if isinstance(key, bytes) else key) not in kept:
            doomed.append(key)
        if len(doomed) >= 1000:
            await redis.unlink(*doomed)
            doomed = []
    if doomed:
        await redis.unlink(*doomed)
