"""Withdrawals of consent on Kafka: ConsentWithdrawal records on assist.consents, keyed by person id (compacted:
the latest record per person holds every channel withdrawn)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.core.codec import Contract, encode_record
from services.core.topics import CONSENTS
from services.notification.ports import Unavailable


class KafkaConsentLog:
    def __init__(self, producer: AIOKafkaProducer, contract: Contract, timeout_seconds: float):
        self._producer, self._contract, self._timeout = producer, contract, timeout_seconds

    async def withdrawn(self, record: dict[str, Any]) -> None:
        value = encode_record(self._contract, "consent", record)
        try:
            async with asyncio.timeout(self._timeout):
                await self._producer.send_and_wait(CONSENTS.name, value, key=str(record["person_id"]).encode())
        except (KafkaError, TimeoutError) as exc:
            raise Unavailable(f"withdrawal not acknowledged by the log ({type(exc).__name__})") from None
