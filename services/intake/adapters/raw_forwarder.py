"""The Kafka-native path: validate assist.events.raw, forward to assist.events, dead-letter the rest.

An offset is committed only after every record before it was forwarded or dead-lettered, so a crash
re-reads (and, thanks to the duplicate guard, does not re-publish) rather than loses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from services.core.codec import Contract, Event, check_event, decode_event, header
from services.core.conformance import ContractError, FieldError
from services.core.kafka import consume_batches
from services.core.topics import EVENTS_DLQ, EVENTS_RAW
from services.intake.domain.submission import Verdict, department_of_source, may_publish, subject_problem
from services.intake.metrics import IntakeMetrics
from services.intake.service import Intake, Outcome

log = logging.getLogger(__name__)
GROUP = "assist-intake-raw"


@dataclass(frozen=True)
class Rejection:
    reason: str
    errors: tuple[FieldError, ...]


def judge_raw(contract: Contract, record: ConsumerRecord[bytes, bytes]) -> tuple[str, Event] | Rejection:
    """The department and event of a raw record, or why it must be dead-lettered."""
    try:
        event = decode_event(contract, record.value, record.headers)
        check_event(contract, event)
    except ContractError as exc:
        return Rejection("invalid", tuple(exc.errors))
    bad_subject = subject_problem(event.subject)
    if bad_subject:
        return Rejection("invalid", (bad_subject,))
    department = department_of_source(event.source)
    if department is None or not may_publish(contract, department, event.type):
        return Rejection("forbidden", (FieldError("ce_source", f"does not name a department owning {event.type}"),))
    return department, event


class RawForwarder:
    def __init__(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, intake: Intake, contract: Contract,
                 metrics: IntakeMetrics, pseudonymise: Callable[[str], str]):
        self._consumer = consumer
        self._producer = producer
        self._intake = intake
        self._contract = contract
        self._metrics = metrics
        self._pseudonymise = pseudonymise

    async def run(self, stop: asyncio.Event) -> None:
        """Forward until `stop` is set; a failure to publish re-reads the batch after a pause."""
        await consume_batches(self._consumer, self.forward, (Unforwarded, KafkaError, TimeoutError), stop,
                              "raw forwarder")

    async def forward(self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        by_department: dict[str, list[Event]] = defaultdict(list)
        for records in batch.values():
            for record in records:
                judged = judge_raw(self._contract, record)
                if isinstance(judged, Rejection):
                    await self._dead_letter(record, judged)
                else:
                    department, event = judged
                    by_department[department].append(event.with_subject(self._pseudonymise(event.subject)))
        for department, events in by_department.items():
            receipt = await self._intake.submit(department, Verdict(tuple(events), ()))
            if receipt.outcome is not Outcome.ACCEPTED:
                raise Unforwarded(receipt.outcome.name)
            self._metrics.forwarded(receipt.accepted)

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], rejection: Rejection) -> None:
        subject = header(record.headers, "ce_subject")
        # The raw subject is an identity number (or garbage that may be one): only its pseudonym travels on.
        kept = [(k, v) for k, v in record.headers if k != "ce_subject"]
        if subject is not None:
            kept.append(("ce_subject", self._pseudonymise(subject).encode()))
        kept += [
            ("dlq_reason", "; ".join(str(e) for e in rejection.errors).encode()),
            ("dlq_fields", ",".join(e.field for e in rejection.errors).encode()),
            ("dlq_source_topic", record.topic.encode()),
            ("dlq_source_partition", str(record.partition).encode()),
            ("dlq_source_offset", str(record.offset).encode()),
            ("dlq_at", dt.datetime.now(dt.UTC).isoformat().encode()),
        ]
        async with asyncio.timeout(10):
            await self._producer.send_and_wait(EVENTS_DLQ.name, record.value, headers=kept)
        self._metrics.dead_lettered(rejection.reason)


class Unforwarded(Exception):
    """The batch could not be fully forwarded; its offsets must not be committed."""


def raw_consumer(bootstrap: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(EVENTS_RAW.name, bootstrap_servers=bootstrap, group_id=GROUP, client_id="assist-intake-raw",
                            enable_auto_commit=False, auto_offset_reset="earliest", isolation_level="read_committed")
