"""Applications made from the console, published onto assist.events. The API process starts its producer with
the first application, so the console serves (and decides) while the broker is away; only applying waits for it."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.casework.service import Unavailable
from services.core.codec import Contract, Event
from services.core.kafka import durable_producer
from services.core.resident_applications import publish_application

log = logging.getLogger(__name__)


class KafkaApplicationLog:
    def __init__(self, bootstrap: str, contract: Contract, timeout_seconds: float,
                 producer: AIOKafkaProducer | None = None):
        self._bootstrap, self._contract, self._timeout = bootstrap, contract, timeout_seconds
        self._producer = producer
        self._own: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def submit(self, event: Event) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await publish_application(await self._started(), self._contract, event)
        except (KafkaError, TimeoutError) as exc:
            raise Unavailable(f"the application was not acknowledged by the event log ({type(exc).__name__}); "
                              "nothing was applied for, try again") from None
        except LookupError as exc:  # a deployment whose schemas/ lacks the event: nothing can be published yet
            log.error("%s", exc)
            raise Unavailable(str(exc)) from None

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        async with self._lock:
            if self._own is None:
                producer = durable_producer(self._bootstrap, "assist-casework-applications",
                                            request_timeout_ms=int(self._timeout * 1000))
                await producer.start()
                self._own = producer
            return self._own

    async def close(self) -> None:
        if self._own is not None:
            await self._own.stop()
