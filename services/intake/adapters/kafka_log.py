"""EventLog on Kafka: assist.events, keyed by person id, idempotent producer with acks=all."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.core.codec import Contract, Event, encode_event
from services.core.topics import EVENTS
from services.intake.service import Unavailable


class KafkaEventLog:
    def __init__(self, producer: AIOKafkaProducer, contract: Contract, timeout_seconds: float):
        self._producer = producer
        self._contract = contract
        self._timeout = timeout_seconds

    async def append(self, events: Sequence[Event]) -> list[bool]:
        if not events:
            return []
        try:
            async with asyncio.timeout(self._timeout):
                pending = []
                for event in events:
                    value, headers = encode_event(self._contract, event)
                    pending.append(await self._producer.send(EVENTS.name, value, key=event.subject.encode(),
                                                             headers=headers))
                results = await asyncio.gather(*pending, return_exceptions=True)
        except (TimeoutError, KafkaError) as exc:
            raise Unavailable(type(exc).__name__) from exc
        return [not isinstance(r, BaseException) for r in results]
