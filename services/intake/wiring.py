"""The one place intake's dependencies are built and connected; __main__ and the integration tests use it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from services.core.codec import Contract, load_contract
from services.core.identity import Pseudonymiser
from services.core.kafka import durable_producer
from services.core.producer import RenewingProducer
from services.core.settings import Settings
from services.intake.adapters.http import build_app
from services.intake.adapters.kafka_log import KafkaEventLog
from services.intake.adapters.redis_rate import RedisRateLimit
from services.intake.adapters.redis_seen import RedisSeenEvents, pooled_redis
from services.intake.adapters.seen_window import WindowRebuilder
from services.intake.adapters.tokens import TokenFile
from services.intake.metrics import IntakeMetrics
from services.intake.service import Intake


@dataclass
class IntakeParts:
    intake: Intake
    producer: RenewingProducer
    """For records other than events (the raw forwarder's dead letters); events go through the event log."""
    redis: Redis
    tokens: TokenFile
    contract: Contract
    metrics: IntakeMetrics
    pseudonymiser: Pseudonymiser
    rate_limit: RedisRateLimit
    settings: Settings
    event_log: KafkaEventLog
    window: WindowRebuilder

    def http_app(self) -> web.Application:
        return build_app(self.intake, self.tokens, self.contract, self.metrics, self.pseudonymiser.person_id,
                         self.settings.max_batch_events, self.rate_limit)


@asynccontextmanager
async def intake_parts(settings: Settings, client_id: str = "assist-intake") -> AsyncIterator[IntakeParts]:
    """Connect to Kafka and Redis, rebuilding the idempotency window first when Redis lost it; close both on exit."""
    contract = load_contract()
    metrics = IntakeMetrics(CollectorRegistry())
    timeout_ms = int(settings.publish_timeout_seconds * 1000)
    producer = durable_producer(settings.kafka_bootstrap, client_id, request_timeout_ms=timeout_ms)
    event_log = KafkaEventLog(durable_producer(settings.kafka_bootstrap, f"{client_id}-events", timeout_ms,
                                               renewed=metrics.producer_renewed),
                              contract, settings.publish_timeout_seconds)
    redis = pooled_redis(settings.redis_url, settings.intake_redis_connections, settings.intake_redis_wait_seconds)
    window = WindowRebuilder(redis, settings.idempotency_window_seconds, settings.kafka_bootstrap)
    await producer.start()
    try:
        await event_log.start()
        try:
            await window.try_ensure_built()
            seen = RedisSeenEvents(redis, settings.idempotency_window_seconds, window.window_missing)
            intake = Intake(event_log, seen, metrics, contract)
            yield IntakeParts(intake, producer, redis, TokenFile(settings.intake_tokens_file), contract, metrics,
                              Pseudonymiser(settings.pseudonym_key),
                              RedisRateLimit(redis, settings.intake_rate_per_second, settings.intake_rate_burst),
                              settings, event_log, window)
        finally:
            await window.stop()
            await event_log.stop()
    finally:
        await producer.stop()
        await redis.aclose()
