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
from services.core.topics import IDENTITIES, REGISTRY
from services.simulator.adapters.registry import RegistryPublisher
from services.simulator.identities import identity_records
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

    found = await _read_back(REGISTRY.name, "household", set(expected))
    assert set(found) == set(expected)
    for household_id, (value, decoded) in found.items():
        assert decoded == expected[household_id]
        household = next(h for h in population.households if h.household_id == household_id)
        assert all(m.resident_id.encode() not in value for m in household.members)


async def test_identity_details_go_to_the_vaults_topic_keyed_by_person_without_identity_numbers():
    settings = load_settings()
    contract = load_contract()
    seed = uuid.uuid4().int % 2**31
    population = generate_population(20, seed, dt.date(2026, 1, 1), Pseudonymiser(settings.pseudonym_key).person_id)
    as_of = dt.datetime.now(dt.UTC).replace(microsecond=0)
    expected = {r["person_id"]: r for h in population.households for r in identity_records(h, as_of)}

    producer = durable_producer(settings.kafka_bootstrap, "test-simulator-identities")
    await producer.start()
    try:
        records = (r for h in population.households for r in identity_records(h, as_of))
        assert await RegistryPublisher.identities(producer, contract).publish(records) == len(expected)
    finally:
        await producer.stop()

    found = await _read_back(IDENTITIES.name, "person_identity", set(expected))
    assert {k: decoded for k, (_, decoded) in found.items()} == expected
    residents = [m.resident_id.encode() for h in population.households for m in h.members]
    assert not any(r in value for value, _ in found.values() for r in residents if value)


async def _read_back(topic: str, record: str, keys: set[str]) -> dict[str, tuple[bytes | None, dict]]:
    """The records of `topic` keyed by one of `keys` (the last of each), read from the start; at most 30 s."""
    settings = load_settings()
    contract = load_contract()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap,
                                group_id=f"test-simulator-registry-{uuid.uuid4().hex}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    found: dict[str, tuple[bytes | None, dict]] = {}
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while len(found) < len(keys) and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    if r.key is not None and r.key.decode() in keys:
                        found[r.key.decode()] = (r.value, decode_record(contract, record, r.value))
    finally:
        await consumer.stop()
    return found
