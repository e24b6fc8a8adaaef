"""The worker's consumer: assist.consents, assist.contacts, assist.offers, assist.tasks, assist.decisions,
assist.applications.answers and assist.disclosures in one consumer group,
offsets committed by hand only after every record before them was handled. A crash re-reads records, and the
handlers are idempotent, so nothing is lost and nothing happens twice. A record that cannot be used goes to
assist.notification.dlq with its reason."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from services.core.codec import Contract, decode_record
from services.core.dead_letter import DeadLetters, DeadLetterSink, Reason
from services.core.kafka import consume_batches
from services.core.kafka_security import kafka_options
from services.core.topics import (
    APPLICATION_ANSWERS,
    CONSENTS,
    CONTACTS,
    DECISIONS,
    DISCLOSURES,
    NOTIFICATION_DLQ,
    OFFERS,
    TASKS,
)
from services.core.unavailable import REDIS_UNAVAILABLE
from services.notification.metrics import NotificationMetrics
from services.notification.records import InboundRecords

log = logging.getLogger(__name__)
GROUP = "assist-notification"
TOPICS = (CONSENTS, CONTACTS, TASKS, OFFERS, DECISIONS, APPLICATION_ANSWERS, DISCLOSURES)
"""In this order within a fetched batch: withdrawals of consent and contacts before the offers that need them,
tasks before decisions."""
SCHEMAS = {CONSENTS.name: "consent", CONTACTS.name: "contact", OFFERS.name: "offer", TASKS.name: "caseworker_task",
           DECISIONS.name: "decision", APPLICATION_ANSWERS.name: "application_answer",
           DISCLOSURES.name: "disclosure"}
_RANK = {t.name: i for i, t in enumerate(TOPICS)}


def inbound_consumer(bootstrap: str, group: str = GROUP) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(*(t.name for t in TOPICS), **kafka_options(bootstrap), group_id=group,
                            client_id="assist-notification", enable_auto_commit=False, auto_offset_reset="earliest",
                            isolation_level="read_committed", max_poll_records=500)


def inbound_dead_letters(producer: AIOKafkaProducer, metrics: NotificationMetrics) -> DeadLetters:
    """Notification's dead-letter topic. Contact details are never copied there: a bad contact record is
    dead-lettered with its reason and position only."""
    return DeadLetters(producer, NOTIFICATION_DLQ.name, keep_value=lambda topic: topic != CONTACTS.name,
                       counted=lambda topic, reason: metrics.unreadable(topic))


class Unreadable(Exception):
    """A record that can never be used, read by a consumer without a dead-letter topic."""


class InboundConsumer:
    def __init__(self, consumer: AIOKafkaConsumer, records: InboundRecords, contract: Contract,
                 metrics: NotificationMetrics, dead_letters: DeadLetterSink | None = None,
                 ready: Callable[[], Awaitable[None]] | None = None):
        self._consumer, self._records, self._contract, self._metrics = consumer, records, contract, metrics
        self._dead_letters = dead_letters
        self._ready = ready
        """Raises (a Redis ConnectionError) while the state is missing or being rebuilt: the batch waits."""

    @property
    def consumer(self) -> AIOKafkaConsumer:
        """The consumer of the input topics, for the worker's readiness check (services/core/readiness.py)."""
        return self._consumer

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set. When Redis is unreachable the batch is read again after a pause; a record
        that cannot be used goes to assist.notification.dlq with its reason."""
        await consume_batches(self._consumer, self.handle, REDIS_UNAVAILABLE, stop, "notification inputs",
                              dead_letters=self._dead_letters)

    async def handle(self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        if self._ready is not None:
            await self._ready()
        for tp in sorted(batch, key=lambda tp: (_RANK[tp.topic], tp.partition)):
            for record in batch[tp]:
                await self._one(record)

    async def replay(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Apply a record read again from history (a rebuild). One that cannot be used was dead-lettered when it
        was first read, so here it is skipped."""
        await self._one(record, replaying=True)

    async def _one(self, record: ConsumerRecord[bytes, bytes], replaying: bool = False) -> None:
        topic = record.topic
        if not replaying:
            self._metrics.record(topic)
        if topic == CONTACTS.name and record.value is None:
            if not record.key:
                await self._reject(record, Reason("a contact tombstone needs the person id as its key", ("key",)),
                                   replaying)
                return
            await self._records.contact(record.key.decode("utf-8", "replace"), None)
            return
        value = await self._decoded(record, replaying)
        if value is None:
            return
        if topic == CONTACTS.name:
            await self._records.contact(str(value["person_id"]), value)
        elif topic == CONSENTS.name:
            await self._records.consent(value)
        elif topic == OFFERS.name:
            await self._records.offer(value)
        elif topic == TASKS.name:
            await self._records.task(value)
        elif topic == APPLICATION_ANSWERS.name:
            await self._records.application_answer(value)
        elif topic == DISCLOSURES.name:
            await self._records.disclosure(value)
        else:
            await self._records.decision(value)

    async def _decoded(self, record: ConsumerRecord[bytes, bytes], replaying: bool) -> dict[str, Any] | None:
        schema = SCHEMAS[record.topic]
        if record.value is None:
            await self._reject(record, Reason(f"no value: only contacts may be erased by a tombstone, not {schema}",
                                              ("value",)), replaying)
            return None
        try:
            return decode_record(self._contract, schema, record.value)
        except Exception as exc:  # fastavro raises several types on garbled bodies; never log the payload
            await self._reject(record, Reason(f"unreadable as {schema} ({type(exc).__name__})", ("value",)),
                               replaying)
            return None

    async def _reject(self, record: ConsumerRecord[bytes, bytes], reason: Reason, replaying: bool) -> None:
        if replaying:
            return
        log.error("unusable record %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason.text)
        if self._dead_letters is None:
            raise Unreadable(reason.text)
        await self._dead_letters.send(record, reason)
