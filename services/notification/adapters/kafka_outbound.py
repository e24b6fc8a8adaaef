"""StatusLog, TaskLog and DecisionLog on Kafka (idempotent producer, acks=all): a record counts as written only
when every in-sync replica has it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.core.codec import Contract, encode_record
from services.core.topics import DECISIONS, NOTIFICATIONS, TASKS
from services.notification.ports import Unavailable


class KafkaRecords:
    def __init__(self, producer: AIOKafkaProducer, contract: Contract, timeout_seconds: float):
        self._producer = producer
        self._contract = contract
        self._timeout = timeout_seconds

    async def publish_statuses(self, statuses: Sequence[dict[str, Any]]) -> None:
        await self._write([(NOTIFICATIONS.name, "notification_status", str(s["offer_id"]), s) for s in statuses])

    async def publish_task(self, task: dict[str, Any]) -> None:
        await self._write([(TASKS.name, "caseworker_task", str(task["household_id"]), task)])

    async def append_decision(self, decision: dict[str, Any]) -> None:
        await self._write([(DECISIONS.name, "decision", str(decision["household_id"]), decision)])

    async def _write(self, records: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                pending = [await self._producer.send(topic, encode_record(self._contract, schema, value),
                                                     key=key.encode())
                           for topic, schema, key, value in records]
                await asyncio.gather(*pending)
        except (TimeoutError, KafkaError) as exc:
            raise Unavailable(type(exc).__name__) from exc
