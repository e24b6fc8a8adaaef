"""The lag exporter reads real committed and end offsets from the broker."""

from __future__ import annotations

import uuid

from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from prometheus_client.parser import text_string_to_metric_families

from services.core.settings import Settings
from services.core.topics import NOTIFICATIONS
from services.operations.exporter import exporter_app
from services.operations.kafka_offsets import BrokerOffsets


async def test_a_group_two_messages_behind_shows_a_lag_of_two(settings: Settings) -> None:
    group = f"assist-lagtest-{uuid.uuid4().hex[:8]}"
    tp = TopicPartition(NOTIFICATIONS.name, 0)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for i in range(3):
            await producer.send_and_wait(tp.topic, b"lag probe %d" % i, partition=tp.partition)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        await consumer.commit({tp: OffsetAndMetadata(end - 2, "")})
    finally:
        await consumer.stop()

    offsets = BrokerOffsets(settings.kafka_bootstrap, (group,))
    try:
        async with TestClient(TestServer(exporter_app(offsets), host="127.0.0.1")) as client:
            text = await (await client.get("/metrics")).text()
    finally:
        await offsets.close()
    found = {(f.name, tuple(sorted(s.labels.items()))): s.value
             for f in text_string_to_metric_families(text) for s in f.samples}
    labels = (("group", group), ("partition", "0"), ("topic", tp.topic))
    assert found["assist_kafka_consumer_lag_messages", labels] == 2
    assert found["assist_kafka_consumer_committed_offset", labels] == end - 2
    assert found["assist_kafka_partition_end_offset", (("partition", "0"), ("topic", tp.topic))] >= end
    assert found["assist_kafka_offsets_up", ()] == 1
    assert not [k for k in found if k[0] == "assist_kafka_consumer_lag_messages" and ("group", group) not in k[1]]


async def test_an_unreachable_broker_is_reported_not_raised() -> None:
    offsets = BrokerOffsets("127.0.0.1:1", ("assist-",), timeout_seconds=2)
    try:
        async with TestClient(TestServer(exporter_app(offsets), host="127.0.0.1")) as client:
            answer = await client.get("/metrics")
            text = await answer.text()
    finally:
        await offsets.close()
    assert answer.status == 200
    assert "assist_kafka_offsets_up 0.0" in text
