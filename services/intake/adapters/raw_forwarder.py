"""The Kafka-native path: validate assist.events.raw, forward to assist.events, dead-letter the rest.

An offset is committed only after every record before it was forwarded or dead-lettered, so a crash
re-reads (and, thanks to the duplicate guard, does not re-publish) rather than loses. No record stops the
loop: a record that breaks the contract, or whose judging raises anything at all ("internal: <ExceptionType>"),
goes to assist.events.dlq with its reason, and every record after it is still forwarded.

What a dead letter of assist.events.dlq carries (it must hold no identity number, phone number or e-mail):
- the original value and key, with every identity number (a valid check character), mainland mobile number and
  e-mail address masked in place by as many `*` (services/core/personal_data.py), so the Avro structure
  and lengths stay as they were; a tombstone stays a tombstone; a record without a key gets an empty one;
- the original headers in order, each masked the same way, except that every header whose name, lower-cased with
  '-' read as '_', is `ce_subject` (so `ce-subject` and `CE_SUBJECT` too) carries the subject's pseudonym instead;
- the dlq_* reason headers of services/core/dead_letter.py (dlq_reason, dlq_fields, where it was read, when).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from services.core.codec import Contract, Event, check_event, decode_event
from services.core.conformance import ContractError, FieldError
from services.core.dead_letter import DeadLetters, Reason, internal
from services.core.kafka import consume_batches
from services.core.kafka_security import kafka_options
from services.core.personal_data import MASK, blanked, blanked_text
from services.core.topics import EVENTS_DLQ, EVENTS_RAW
from services.core.unavailable import REDIS_UNAVAILABLE
from services.intake.domain.submission import Verdict, department_of_source, may_publish, subject_problem
from services.intake.metrics import IntakeMetrics
from services.intake.service import Intake, Outcome

log = logging.getLogger(__name__)
GROUP = "assist-intake-raw"
Record: TypeAlias = ConsumerRecord[bytes, bytes]


@dataclass(frozen=True)
class Rejection:
    reason: str
    errors: tuple[FieldError, ...]


def judge_raw(contract: Contract, record: Record) -> tuple[str, Event] | Rejection:
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


def is_subject_header(name: str) -> bool:
    """Whether a header carries the CloudEvents subject in any spelling (ce_subject, ce-subject, CE_Subject)."""
    return name.lower().replace("-", "_") == "ce_subject"


def parked(record: Record, pseudonymise: Callable[[str], str]) -> Record:
    """The copy of `record` that may be kept on assist.events.dlq (see the module docstring)."""
    headers: list[tuple[str, bytes | None]] = []
    for name, value in record.headers:
        if value is not None:
            value = _pseudonym(value, pseudonymise) if is_subject_header(name) else blanked(bytes(value))
        headers.append((blanked_text(name), value))
    # An empty key for a record without one: a dead letter whose value cannot be carried still needs a key.
    key = blanked(record.key) if record.key is not None else b""
    value = blanked(record.value) if record.value is not None else None
    return replace(record, key=key, value=value, headers=headers)


def _pseudonym(value: bytes, pseudonymise: Callable[[str], str]) -> bytes:
    try:
        return blanked(pseudonymise(bytes(value).decode("utf-8", "replace")).encode())
    except Exception:  # no pseudonym to be had: keep nothing of the value but its length
        return bytes([MASK]) * len(value)


class RawForwarder:
    def __init__(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, intake: Intake, contract: Contract,
                 metrics: IntakeMetrics, pseudonymise: Callable[[str], str]):
        self._consumer = consumer
        self._intake = intake
        self._contract = contract
        self._metrics = metrics
        self._pseudonymise = pseudonymise
        self._dead_letters = DeadLetters(producer, EVENTS_DLQ.name,
                                         counted=lambda _topic, reason: metrics.dead_lettered(reason.kind))

    async def run(self, stop: asyncio.Event) -> None:
        """Forward until `stop` is set; a failure to publish re-reads the batch after a pause."""
        await consume_batches(self._consumer, self.forward, (Unforwarded, KafkaError, *REDIS_UNAVAILABLE), stop,
                              "raw forwarder", dead_letters=self)

    async def forward(self, batch: dict[TopicPartition, list[Record]]) -> None:
        by_department: dict[str, list[Event]] = defaultdict(list)
        for records in batch.values():
            for record in records:
                judged = self._judged(record)
                if isinstance(judged, Reason):
                    await self.send(record, judged)
                else:
                    by_department[judged[0]].append(judged[1])
        for department, events in by_department.items():
            receipt = await self._intake.submit(department, Verdict(tuple(events), ()))
            if receipt.outcome in (Outcome.UNAVAILABLE, Outcome.CONFLICT):
                raise Unforwarded(receipt.outcome.name)
            if receipt.outcome is not Outcome.ACCEPTED:  # the records at fault are found apart and dead-lettered
                raise Refused(receipt.outcome.name)
            self._metrics.forwarded(receipt.accepted)

    def _judged(self, record: Record) -> tuple[str, Event] | Reason:
        """The department and pseudonymised event of `record`, or the reason to dead-letter it; never raises."""
        try:
            judged = judge_raw(self._contract, record)
            if isinstance(judged, Rejection):
                return Reason("; ".join(map(str, judged.errors)), tuple(e.field for e in judged.errors),
                              judged.reason)
            department, event = judged
            return department, event.with_subject(self._pseudonymise(event.subject))
        except Exception as exc:  # the loop must not stop on a record, whatever it holds
            log.warning("raw forwarder: judging %s:%d@%d raised %s", record.topic, record.partition, record.offset,
                        type(exc).__name__)
            return internal(exc)

    async def send(self, record: Record, reason: Reason) -> None:
        """Park `record` on assist.events.dlq with `reason`, holding no personal data (the DeadLetterSink port)."""
        await self._dead_letters.send(parked(record, self._pseudonymise), reason)


class Unforwarded(Exception):
    """The batch could not be fully forwarded for now; its offsets must not be committed."""


class Refused(Exception):
    """Intake refused a batch of events the raw path had judged valid; none was published."""


def raw_consumer(bootstrap: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(EVENTS_RAW.name, **kafka_options(bootstrap), group_id=GROUP, client_id="assist-intake-raw",
                            enable_auto_commit=False, auto_offset_reset="earliest", isolation_level="read_committed")
