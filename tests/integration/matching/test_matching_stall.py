"""A partition that stops moving while messages wait on it shows on /healthz and /readyz (503, naming the
partition) and in the metrics (lag, age of the oldest waiting message, stalled); the worker then stops with a
non-zero exit code, for its supervisor to start it again (a restart clears such a stall)."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from services.core.codec import encode_record
from services.core.kafka import durable_producer
from services.core.process import EXIT_TASK_DIED
from services.core.topics import REGISTRY
from services.matching.adapters.agent_failures import (
    FAULT_HEADER,
    STALL_SECONDS_SETTING,
    TEST_FAULTS,
    UNFETCHED_SETTING,
)
from tests.integration.matching.matching_harness import BOOTSTRAP, CONTRACT, MatchingWorker, household, member

STALL_SECONDS = 6
STALLED = re.compile(r'^assist_matching_partition_stalled\{partition="(\d+)",topic="assist\.registry"\} 1\.0$',
                     re.M)


class StallingWorker(MatchingWorker):
    def env(self) -> dict[str, str]:
        return {**super().env(), TEST_FAULTS: "1", STALL_SECONDS_SETTING: str(STALL_SECONDS)}


class UnfetchingWorker(StallingWorker):
    def env(self) -> dict[str, str]:
        return {**super().env(), UNFETCHED_SETTING: REGISTRY.name}


def answer(port: int, path: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


async def publish_registry(home: str, first_headers: list[tuple[str, bytes]]) -> None:
    value = encode_record(CONTRACT, "household", household(home, [member(f"p-{uuid.uuid4().hex[:8]}", "1980-01-01")]))
    producer = durable_producer(BOOTSTRAP, "test-stall")
    await producer.start()
    try:
        await producer.send_and_wait(REGISTRY.name, value, key=home.encode(), headers=first_headers)
        for _ in range(3):  # these wait behind the first one, on the same partition
            await producer.send_and_wait(REGISTRY.name, value, key=home.encode())
    finally:
        await producer.stop()


async def started(worker: StallingWorker) -> None:
    await worker.publish_catalogue()
    await worker.start_at_topic_ends()
    worker.start()
    await worker.wait_ready()


async def failing_health(worker: StallingWorker) -> tuple[int, dict[str, object]]:
    """/healthz once it fails, or as it stands after the stall time and some."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STALL_SECONDS + 40
    health = await asyncio.to_thread(answer, worker.port, "/healthz")
    while health[0] == 200 and loop.time() < deadline:
        await asyncio.sleep(0.5)
        health = await asyncio.to_thread(answer, worker.port, "/healthz")
    return health


async def test_a_partition_that_stops_with_messages_waiting_fails_health_and_readiness_and_stops_the_worker(
        tmp_path: Path):
    worker = StallingWorker(tmp_path)
    try:
        await started(worker)
        assert (await asyncio.to_thread(answer, worker.port, "/readyz"))[0] == 200
        await publish_registry(f"h-{uuid.uuid4().hex[:10]}", [(FAULT_HEADER, b"agent-stalls")])
        health = await failing_health(worker)
        ready = await asyncio.to_thread(answer, worker.port, "/readyz")
        metrics = await asyncio.to_thread(worker.metrics)
        assert worker.process is not None
        code = await asyncio.to_thread(worker.process.wait, 60)
    finally:
        worker.stop()
    assert code == EXIT_TASK_DIED, worker.log.read_text()[-3000:]
    assert health[0] == 503, health
    assert "assist.registry/" in str(health[1]["reason"]) and "records waiting" in str(health[1]["reason"])
    assert ready[0] == 503 and "has not moved" in str(ready[1]["checks"]), ready  # type: ignore[index]
    assert STALLED.search(metrics), [line for line in metrics.splitlines() if "partition_stalled" in line]
    assert 'assist_matching_oldest_unprocessed_age_seconds{partition=' in metrics


# The client knows a partition's highwater only from its fetch responses: one never fetched since its assignment
# looked idle however much waited on it, and the worker said nothing (it failed before the broker was asked).
async def test_a_partition_never_fetched_with_messages_waiting_is_stalled_too(tmp_path: Path):
    worker = UnfetchingWorker(tmp_path)
    try:
        await started(worker)
        await publish_registry(f"h-{uuid.uuid4().hex[:10]}", [])
        health = await failing_health(worker)
        assert worker.process is not None
        code = await asyncio.to_thread(worker.process.wait, 60) if health[0] == 503 else None
    finally:
        worker.stop()
    assert health[0] == 503, (health, worker.log.read_text()[-3000:])
    assert "assist.registry/" in str(health[1]["reason"]) and "records waiting" in str(health[1]["reason"])
    assert code == EXIT_TASK_DIED
