"""Integration fixtures: the real Kafka broker and Redis of the local stack (./run stack up)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from redis import Redis

from services.core.settings import Settings, load_settings
from services.core.topics import ALL_TOPICS
from services.intake.wiring import IntakeParts, intake_parts


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in str(item.path):
            item.add_marker(pytest.mark.integration)
    # Tests that stop the broker run last, so nothing else sees the outage.
    items.sort(key=lambda item: item.get_closest_marker("outage") is not None)


@pytest.fixture(scope="session", autouse=True)
def stack_is_up() -> None:
    settings = load_settings()
    try:
        Redis.from_url(settings.redis_url).ping()
    except Exception as exc:  # a missing stack must fail loudly, never skip
        pytest.fail(f"Redis is not reachable at {settings.redis_url} ({exc}); start it with ./run stack up")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return replace(load_settings(), intake_tokens_file=tmp_path / "tokens.json")


@pytest.fixture
async def parts(settings: Settings) -> AsyncIterator[IntakeParts]:
    async with intake_parts(settings) as p:
        yield p


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]

    def auth(self, department: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[department]}"}


@pytest.fixture
async def api(parts: IntakeParts, settings: Settings) -> AsyncIterator[Api]:
    tokens = {d: parts.tokens.issue(d) for d in parts.contract.departments}
    app = parts.http_app()
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield Api(client, tokens)


class TopicProbe:
    """Reads what lands on a topic after the probe was created."""

    def __init__(self, consumer: AIOKafkaConsumer):
        self._consumer = consumer

    @classmethod
    async def at_end(cls, bootstrap: str, topic: str) -> TopicProbe:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                    group_id=None, client_id=f"probe-{uuid.uuid4().hex[:8]}")
        await consumer.start()
        spec = next(t for t in ALL_TOPICS if t.name == topic)
        partitions = [TopicPartition(topic, p) for p in range(spec.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:  # resolve positions now, before the test acts
            await consumer.position(tp)
        return cls(consumer)

    async def collect(self, wanted: Callable[[ConsumerRecord[bytes, bytes]], bool], count: int,
                      timeout: float = 20.0) -> list[ConsumerRecord[bytes, bytes]]:
        """Records matching `wanted`, returning as soon as `count` arrived or after `timeout` seconds."""
        found: list[ConsumerRecord[bytes, bytes]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(found) < count and loop.time() < deadline:
            batch = await self._consumer.getmany(timeout_ms=200)
            found += [r for records in batch.values() for r in records if wanted(r)]
        return found

    async def close(self) -> None:
        await self._consumer.stop()


@pytest.fixture
async def probe(settings: Settings) -> AsyncIterator[Callable[[str], asyncio.Future[TopicProbe]]]:
    opened: list[TopicProbe] = []

    async def open_probe(topic: str) -> TopicProbe:
        p = await TopicProbe.at_end(settings.kafka_bootstrap, topic)
        opened.append(p)
        return p

    yield open_probe  # type: ignore[misc]
    for p in opened:
        await p.close()
