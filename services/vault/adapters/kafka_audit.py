"""AuditLog on assist.disclosures: one Disclosure record per disclosure, keyed by household id, acknowledged by
every in-sync replica before the details are shown."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from services.core.codec import Contract, encode_record
from services.core.topics import DISCLOSURES
from services.vault.domain.disclosure import Disclosure


class KafkaAuditLog:
    def __init__(self, producer: AIOKafkaProducer, contract: Contract, timeout_seconds: float = 10.0):
        self._producer, self._contract, self._timeout = producer, contract, timeout_seconds

    async def record(self, disclosure: Disclosure) -> None:
        value = encode_record(self._contract, "disclosure", disclosure.to_record())
        await asyncio.wait_for(self._producer.send_and_wait(DISCLOSURES.name, value,
                                                            key=disclosure.household_id.encode()), self._timeout)
