"""Builds the vault's parts from settings: the sealed store in Redis, the audit log on Kafka, the key ring."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from services.core.codec import Contract, load_contract
from services.core.kafka import durable_producer
from services.core.settings import Settings
from services.vault.adapters.kafka_audit import KafkaAuditLog
from services.vault.adapters.redis_store import PREFIX, RedisDisclosureTally, RedisSealedStore
from services.vault.domain.sealing import Keyring
from services.vault.service import Vault


@dataclass
class VaultParts:
    vault: Vault
    store: RedisSealedStore
    producer: AIOKafkaProducer
    contract: Contract
    redis: Redis


@asynccontextmanager
async def vault_parts(settings: Settings, prefix: str = PREFIX) -> AsyncIterator[VaultParts]:
    """The vault wired to Redis and Kafka; the key ring is read first, so a bad one stops the start."""
    keyring = Keyring.parse(settings.vault_keys)
    contract = load_contract()
    redis = Redis.from_url(settings.redis_url)
    producer = durable_producer(settings.kafka_bootstrap, "assist-vault")
    await producer.start()
    try:
        store = RedisSealedStore(redis, prefix)
        audit = KafkaAuditLog(producer, contract, settings.publish_timeout_seconds)
        yield VaultParts(Vault(store, audit, RedisDisclosureTally(redis, prefix), keyring), store, producer, contract,
                         redis)
    finally:
        await producer.stop()
        await redis.aclose()
