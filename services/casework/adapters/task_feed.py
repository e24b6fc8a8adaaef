"""Takes task records from assist.tasks into the queues, and matching's answers to applications from
assist.applications.answers to the residents they concern. Offsets are committed only after the batch is in Redis;
a record read twice is taken in once (by task id, by application id); a record that is neither goes to
assist.casework.dlq."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from redis.exceptions import ResponseError

from services.casework.adapters.records import task_from_record
from services.casework.domain.tasks import CaseworkerTask
from services.casework.metrics import CaseworkMetrics
from services.casework.service import TakenIn, TaskBoard, Unavailable
from services.core.application_views import ApplicationStore
from services.core.codec import Contract, decode_record
from services.core.dead_letter import DeadLetters, DeadLetterSink, Reason
from services.core.kafka import consume_batches
from services.core.kafka_security import kafka_options
from services.core.topics import APPLICATION_ANSWERS, CASEWORK_DLQ, TASKS
from services.core.unavailable import REDIS_UNAVAILABLE

log = logging.getLogger(__name__)
GROUP = "assist-casework"


def tasks_consumer(bootstrap: str, group: str = GROUP) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(TASKS.name, APPLICATION_ANSWERS.name, **kafka_options(bootstrap), group_id=group,
                            client_id="assist-casework",
                            enable_auto_commit=False, auto_offset_reset="earliest", isolation_level="read_committed")


def task_dead_letters(producer: AIOKafkaProducer, metrics: CaseworkMetrics) -> DeadLetters:
    """Casework's dead-letter topic, counted in assist_casework_tasks_taken_in_total by reason kind."""
    return DeadLetters(producer, CASEWORK_DLQ.name, counted=lambda topic, reason: metrics.taken_in(reason.kind))


def readable_task(contract: Contract, record: ConsumerRecord[bytes, bytes]) -> CaseworkerTask | Reason:
    """The task of `record`, or why it can never be taken in."""
    if record.value is None:
        return Reason("a task record needs a value (tombstones are not tasks)", ("value",))
    try:
        value = decode_record(contract, "caseworker_task", record.value)
    except Exception as exc:  # fastavro raises several types on garbled bodies; never quote the payload
        return Reason(f"not a caseworker_task record ({type(exc).__name__})", ("value",))
    try:
        return task_from_record(value, int(record.timestamp))
    except (KeyError, TypeError, ValueError) as exc:
        return Reason(f"caseworker_task does not describe a task ({type(exc).__name__})", ("value",))


def readable_tasks(contract: Contract, records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[CaseworkerTask]:
    """The tasks of `records` (rebuilding the view from history); the live feed dead-lettered the others."""
    tasks = []
    for record in records:
        judged = readable_task(contract, record)
        if isinstance(judged, Reason):
            log.info("task record %s:%d@%d skipped: %s", record.topic, record.partition, record.offset, judged.text)
        else:
            tasks.append(judged)
    return tasks


class Unreadable(Exception):
    """A task record that can never be taken in, read by a feed without a dead-letter topic."""


def readable_answer(contract: Contract, record: ConsumerRecord[bytes, bytes]) -> dict[str, Any] | Reason:
    """The ApplicationAnswer of `record`, or why it can never be used."""
    try:
        return decode_record(contract, "application_answer", record.value or b"")
    except Exception as exc:  # fastavro raises several types on garbled bodies; never quote the payload
        return Reason(f"not an application_answer record ({type(exc).__name__})", ("value",))


class TaskFeed:
    def __init__(self, consumer: AIOKafkaConsumer, board: TaskBoard, contract: Contract, metrics: CaseworkMetrics,
                 dead_letters: DeadLetterSink | None = None, answers: ApplicationStore | None = None):
        self._consumer = consumer
        self._board = board
        self._contract = contract
        self._metrics = metrics
        self._dead_letters = dead_letters
        self._answers = answers

    async def run(self, stop: asyncio.Event) -> None:
        """Take tasks in until `stop` is set; a batch that cannot be written is read again after a pause, a record
        that cannot be used goes to assist.casework.dlq with its reason."""
        await consume_batches(self._consumer, self.take_in, (*REDIS_UNAVAILABLE, Unavailable), stop, "casework tasks",
                              dead_letters=self._dead_letters)

    async def take_in(self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        tasks = []
        for record in (r for rs in batch.values() for r in rs):
            if record.topic == APPLICATION_ANSWERS.name:
                await self._answer(record)
                continue
            judged = readable_task(self._contract, record)
            if isinstance(judged, Reason):
                if self._dead_letters is None:
                    raise Unreadable(judged.text)
                await self._dead_letters.send(record, judged)
            else:
                tasks.append(judged)
        try:
            new = await self._board.take_in(tasks)
        except ResponseError as exc:
            # In a pipeline the script's reply is quoted after the command ("... caused error: UNAVAILABLE ...").
            if "UNAVAILABLE" in str(exc):  # the view is being rebuilt: read the batch again later
                raise Unavailable("the view is being rebuilt") from None
            raise
        for outcome in TakenIn:
            self._metrics.taken_in(outcome.value, sum(1 for n in new if n is outcome))

    async def _answer(self, record: ConsumerRecord[bytes, bytes]) -> None:
        answer = readable_answer(self._contract, record)
        if isinstance(answer, Reason):
            if self._dead_letters is None:
                raise Unreadable(answer.text)
            await self._dead_letters.send(record, answer)
        elif self._answers is not None:
            await self._answers.answered(answer)
