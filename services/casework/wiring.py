"""The one place casework's dependencies are built and connected; __main__, the tests and the benchmark use it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry
from redis.asyncio import BlockingConnectionPool, Redis

from services.casework.adapters.kafka_applications import KafkaApplicationLog
from services.casework.adapters.outbox import OutboxPublisher
from services.casework.adapters.rebuild import Rebuilder
from services.casework.adapters.redis_board import RedisTaskBoard
from services.casework.adapters.redis_layout import DEFAULT_PREFIX, Keys
from services.casework.adapters.redis_views import RedisTaskViews
from services.casework.adapters.staff_file import StaffFile
from services.casework.adapters.tokens import StaffTokens
from services.casework.applying import Applying
from services.casework.disclosing import Disclosing, IdentityVault
from services.casework.metrics import CaseworkMetrics
from services.casework.service import Casework
from services.core.application_views import RedisApplications
from services.core.codec import Contract, load_contract
from services.core.kafka import durable_producer
from services.core.resident_applications import CatalogueProgrammes
from services.core.settings import Settings


def waiting_redis(url: str, connections: int, wait_seconds: float) -> Redis:
    """A client whose pool holds at most `connections`: a command beyond them waits up to `wait_seconds` for one
    (then redis' ConnectionError, answered 503) instead of failing at once."""
    pool = BlockingConnectionPool.from_url(url, decode_responses=True, max_connections=connections,
                                           timeout=wait_seconds)
    return Redis.from_pool(pool)


def staff_file_path(settings: Settings) -> Path:
    return settings.data_dir / "casework-staff.json"


@dataclass
class CaseworkParts:
    casework: Casework
    board: RedisTaskBoard
    redis: Redis
    keys: Keys
    contract: Contract
    metrics: CaseworkMetrics
    staff: StaffFile
    tokens: StaffTokens
    producer: AIOKafkaProducer | None
    """None when built without Kafka (then no application can be made)."""
    applying: Applying
    applications: RedisApplications
    views: RedisTaskViews

    def disclosing(self, vault: IdentityVault, audit_timeout_seconds: float = 10.0) -> Disclosing:
        """Contact details shown on tasks, from the identity vault in this process."""
        return Disclosing(self.casework, vault, self.views, self.metrics, audit_timeout_seconds)

    def publisher(self) -> OutboxPublisher:
        assert self.producer is not None, "built without Kafka"
        return OutboxPublisher(self.redis, self.keys, self.producer, self.contract, self.metrics)

    def rebuilder(self, bootstrap: str) -> Rebuilder:
        return Rebuilder(self.redis, self.keys, self.contract, bootstrap, self.publisher())


@asynccontextmanager
async def casework_parts(settings: Settings, *, kafka: bool = True, prefix: str = DEFAULT_PREFIX,
                         staff_file: Path | None = None, clock: Callable[[], float] = time.time,
                         client_id: str = "assist-casework", max_connections: int | None = None,
                         contract: Contract | None = None) -> AsyncIterator[CaseworkParts]:
    """Connect to Redis (and Kafka: the worker publishes decisions, the API applications); close both on exit."""
    contract = contract or load_contract()
    metrics = CaseworkMetrics(CollectorRegistry())
    keys = Keys(prefix)
    redis = waiting_redis(settings.redis_url, max_connections or settings.casework_redis_connections,
                          settings.casework_redis_wait_seconds)
    producer = durable_producer(settings.kafka_bootstrap, client_id,
                                request_timeout_ms=int(settings.publish_timeout_seconds * 1000)) if kafka else None
    staff = StaffFile(staff_file or staff_file_path(settings))
    board = RedisTaskBoard(redis, keys)
    views = RedisTaskViews(redis, keys)
    casework = Casework(board, views, staff, metrics, settings.lease_seconds, clock)
    applications = RedisApplications(redis, prefix)
    log = KafkaApplicationLog(settings.kafka_bootstrap, contract, settings.publish_timeout_seconds, producer)
    applying = Applying(casework, CatalogueProgrammes(settings.kafka_bootstrap, contract, settings.matching_catalogue,
                                                      "assist-casework-catalogue"), log, applications, clock)
    if producer is not None:
        await producer.start()
    try:
        yield CaseworkParts(casework, board, redis, keys, contract, metrics, staff,
                            StaffTokens(settings.staff_token_key), producer, applying, applications, views)
    finally:
        await log.close()
        if producer is not None:
            await producer.stop()
        await redis.aclose()
