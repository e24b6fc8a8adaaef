"""The simulator's registry publisher against the real Kafka broker."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from services.core.codec import decode_record, load_contract
from services.core.identity import Pseudonymiser
from services.core.kafka import durable_producer
from services.core.settings import load_settings
from services.core.topics import REGISTRY
from services.simulator.adapters.registry import RegistryPublisher
from services.simulator.population import generate_population

pytestmark = pytest.mark.integration


async def test_published_registry_is_read_back_keyed_by_household_with_pseudonyms_only():
    settings = load_settings()
    contract = load_contract()
    seed = uuid.uuid4().int % 2**31  # household ids carry the seed: ours are new on the shared topic
    population = generate_population(40, seed, dt.date(2026, 1, 1), Pseudonymiser(settings.pseudonym_key).person_id)
    as_of = dt.datetime.now(dt.UTC).replace(microsecond=0)
    expected = {r["household_id"]: r for r in population.records(as_of)}

    producer = durable_producer(settings.kafka_bootstrap, "test-simulator-registry")
    await producer.start()
    try:
        assert await RegistryPublisher(producer, contract).publish(population.records(as_of)) == len(expected)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(REGISTRY.name, bootstrap_servers=settings.kafka_bootstrap,
                                group_id=f"test-simulator-registry-{uuid.uuid4().hex}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    found: dict[str, tuple[bytes | None, dict]] = {}
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while len(found) < len(expected) and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if record.key is not None and record.key.decode() in expected:
                        found[record.key.decode()] = (record.value, decode_record(contract, "household", record.value))
    finally:
        await consumer.stop()

    assert set(found) == set(expected)
    for household_id, (value, decoded) in found.items():
        assert decoded == expected[household_id]
        household = next(h for h in population.households if h.household_id == household_id)
        assert all(m.resident_id.encode() not in value for m in household.members)
