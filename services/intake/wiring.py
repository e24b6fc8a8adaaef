"""The one place intake's dependencies are built and connected; __main__ and the integration tests use it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from services.core.codec import Contract, load_contract
from services.core.kafka import durable_producer
from services.core.settings import Settings
from services.intake.adapters.kafka_log import KafkaEventLog
from services.intake.adapters.redis_seen import RedisSeenEvents
from services.intake.adapters.tokens import TokenFile
from services.intake.domain.identity import Pseudonymiser
from services.intake.metrics import IntakeMetrics
from services.intake.service import Intake


@dataclass
class IntakeParts:
    intake: Intake
    producer: AIOKafkaProducer
    redis: Redis
    tokens: TokenFile
    contract: Contract
    metrics: IntakeMetrics
    pseudonymiser: Pseudonymiser


@asynccontextmanager
async def intake_parts(settings: Settings, client_id: str = "assist-intake") -> AsyncIterator[IntakeParts]:
    """Connect to Kafka and Redis; close both on exit."""
    contract = load_contract()
    metrics = IntakeMetrics(CollectorRegistry())
    producer = durable_producer(settings.kafka_bootstrap, client_id,
                                request_timeout_ms=int(settings.publish_timeout_seconds * 1000))
    redis = Redis.from_url(settings.redis_url)
    await producer.start()
    try:
        intake = Intake(KafkaEventLog(producer, contract, settings.publish_timeout_seconds),
                        RedisSeenEvents(redis, settings.idempotency_window_seconds), metrics, contract)
        yield IntakeParts(intake, producer, redis, TokenFile(settings.intake_tokens_file), contract, metrics,
                          Pseudonymiser(settings.pseudonym_key))
    finally:
        await producer.stop()
        await redis.aclose()
