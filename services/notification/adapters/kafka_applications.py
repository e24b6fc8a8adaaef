"""The citizen page's applications on Kafka: application events published onto assist.events."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.core.codec import Contract, Event
from services.core.resident_applications import publish_application
from services.notification.ports import Unavailable

log = logging.getLogger(__name__)


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
