"""The services' Kafka producer: acks=all, idempotent, and renewed when aiokafka cannot recover by itself.

aiokafka's idempotent producer numbers each partition's batches when it drains them. A batch that is then
failed without the broker taking it (it expired while its partition had no leader, as happens while a restarted
broker elects leaders, or the broker refused it) leaves a gap the broker never fills: from then on every batch
on that partition is answered OutOfOrderSequenceNumber and aiokafka never asks for a new producer id. So a failed
batch, a stopped sender, or `renew()` from a caller that saw no acknowledgement for too long, retires the producer
and starts a new one in the background (new producer id, sequences from 0). Sends failed meanwhile are the
caller's to retry, as after any outage: at least once, and every consumer keeps one record per id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from aiokafka.structs import RecordMetadata

log = logging.getLogger(__name__)

TOO_LARGE = (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)
"""Failures of one record's size: the record's fault, not the producer's."""
RETIRE_SECONDS = 30.0  # how long a retired producer may take to flush and close
Headers = Sequence[tuple[str, bytes | None]]


class Producer(Protocol):
    """What the services need of a Kafka producer (RenewingProducer, or aiokafka's own in tests)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                   partition: int | None = None, timestamp_ms: int | None = None,
                   headers: Headers | None = None) -> asyncio.Future[RecordMetadata]:
        """Queue a record; the future says when the broker took it (or why not)."""

    async def send_and_wait(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                            partition: int | None = None, timestamp_ms: int | None = None,
                            headers: Headers | None = None) -> RecordMetadata:
        """Send a record and wait until the broker took it."""


class RenewingProducer:
    """One aiokafka producer at a time, replaced as the module docstring says. `connect` builds a new, unstarted
    producer; `renewed(reason)` is told of each renewal (a metric)."""

    def __init__(self, connect: Callable[[], AIOKafkaProducer], *, start_timeout_seconds: float = 10.0,
                 renewed: Callable[[str], None] = lambda reason: None, what: str = "producer"):
        self._connect, self._start_timeout, self._renewed, self._what = connect, start_timeout_seconds, renewed, what
        self._producer: AIOKafkaProducer | None = None
        self._renewal: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        self._last_renewal = 0.0

    async def start(self) -> None:
        producer = self._connect()
        await producer.start()
        self._producer = producer

    async def stop(self) -> None:
        if self._renewal is not None:
            self._renewal.cancel()
            await asyncio.gather(self._renewal, return_exceptions=True)
        if self._producer is not None:
            self._retire(self._producer)
            self._producer = None
        if self._retiring:
            await asyncio.wait(set(self._retiring), timeout=RETIRE_SECONDS)

    async def send(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                   partition: int | None = None, timestamp_ms: int | None = None,
                   headers: Headers | None = None) -> asyncio.Future[RecordMetadata]:
        producer = self._producer
        if producer is None:
            raise KafkaConnectionError(f"{self._what}: not started, or being renewed")
        if sender_stopped(producer):
            self.renew("sender_stopped")
            raise KafkaConnectionError(f"{self._what}: its sender stopped; a new producer is starting")
        future: asyncio.Future[RecordMetadata] = await producer.send(
            topic, value, key=key, partition=partition, timestamp_ms=timestamp_ms,
            headers=list(headers) if headers is not None else None)
        future.add_done_callback(self._delivered)
        return future

    async def send_and_wait(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                            partition: int | None = None, timestamp_ms: int | None = None,
                            headers: Headers | None = None) -> RecordMetadata:
        return await (await self.send(topic, value, key, partition, timestamp_ms, headers))

    @property
    def client(self) -> Any:
        """The current producer's aiokafka client (for a readiness check's metadata request)."""
        if self._producer is None:
            raise KafkaConnectionError(f"{self._what}: not started")
        return self._producer.client

    def renew(self, reason: str) -> None:
        """Start one replacement producer in the background (at most once per start timeout)."""
        now = time.monotonic()
        if (self._renewal is not None and not self._renewal.done()) or now - self._last_renewal < self._start_timeout:
            return
        self._last_renewal = now
        self._renewed(reason)
        log.warning("%s: renewing the Kafka producer (%s)", self._what, reason)
        self._renewal = asyncio.create_task(self._replace())

    def _delivered(self, future: asyncio.Future[RecordMetadata]) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None and not isinstance(exc, TOO_LARGE):
            self.renew("batch_failed")

    async def _replace(self) -> None:
        fresh = self._connect()
        try:
            async with asyncio.timeout(self._start_timeout):
                await fresh.start()
        except (TimeoutError, KafkaError, OSError) as exc:
            log.warning("%s: new producer not started (%s); the next failure tries again", self._what,
                        type(exc).__name__)
            self._retire(fresh)
            return
        old, self._producer = self._producer, fresh
        if old is not None:
            self._retire(old)

    def _retire(self, producer: AIOKafkaProducer) -> None:
        task = asyncio.create_task(self._close(producer))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _close(self, producer: AIOKafkaProducer) -> None:
        try:
            async with asyncio.timeout(RETIRE_SECONDS):
                await producer.stop()
        except (TimeoutError, KafkaError, OSError) as exc:
            log.warning("%s: retired producer did not close cleanly (%s)", self._what, type(exc).__name__)


def sender_stopped(producer: AIOKafkaProducer) -> bool:
    """Whether aiokafka's background sender ended: nothing queued on `producer` will ever be sent."""
    sender = getattr(producer, "_sender", None)
    task = getattr(sender, "sender_task", None)
    return task is not None and task.done()
