"""The citizen page's applications on Kafka: the programme list read from assist.policies (kept a minute, read
again when older), and application events published onto assist.events."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.core.codec import Contract, Event
from services.core.resident_applications import Programmes, publish_application, read_programmes
from services.notification.ports import Unavailable

log = logging.getLogger(__name__)
READ_TIMEOUT_SECONDS = 10.0


class CatalogueProgrammes:
    """ProgrammeSource over assist.policies: the current version of one catalogue, read at most every `ttl`."""

    def __init__(self, bootstrap: str, contract: Contract, catalogue: str, ttl_seconds: float = 60.0):
        self._bootstrap, self._contract, self._catalogue, self._ttl = bootstrap, contract, catalogue, ttl_seconds
        self._read_at = -ttl_seconds
        self._programmes: Programmes | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> Programmes | None:
        async with self._lock:
            if time.monotonic() - self._read_at >= self._ttl:
                try:
                    async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                        self._programmes = await read_programmes(self._bootstrap, self._contract, self._catalogue,
                                                                 dt.date.today(), "assist-citizen-catalogue")
                    self._read_at = time.monotonic()
                except (KafkaError, TimeoutError, OSError) as exc:  # keep what was read; try again next time
                    log.warning("policy catalogue not read (%s); keeping the last one read", type(exc).__name__)
            return self._programmes


class KafkaApplicationLog:
    def __init__(self, producer: AIOKafkaProducer, contract: Contract, timeout_seconds: float):
        self._producer, self._contract, self._timeout = producer, contract, timeout_seconds

    async def submit(self, event: Event) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await publish_application(self._producer, self._contract, event)
        except (KafkaError, TimeoutError) as exc:
            raise Unavailable(f"application not acknowledged by the log ({type(exc).__name__})") from None
        except LookupError as exc:  # a deployment whose schemas/ lacks the event: nothing can be published yet
            log.error("%s", exc)
            raise Unavailable(str(exc)) from None
