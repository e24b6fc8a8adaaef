"""Every service's durable producer after a broker restart that failed batches it had queued: it must publish
again once the broker is back, not answer OutOfOrderSequenceNumber for ever (aiokafka's idempotent producer
never asks for a new producer id after a sequence gap)."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections import Counter
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from services.core.kafka import durable_producer
from services.core.settings import Settings

STACK = Path(__file__).resolve().parents[3] / "deploy" / "local" / "stack.sh"
PARTITIONS = 4
RECOVERY_SECONDS = 60.0

pytestmark = pytest.mark.outage


def _stack(command: str) -> None:
    subprocess.run(["bash", str(STACK), command], check=True, capture_output=True, timeout=300)


async def test_a_durable_producer_publishes_again_after_a_broker_restart_failed_its_queued_batches(
        settings: Settings) -> None:
    topic = f"assist.test.producer-restart.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()
    renewals: list[str] = []
    producer = durable_producer(settings.kafka_bootstrap, "test-producer-restart", 3_000, renewed=renewals.append)
    await producer.start()
    try:
        for p in range(PARTITIONS):
            await producer.send_and_wait(topic, b"before", partition=p)
        # Sends keep coming through the restart, as a consumer loop's would: some batches expire without the
        # broker taking them (no leader yet), leaving a gap in the partition's sequence numbers.
        queued: list[asyncio.Future[object]] = []
        stop = asyncio.Event()

        async def keep_sending() -> None:
            for n in range(20_000):  # 50 a second for at most 400 s; stopped well before
                if stop.is_set():
                    return
                queued.append(await producer.send(topic, b"during", partition=n % PARTITIONS))
                await asyncio.sleep(0.02)

        sending = asyncio.create_task(keep_sending())
        await asyncio.to_thread(_stack, "kafka-down")
        try:
            await asyncio.sleep(5)
        finally:
            await asyncio.to_thread(_stack, "kafka-up")
        await asyncio.sleep(10)
        stop.set()
        await sending
        results = await asyncio.wait_for(asyncio.gather(*queued, return_exceptions=True), 120)
        print("sent through the restart:", Counter(type(r).__name__ for r in results), "renewals:", renewals)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECOVERY_SECONDS
        failures: list[str] = []
        for p in range(PARTITIONS):
            while True:
                try:
                    await asyncio.wait_for(producer.send_and_wait(topic, b"after", partition=p), 10)
                    break
                except (KafkaError, TimeoutError) as exc:
                    failures.append(type(exc).__name__)
                    assert loop.time() < deadline, f"partition {p} takes nothing after the restart: {failures[-5:]}"
                    await asyncio.sleep(1)
        assert renewals, "failed batches renew the producer"
    finally:
        await producer.stop()
