"""The retry scheduler: takes due delivery jobs from the store (new offers, retries whose backoff is over, messages
whose quiet hours ended, jobs whose worker died) and runs their next step, a bounded number at a time."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from aiokafka.errors import KafkaError
from redis.exceptions import RedisError

from services.notification.delivery import Delivery
from services.notification.metrics import NotificationMetrics
from services.notification.ports import DeliveryJobs, Unavailable

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, delivery: Delivery, jobs: DeliveryJobs, metrics: NotificationMetrics, concurrency: int = 32,
                 poll_seconds: float = 0.1, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self._delivery, self._jobs, self._metrics = delivery, jobs, metrics
        self._concurrency, self._poll, self._clock = concurrency, poll_seconds, clock
        self._running: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self.open = asyncio.Event()
        """Cleared while the store is rebuilt: no job is claimed."""
        self.open.set()

    async def idle(self, within_seconds: float) -> bool:
        """Wait (up to `within_seconds`) for the steps under way to finish; whether they did."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=within_seconds)
        return not self._running

    async def run(self, stop: asyncio.Event) -> None:
        """Run steps until `stop` is set, then let the steps under way finish."""
        while not stop.is_set():
            free = self._concurrency - len(self._running)
            claimed: list[str] = []
            if free > 0 and self.open.is_set():
                try:
                    claimed = await self._jobs.claim_due(self._clock(), free, self._delivery.lease_seconds)
                except RedisError as exc:
                    log.warning("cannot read the schedule (%s)", type(exc).__name__)
            for offer_id in claimed:
                task = asyncio.create_task(self._step(offer_id))
                self._running.add(task)
                task.add_done_callback(self._done)
            if len(claimed) < free or free <= 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll)
        if self._running:
            await asyncio.wait(self._running, timeout=self._delivery.lease_seconds)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()

    async def _step(self, offer_id: str) -> None:
        try:
            await self._delivery.step(offer_id)
        except (Unavailable, KafkaError, RedisError, OSError) as exc:
            # The job keeps its lease and comes due again when it runs out.
            log.warning("step for offer %s interrupted (%s); it will be retried", offer_id, type(exc).__name__)
        except Exception:
            log.exception("step for offer %s failed; it will be retried after its lease", offer_id)
