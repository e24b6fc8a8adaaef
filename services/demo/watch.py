"""Reads everything that lands on some topics from a starting moment on."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from services.core.kafka_security import kafka_options
from services.core.topics import Topic


class TopicWatch:
    def __init__(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]):
        self._consumer = consumer
        self._partitions = partitions

    @classmethod
    async def at_end(cls, bootstrap: str, topics: tuple[Topic, ...]) -> TopicWatch:
        consumer = AIOKafkaConsumer(**kafka_options(bootstrap), group_id=None, enable_auto_commit=False)
        await consumer.start()
        partitions = [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:
            await consumer.position(tp)
        return cls(consumer, partitions)

    async def drain(self) -> list[ConsumerRecord[bytes, bytes]]:
        """Everything written since the watch started, up to the topics' current ends."""
        ends = await self._consumer.end_offsets(self._partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while True:
            behind = [tp for tp in self._partitions if await self._consumer.position(tp) < ends[tp]]
            if not behind:
                return records
            for batch in (await self._consumer.getmany(*behind, timeout_ms=500)).values():
                records.extend(batch)

    async def close(self) -> None:
        await self._consumer.stop()
