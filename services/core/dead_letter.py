"""Dead letters: a record a consumer cannot use goes, with its original bytes and the reason, to its service's
dead-letter topic (services/core/topics.py), so it is neither lost nor able to stop the loop that read it.

A dead letter carries the record's key and value unchanged and its headers with anything that looks like an identity
number, a phone number or an e-mail address masked, followed by:

    dlq_reason             what was wrong, never the offending value ("internal: KeyError" when handling it failed)
    dlq_fields             comma-separated fields at fault ("" when the record as a whole)
    dlq_source_topic, dlq_source_partition, dlq_source_offset      where it was read
    dlq_at                 when it was dead-lettered (ISO 8601, UTC)
    dlq_value_omitted      only when the value is not carried, and why (it stays on its source topic)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError, KafkaTimeoutError, MessageSizeTooLargeError

from services.core.conformance import ContractError
from services.core.personal_data import labelled
from services.core.producer import Producer

log = logging.getLogger(__name__)

REASON_HEADERS = ("dlq_reason", "dlq_fields", "dlq_source_topic", "dlq_source_partition", "dlq_source_offset",
                  "dlq_at", "dlq_value_omitted")
TOO_LARGE = "too large to carry with its reason; read it from the source position"
REMEMBERED = 10_000


@dataclass(frozen=True)
class Reason:
    """Why a record was dead-lettered. `kind` is a bounded metric label (invalid, internal, ...)."""

    text: str
    fields: tuple[str, ...] = ()
    kind: str = "invalid"


def internal(exc: BaseException) -> Reason:
    """The reason for a record whose handling raised: the exception's type only (its message may quote data)."""
    return Reason(f"internal: {type(exc).__name__}", (), "internal")


def invalid(exc: ContractError) -> Reason:
    """The reason for a record the contract refuses: every field at fault and why."""
    return Reason("; ".join(map(str, exc.errors)), tuple(e.field for e in exc.errors))


@dataclass(frozen=True)
class Source:
    topic: str
    partition: int
    offset: int


def masked_headers(headers: Iterable[tuple[str, bytes | None]]) -> list[tuple[str, bytes | None]]:
    """Headers safe to keep on a dead-letter topic: names and values masked, earlier dlq_* headers dropped (a
    replayed dead letter gets fresh ones). Values stay bytes, even when they are not UTF-8."""
    kept: list[tuple[str, bytes | None]] = []
    for name, value in headers:
        if name in REASON_HEADERS:
            continue
        safe_name = labelled(name.encode("utf-8", "surrogateescape")).decode("utf-8", "replace")
        kept.append((safe_name, None if value is None else labelled(bytes(value))))
    return kept


def dead_letter_headers(headers: Iterable[tuple[str, bytes | None]], source: Source, reason: Reason, at: dt.datetime,
                        value_omitted: str | None = None) -> list[tuple[str, bytes | None]]:
    """The headers of a dead letter (see the module docstring)."""
    added = [
        ("dlq_reason", labelled(reason.text.encode())),
        ("dlq_fields", ",".join(reason.fields).encode()),
        ("dlq_source_topic", source.topic.encode()),
        ("dlq_source_partition", str(source.partition).encode()),
        ("dlq_source_offset", str(source.offset).encode()),
        ("dlq_at", at.astimezone(dt.UTC).isoformat().encode()),
    ]
    if value_omitted:
        added.append(("dlq_value_omitted", value_omitted.encode()))
    return [*masked_headers(headers), *added]


class DeadLetterRefused(Exception):
    """The broker will not take a dead letter (not a passing outage). The record can be neither used nor parked, so
    the loop that read it must stop rather than skip it."""


class DeadLetterSink(Protocol):
    """Where a consume loop parks a record it cannot use."""

    async def send(self, record: ConsumerRecord[bytes, bytes], reason: Reason) -> None:
        """Park `record` with `reason`; raise a transient error (to retry) or DeadLetterRefused."""


class DeadLetters:
    """A service's dead-letter topic. `keep_value(topic)` says whether records of a source topic may be copied
    (contact details, for one, never leave their topic); `counted(source_topic, reason)` feeds the service's metrics."""

    def __init__(self, producer: Producer, topic: str, *, keep_value: Callable[[str], bool] = lambda _: True,
                 counted: Callable[[str, Reason], None] = lambda topic, reason: None, timeout_seconds: float = 10.0,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self.topic = topic
        self._producer, self._keep_value, self._counted = producer, keep_value, counted
        self._timeout, self._clock = timeout_seconds, clock
        self._sent: OrderedDict[Source, None] = OrderedDict()
        """Positions dead-lettered lately: a batch read again (retried, or tried apart) parks each record once."""

    async def send(self, record: ConsumerRecord[bytes, bytes], reason: Reason) -> None:
        source = Source(record.topic, record.partition, record.offset)
        if source in self._sent:
            return
        omitted = None if self._keep_value(record.topic) else f"records of {record.topic} are not copied"
        value = record.value if omitted is None else None
        try:
            await self._send(record, value, dead_letter_headers(record.headers, source, reason, self._clock(),
                                                                omitted))
        except MessageSizeTooLargeError:
            await self._send(record, None, dead_letter_headers(record.headers, source, reason, self._clock(),
                                                               TOO_LARGE))
        log.warning("%s:%d@%d dead-lettered to %s (%s)", record.topic, record.partition, record.offset, self.topic,
                    reason.kind, extra=_event_ids(record.headers))
        self._counted(record.topic, reason)
        self._sent[source] = None
        if len(self._sent) > REMEMBERED:
            self._sent.popitem(last=False)

    async def _send(self, record: ConsumerRecord[bytes, bytes], value: bytes | None,
                    headers: Sequence[tuple[str, bytes | None]]) -> None:
        if value is None and record.key is None:
            value = b""  # Kafka needs a key or a value; a tombstone without a key has neither
        try:
            async with asyncio.timeout(self._timeout):
                await self._producer.send_and_wait(self.topic, value, key=record.key, headers=list(headers))
        except MessageSizeTooLargeError:
            if not value:
                raise DeadLetterRefused(f"{self.topic} refuses even the reason of {record.topic}:{record.partition}"
                                        f"@{record.offset}") from None
            raise
        except KafkaError as exc:
            if isinstance(exc, KafkaTimeoutError) or exc.retriable:
                raise
            raise DeadLetterRefused(f"{self.topic} refused a dead letter ({type(exc).__name__})") from exc


def _event_ids(headers: Sequence[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """A dead-lettered event's CloudEvents id (its ce_id header) as the log line's event id and trace."""
    for name, value in headers or ():
        if name == "ce_id" and value:
            event_id = bytes(value).decode("utf-8", "replace")
            return {"event_id": event_id, "trace": event_id}
    return {}
