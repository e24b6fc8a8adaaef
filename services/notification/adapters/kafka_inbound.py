"""The worker's consumer: assist.contacts, assist.offers, assist.tasks and assist.decisions in one consumer group,
offsets committed by hand only after every record before them was handled. A crash re-reads records, and the
handlers are idempotent, so nothing is lost and nothing happens twice."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from redis.exceptions import RedisError

from services.core.codec import Contract, decode_record
from services.core.kafka import consume_batches
from services.core.topics import CONTACTS, DECISIONS, OFFERS, TASKS
from services.notification.metrics import NotificationMetrics
from services.notification.records import InboundRecords

log = logging.getLogger(__name__)
GROUP = "assist-notification"
TOPICS = (CONTACTS, TASKS, OFFERS, DECISIONS)
"""In this order within a fetched batch: contacts before the offers that need them, tasks before decisions."""
_SCHEMAS = {CONTACTS.name: "contact", OFFERS.name: "offer", TASKS.name: "caseworker_task",
            DECISIONS.name: "decision"}
_RANK = {t.name: i for i, t in enumerate(TOPICS)}


def inbound_consumer(bootstrap: str, group: str = GROUP) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(*(t.name for t in TOPICS), bootstrap_servers=bootstrap, group_id=group,
                            client_id="assist-notification", enable_auto_commit=False, auto_offset_reset="earliest",
                            isolation_level="read_committed", max_poll_records=500)


class InboundConsumer:
    def __init__(self, consumer: AIOKafkaConsumer, records: InboundRecords, contract: Contract,
                 metrics: NotificationMetrics):
        self._consumer, self._records, self._contract, self._metrics = consumer, records, contract, metrics

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set. When Redis is unreachable the batch is read again after a pause."""
        await consume_batches(self._consumer, self.handle, (RedisError, OSError), stop, "notification inputs")

    async def handle(self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        for tp in sorted(batch, key=lambda tp: (_RANK[tp.topic], tp.partition)):
            for record in batch[tp]:
                await self._one(record)

    async def _one(self, record: ConsumerRecord[bytes, bytes]) -> None:
        topic = record.topic
        self._metrics.record(topic)
        if topic == CONTACTS.name and record.value is None:
            if record.key:
                await self._records.contact(record.key.decode(), None)
            return
        value = self._decode(record)
        if value is None:
            return
        if topic == CONTACTS.name:
            await self._records.contact(str(value["person_id"]), value)
        elif topic == OFFERS.name:
            await self._records.offer(value)
        elif topic == TASKS.name:
            await self._records.task(value)
        else:
            await self._records.decision(value)

    def _decode(self, record: ConsumerRecord[bytes, bytes]) -> dict[str, Any] | None:
        try:
            return decode_record(self._contract, _SCHEMAS[record.topic], record.value or b"")
        except Exception as exc:  # fastavro raises several types on garbled bodies; never log the payload
            self._metrics.unreadable(record.topic)
            log.error("skipping unreadable record %s[%d]@%d (%s)", record.topic, record.partition, record.offset,
                      type(exc).__name__)
            return None
