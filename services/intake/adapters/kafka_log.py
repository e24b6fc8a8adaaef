"""EventLog on Kafka: assist.events, keyed by person id, idempotent producer with acks=all.

aiokafka's idempotent producer numbers each partition's batches when it drains them. A batch that is then
failed without the broker taking it (it expired while its partition had no leader, as happens while a restarted
broker elects leaders, or the broker refused it) leaves a gap the broker never fills: from then on every batch
on that partition is answered OutOfOrderSequenceNumber and aiokafka never asks for a new producer id. So any
failed batch, a stopped sender, or a producer that acknowledges nothing for several publish timeouts in a row,
retires the producer and starts a new one (new producer id, sequences from 0). Requests answered 503 meanwhile
may still land once (at least once; consumers keep one record per event id).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from services.core.codec import Contract, Event, encode_event
from services.core.topics import EVENTS
from services.intake.metrics import IntakeMetrics
from services.intake.service import Delivery, Unavailable

log = logging.getLogger(__name__)

TOO_LARGE = (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)
STALLED_TIMEOUTS = 3  # consecutive publish timeouts, spanning as many timeouts, before the producer is renewed
RETIRE_SECONDS = 30.0  # how long a retired producer may take to flush and close
MAX_RECORD_BYTES = 1_000_000  # below the producer's max_request_size and the broker's message.max.bytes (1 MiB)


class KafkaEventLog:
    """The event log on one producer at a time; `connect` builds a new, unstarted producer."""

    def __init__(self, connect: Callable[[], AIOKafkaProducer], contract: Contract, timeout_seconds: float,
                 metrics: IntakeMetrics):
        self._connect = connect
        self._contract = contract
        self._timeout = timeout_seconds
        self._metrics = metrics
        self._producer: AIOKafkaProducer | None = None
        self._renewal: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        self._last_ack = time.monotonic()
        self._timeouts = 0  # publish timeouts since the last acknowledgement
        self._last_renewal = 0.0

    async def start(self) -> None:
        producer = self._connect()
        await producer.start()
        self._producer = producer
        self._last_ack = time.monotonic()

    async def stop(self) -> None:
        if self._renewal is not None:
            self._renewal.cancel()
            await asyncio.gather(self._renewal, return_exceptions=True)
        if self._producer is not None:
            self._retire(self._producer)
            self._producer = None
        if self._retiring:
            await asyncio.wait(set(self._retiring), timeout=RETIRE_SECONDS)

    async def append(self, events: Sequence[Event]) -> list[Delivery]:
        if not events:
            return []
        producer = self._producer
        if producer is None:
            raise Unavailable("no producer")
        if _sender_stopped(producer):
            self._renew("sender_stopped")
            raise Unavailable("producer sender stopped")
        records = [(event.subject.encode(), *encode_event(self._contract, event)) for event in events]
        oversized = [DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers) > MAX_RECORD_BYTES
                     for key, value, headers in records]
        if any(oversized):
            # Checked before anything is sent, so no part of a refused submission lands.
            return [Delivery.REFUSED if big else Delivery.FAILED for big in oversized]
        try:
            async with asyncio.timeout(self._timeout):
                pending = [await producer.send(EVENTS.name, value, key=key, headers=headers)
                           for key, value, headers in records]
                results = await asyncio.gather(*pending, return_exceptions=True)
        except TOO_LARGE:
            # The producer's own size check, reached only if its limit is set below MAX_RECORD_BYTES.
            return [Delivery.REFUSED] * len(events)
        except (TimeoutError, KafkaError) as exc:
            self._unacknowledged()
            raise Unavailable(type(exc).__name__) from exc
        deliveries = [_delivery(r) for r in results]
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            log.warning("event log: %d of %d records failed (%s)", len(failed), len(results),
                        ", ".join(sorted({type(r).__name__ for r in failed})))
            self._renew("batch_failed")
        else:
            self._last_ack, self._timeouts = time.monotonic(), 0
        return deliveries

    def _unacknowledged(self) -> None:
        self._timeouts += 1
        if self._timeouts >= STALLED_TIMEOUTS and time.monotonic() - self._last_ack > STALLED_TIMEOUTS * self._timeout:
            self._renew("stalled")

    def _renew(self, reason: str) -> None:
        """Start one replacement producer in the background (at most once per publish timeout)."""
        now = time.monotonic()
        if (self._renewal is not None and not self._renewal.done()) or now - self._last_renewal < self._timeout:
            return
        self._last_renewal = now
        self._metrics.producer_renewed(reason)
        log.warning("event log: renewing the Kafka producer (%s)", reason)
        self._renewal = asyncio.create_task(self._replace())

    async def _replace(self) -> None:
        fresh = self._connect()
        try:
            async with asyncio.timeout(max(self._timeout, 5.0)):
                await fresh.start()
        except (TimeoutError, KafkaError, OSError) as exc:
            log.warning("event log: new producer not started (%s); the next failure tries again", type(exc).__name__)
            self._retire(fresh)
            return
        old, self._producer = self._producer, fresh
        self._last_ack, self._timeouts = time.monotonic(), 0
        if old is not None:
            self._retire(old)

    def _retire(self, producer: AIOKafkaProducer) -> None:
        task = asyncio.create_task(_close(producer))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)


async def _close(producer: AIOKafkaProducer) -> None:
    try:
        async with asyncio.timeout(RETIRE_SECONDS):
            await producer.stop()
    except (TimeoutError, KafkaError, OSError) as exc:
        log.warning("event log: retired producer did not close cleanly (%s)", type(exc).__name__)


def _sender_stopped(producer: AIOKafkaProducer) -> bool:
    sender = getattr(producer, "_sender", None)
    task = getattr(sender, "sender_task", None)
    return task is not None and task.done()


def _delivery(result: object) -> Delivery:
    if not isinstance(result, BaseException):
        return Delivery.WRITTEN
    return Delivery.REFUSED if isinstance(result, TOO_LARGE) else Delivery.FAILED
