"""Kafka wiring shared by the services: the durable producer and topic creation (aiokafka)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from services.core.topics import ALL_TOPICS, Topic

log = logging.getLogger(__name__)


def durable_producer(bootstrap: str, client_id: str, request_timeout_ms: int = 10_000) -> AIOKafkaProducer:
    """A producer whose acknowledged sends are on every in-sync replica and never duplicated by its retries."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        compression_type=None,
        request_timeout_ms=request_timeout_ms,
        max_batch_size=256 * 1024,
    )


async def create_topics(bootstrap: str, topics: tuple[Topic, ...] = ALL_TOPICS) -> list[str]:
    """Create the platform's topics that do not exist yet; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="assist-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        if missing:
            await admin.create_topics([
                NewTopic(name=t.name, num_partitions=t.partitions, replication_factor=1, topic_configs=t.config())
                for t in missing
            ])
        return [t.name for t in missing]
    finally:
        await admin.close()


async def commit_group_at_end(bootstrap: str, group: str, topics: tuple[Topic, ...]) -> None:
    """Start a new consumer group at the current end of `topics`: a fresh deployment on a broker that already
    holds other deployments' history (the demo, the tests) processes only what comes after."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in ends.items()})
    finally:
        await consumer.stop()


Batch = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


async def consume_batches(consumer: AIOKafkaConsumer, handle: Callable[[Batch], Awaitable[None]],
                          retry_on: tuple[type[BaseException], ...], stop: asyncio.Event, what: str) -> None:
    """At-least-once consumption shared by the services: handle each batch, then commit its offsets. A batch
    whose handling fails with one of `retry_on` is read again after a pause, so nothing is skipped; a commit lost
    to a rebalance means the new owner reads the batch again, which the idempotent handlers absorb."""
    while not stop.is_set():
        batch = await consumer.getmany(timeout_ms=500, max_records=500)
        if not batch:
            continue
        try:
            await handle(batch)
        except retry_on as exc:
            log.warning("%s: batch not handled (%s); reading it again", what, type(exc).__name__)
            for tp, records in batch.items():
                consumer.seek(tp, records[0].offset)
            await asyncio.sleep(1.0)
            continue
        try:
            await consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
        except KafkaError as exc:
            log.warning("%s: offsets not committed (%s)", what, type(exc).__name__)
