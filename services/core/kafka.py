"""Kafka wiring shared by the services: the durable producer and topic creation (aiokafka)."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
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
