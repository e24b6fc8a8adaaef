"""EventLog on Kafka: assist.events, keyed by person id, on the services' renewing producer (services/core/
producer.py: a failed batch or a stopped sender starts a new producer). Three publish timeouts in a row, spanning
as many timeouts without an acknowledgement, renew it too. Requests answered 503 meanwhile may still land once
(at least once; consumers keep one record per event id).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from aiokafka.errors import KafkaError
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from services.core.codec import Contract, Event, encode_event
from services.core.producer import TOO_LARGE, RenewingProducer
from services.core.topics import EVENTS
from services.intake.service import Delivery, Unavailable

log = logging.getLogger(__name__)

STALLED_TIMEOUTS = 3  # consecutive publish timeouts, spanning as many timeouts, before the producer is renewed
MAX_RECORD_BYTES = 1_000_000  # below the producer's max_request_size and the broker's message.max.bytes (1 MiB)


class KafkaEventLog:
    def __init__(self, producer: RenewingProducer, contract: Contract, timeout_seconds: float):
        self._producer = producer
        self._contract = contract
        self._timeout = timeout_seconds
        self._last_ack = time.monotonic()
        self._timeouts = 0  # publish timeouts since the last acknowledgement

    async def start(self) -> None:
        await self._producer.start()
        self._last_ack = time.monotonic()

    async def stop(self) -> None:
        await self._producer.stop()

    async def append(self, events: Sequence[Event]) -> list[Delivery]:
        if not events:
            return []
        records = [(event.subject.encode(), *encode_event(self._contract, event)) for event in events]
        oversized = [DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers) > MAX_RECORD_BYTES
                     for key, value, headers in records]
        if any(oversized):
            # Checked before anything is sent, so no part of a refused submission lands.
            return [Delivery.REFUSED if big else Delivery.FAILED for big in oversized]
        try:
            async with asyncio.timeout(self._timeout):
                pending = [await self._producer.send(EVENTS.name, value, key=key, headers=headers)
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
        if failed:  # the producer renews itself after a failed batch
            log.warning("event log: %d of %d records failed (%s)", len(failed), len(results),
                        ", ".join(sorted({type(r).__name__ for r in failed})))
        else:
            self._last_ack, self._timeouts = time.monotonic(), 0
        return deliveries

    def _unacknowledged(self) -> None:
        self._timeouts += 1
        if self._timeouts >= STALLED_TIMEOUTS and time.monotonic() - self._last_ack > STALLED_TIMEOUTS * self._timeout:
            self._producer.renew("stalled")
            self._last_ack, self._timeouts = time.monotonic(), 0


def _delivery(result: object) -> Delivery:
    if not isinstance(result, BaseException):
        return Delivery.WRITTEN
    return Delivery.REFUSED if isinstance(result, TOO_LARGE) else Delivery.FAILED
