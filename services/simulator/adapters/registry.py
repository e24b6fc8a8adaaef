"""Publishes the synthetic registry to assist.registry: one Household record per household, keyed by its id."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer

from services.core.codec import Contract, encode_record
from services.core.topics import REGISTRY


class RegistryPublisher:
    """Sends registry records (schemas/records/household.avsc) through a durable producer the caller started."""

    def __init__(self, producer: AIOKafkaProducer, contract: Contract, topic: str = REGISTRY.name,
                 in_flight: int = 2_000):
        self._producer = producer
        self._contract = contract
        self._topic = topic
        self._in_flight = in_flight

    async def publish(self, records: Iterable[dict[str, Any]]) -> int:
        """Encode and send every record; return how many once Kafka has acknowledged them all.

        Raises ContractError for a record that does not fit the schema, before sending it.
        """
        pending: list[asyncio.Future[Any]] = []
        count = 0
        for record in records:
            value = encode_record(self._contract, "household", record)
            pending.append(await self._producer.send(self._topic, value, key=record["household_id"].encode()))
            count += 1
            if len(pending) >= self._in_flight:  # bounds memory; the producer still batches underneath
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        return count
