"""No raw identity number reaches any assist.* topic but the departments' own inbound one, a log line or a metric."""

from __future__ import annotations

import asyncio
import json
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.core.topics import ALL_TOPICS, EVENTS_RAW
from tests.conftest import discharge, resident_id
from tests.integration.intake.test_intake_raw import _produce_raw, _raw, running_forwarder

SINGLE = "application/cloudevents+json"


async def _end_offsets(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(t.name, p) for t in ALL_TOPICS if t is not EVENTS_RAW
                      for p in range(t.partitions)]
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def _everything_since(bootstrap: str, start: dict[TopicPartition, int]) -> list[bytes]:
    end = await _end_offsets(bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    blobs: list[bytes] = []
    try:
        todo = {tp: off for tp, off in start.items() if end[tp] > off}
        consumer.assign(list(todo))
        for tp, off in todo.items():
            consumer.seek(tp, off)
        while todo:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for r in records:
                    blobs.append((r.key or b"") + (r.value or b"") + b"".join(k.encode() + v for k, v in r.headers))
                    if r.offset + 1 >= end[tp]:
                        todo.pop(tp, None)
    finally:
        await consumer.stop()
    return blobs


async def test_identity_numbers_never_reach_topics_logs_or_metrics(api, parts, settings, caplog):
    caplog.set_level(logging.DEBUG)
    start = await _end_offsets(settings.kafka_bootstrap)
    people = [resident_id() for _ in range(4)]
    headers = {**api.auth("health"), "Content-Type": SINGLE}
    await api.client.post("/v1/events", data=json.dumps(discharge(subject=people[0])), headers=headers)
    spoiled = people[1][:17] + ("0" if people[1][17] != "0" else "1")
    await api.client.post("/v1/events", data=json.dumps(discharge(subject=spoiled)), headers=headers)
    garbled_value, garbled_headers = _raw(parts, discharge(subject=people[3]))
    await _produce_raw(settings, [_raw(parts, discharge(subject=people[2])), (b"\x00garbled", garbled_headers)])
    assert garbled_value
    async with running_forwarder(parts, settings):
        await _wait_for_forwarding(settings, start)
    metrics = await (await api.client.get("/metrics")).text()

    blobs = await _everything_since(settings.kafka_bootstrap, start)
    assert len(blobs) >= 3  # two forwarded events and one dead letter at least
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for number in [*people, spoiled]:
        needle = number[:17]  # even without its check character the number must not appear
        assert all(needle.encode() not in blob for blob in blobs), "identity number found on a topic"
        assert needle not in logged, "identity number found in a log line"
        assert needle not in metrics, "identity number found in a metric"


async def _wait_for_forwarding(settings, start) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while loop.time() < deadline:
        end = await _end_offsets(settings.kafka_bootstrap)
        grown = sum(end[tp] - start[tp] for tp in start)
        if grown >= 3:
            return
        await asyncio.sleep(0.2)
