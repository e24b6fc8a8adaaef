"""Publishes what the civil registry holds: one Household record per household on assist.registry, keyed by its
id, and one PersonIdentity record per resident on assist.identities (for the identity vault), keyed by person id."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer

from services.core.codec import Contract, encode_record
from services.core.topics import IDENTITIES, REGISTRY


class RegistryPublisher:
    """Sends registry records (schemas/records/<record>.avsc, keyed by their `key` field) through a durable
    producer the caller started: households by default, `identities()` for the vault's."""

    def __init__(self, producer: AIOKafkaProducer, contract: Contract, topic: str = REGISTRY.name,
                 in_flight: int = 2_000, record: str = "household", key: str = "household_id"):
        self._producer = producer
        self._contract = contract
        self._topic = topic
        self._in_flight = in_flight
        self._record, self._key = record, key

    @classmethod
    def identities(cls, producer: AIOKafkaProducer, contract: Contract) -> RegistryPublisher:
        return cls(producer, contract, IDENTITIES.name, record="person_identity", key="person_id")

    async def publish(self, records: Iterable[dict[str, Any]]) -> int:
        """Encode and send every record; return how many once Kafka has acknowledged them all.

        Raises ContractError for a record that does not fit the schema, before sending it.
        """
        pending: list[asyncio.Future[Any]] = []
        count = 0
        for record in records:
            value = encode_record(self._contract, self._record, record)
            pending.append(await self._producer.send(self._topic, value, key=record[self._key].encode()))
            count += 1
            if len(pending) >= self._in_flight:  # bounds memory; the producer still batches underneath
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        return count
