"""For the consume-loop tests: records written at known positions, their dead letters found by those positions,
a worker's /healthz asked."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.structs import RecordMetadata

from services.core.codec import header
from services.core.kafka import durable_producer
from services.core.settings import Settings


async def produce(settings: Settings, topic: str, records: list[tuple[bytes | None, bytes | None, list[Any]]]
                  ) -> list[RecordMetadata]:
    """(key, value, headers) in order; the positions they were written at."""
    producer = durable_producer(settings.kafka_bootstrap, "test-poison")
    await producer.start()
    try:
        return [await producer.send_and_wait(topic, value, key=key, headers=headers) for key, value, headers in records]
    finally:
        await producer.stop()


def from_position(*positions: RecordMetadata) -> Callable[[ConsumerRecord[bytes, bytes]], bool]:
    wanted = {(p.topic, str(p.partition), str(p.offset)) for p in positions}
    return lambda r: (header(r.headers, "dlq_source_topic"), header(r.headers, "dlq_source_partition"),
                      header(r.headers, "dlq_source_offset")) in wanted


def health(port: int) -> tuple[int, dict[str, str]]:
    """What http://127.0.0.1:port/healthz answers (0 while nothing listens)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
    except OSError:
        return 0, {}


async def each_once(probe: Any, identify: Callable[[ConsumerRecord[bytes, bytes]], Any], count: int,
                    timeout: float = 40.0) -> dict[Any, ConsumerRecord[bytes, bytes]]:
    """Records by what `identify` names them (None: not wanted), once `count` distinct ones are there or `timeout`
    seconds have passed; a record published twice (a dead letter written again after a redelivery) appears once."""
    found: dict[Any, ConsumerRecord[bytes, bytes]] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(found) < count and loop.time() < deadline:
        for r in await probe.collect(lambda r: identify(r) is not None, 1, timeout=max(0.1, deadline - loop.time())):
            found[identify(r)] = r
    return found


async def letters_at(probe: Any, positions: list[RecordMetadata], timeout: float = 40.0
                     ) -> dict[tuple[str, int, int], ConsumerRecord[bytes, bytes]]:
    """The dead letters of the records at `positions` (by topic, partition, offset), once each is there or
    `timeout` seconds have passed; a record dead-lettered twice appears once."""
    wanted = from_position(*positions)

    def position(r: ConsumerRecord[bytes, bytes]) -> tuple[str, int, int] | None:
        if not wanted(r):
            return None
        return (header(r.headers, "dlq_source_topic") or "", int(header(r.headers, "dlq_source_partition") or -1),
                int(header(r.headers, "dlq_source_offset") or -1))

    return await each_once(probe, position, len(positions), timeout)
