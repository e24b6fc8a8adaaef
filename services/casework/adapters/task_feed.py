"""Takes task records from assist.tasks into the queues. Offsets are committed only after the batch is in Redis;
a record read twice is taken in once (by task id)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from redis.exceptions import RedisError

from services.casework.adapters.records import task_from_record
from services.casework.domain.tasks import CaseworkerTask
from services.casework.metrics import CaseworkMetrics
from services.casework.service import TaskBoard
from services.core.codec import Contract, decode_record
from services.core.kafka import consume_batches
from services.core.topics import TASKS

log = logging.getLogger(__name__)
GROUP = "assist-casework"


def tasks_consumer(bootstrap: str, group: str = GROUP) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(TASKS.name, bootstrap_servers=bootstrap, group_id=group, client_id="assist-casework",
                            enable_auto_commit=False, auto_offset_reset="earliest", isolation_level="read_committed")


def readable_tasks(contract: Contract, records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[CaseworkerTask]:
    """The tasks of `records`; a record that does not decode is logged and skipped (it can never succeed)."""
    tasks = []
    for record in records:
        try:
            tasks.append(task_from_record(decode_record(contract, "caseworker_task", record.value or b"")))
        except Exception as exc:  # fastavro raises several types on garbled bodies
            log.error("task record %s:%d@%d unreadable (%s); skipped", record.topic, record.partition,
                      record.offset, type(exc).__name__)
    return tasks


class TaskFeed:
    def __init__(self, consumer: AIOKafkaConsumer, board: TaskBoard, contract: Contract, metrics: CaseworkMetrics):
        self._consumer = consumer
        self._board = board
        self._contract = contract
        self._metrics = metrics

    async def run(self, stop: asyncio.Event) -> None:
        """Take tasks in until `stop` is set; a batch that cannot be written is read again after a pause."""
        await consume_batches(self._consumer, self.take_in, (RedisError, OSError), stop, "casework tasks")

    async def take_in(self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        records = [r for rs in batch.values() for r in rs]
        tasks = readable_tasks(self._contract, records)
        new = await self._board.take_in(tasks)
        self._metrics.taken_in("invalid", len(records) - len(tasks))
        self._metrics.taken_in("new", sum(new))
        self._metrics.taken_in("duplicate", len(new) - sum(new))
