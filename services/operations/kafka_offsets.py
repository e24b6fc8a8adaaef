"""Reads the broker's offsets for the lag exporter: partition ends of the platform's topics and the committed
positions of its consumer groups (aiokafka admin client and an unassigned consumer, no group of its own)."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.core.kafka_security import kafka_options
from services.operations.lag import GroupPosition, Offsets, Partition, positions, watched

TOPIC_PREFIXES = ("assist.", "assist-")
"""The platform's topics ("assist.*", services/core/topics.py) and those faust makes for matching ("assist-*")."""


class BrokerOffsets:
    """One connection to the broker, read on every scrape."""

    def __init__(self, bootstrap: str, group_prefixes: tuple[str, ...], timeout_seconds: float = 10.0):
        self._admin = AIOKafkaAdminClient(**kafka_options(bootstrap), client_id="assist-lag-exporter",
                                          request_timeout_ms=int(timeout_seconds * 1000))
        self._consumer = AIOKafkaConsumer(**kafka_options(bootstrap), group_id=None, enable_auto_commit=False,
                                          client_id="assist-lag-exporter",
                                          request_timeout_ms=int(timeout_seconds * 1000))
        self._group_prefixes = group_prefixes
        self._timeout = timeout_seconds
        self._started = False

    async def read(self) -> Offsets:
        """Every watched group's position and every platform partition's end; raises TimeoutError after the
        timeout and Kafka's errors as they come (the exporter reports the reading as failed)."""
        return await asyncio.wait_for(self._read(), self._timeout)

    async def _read(self) -> Offsets:
        if not self._started:
            await self._admin.start()
            await self._consumer.start()
            self._started = True
        listed = await self._admin.list_consumer_groups()
        groups = watched((g[0] for g in listed if g[1] in ("consumer", "")), self._group_prefixes)
        committed: dict[str, dict[Partition, int]] = {}
        for group in groups:
            offsets = await self._admin.list_consumer_group_offsets(group)
            committed[group] = {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}
        topics = sorted(t for t in await self._admin.list_topics() if t.startswith(TOPIC_PREFIXES))
        described = await self._admin.describe_topics(topics) if topics else []
        wanted = {TopicPartition(t["topic"], p["partition"]) for t in described if not t["error_code"]
                  for p in t["partitions"]}
        wanted |= {TopicPartition(t, p) for c in committed.values() for (t, p) in c}
        ends = {(tp.topic, tp.partition): end for tp, end in (await self._consumer.end_offsets(list(wanted))).items()}
        found: list[GroupPosition] = []
        for group, offsets in committed.items():
            found += positions(group, offsets, ends)
        return Offsets(ends, tuple(found))

    async def close(self) -> None:
        await self._consumer.stop()  # also when a start failed half-way: it releases what it opened
        await self._admin.close()
