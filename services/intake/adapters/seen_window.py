"""Rebuilds intake's idempotency window from the record: assist.events from the offsets of `now - window` to the
ends they had when it started, read by a consumer of no group; each event's key (department, source, id from its
headers) is written 'published' for what is left of its window, then the window is declared built.

While the marker is missing every claim is refused (503 with Retry-After), so an event re-sent after a wipe is
never taken for new. The rebuild holds a lock in Redis, so one intake process rebuilds while the others wait.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass

from aiokafka.errors import KafkaError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.core.codec import header
from services.core.history import HistoryReader, RebuildLock
from services.core.topics import EVENTS
from services.intake.adapters.redis_seen import WINDOW_BUILT, WINDOW_REBUILDING, seen_key
from services.intake.domain.window import remembered

log = logging.getLogger(__name__)
LOCK_SECONDS = 120
WRITE_BATCH = 2000


class RebuildRunning(Exception):
    """Another intake process holds the lock."""


@dataclass(frozen=True)
class WindowReport:
    events: int
    """Records read from assist.events."""
    remembered: int
    """Keys written: events of a department whose window has not passed."""
    seconds: float


class WindowRebuilder:
    def __init__(self, redis: Redis, window_seconds: int, bootstrap: str):
        self._redis = redis
        self._window = window_seconds
        self._bootstrap = bootstrap
        self._running: asyncio.Task[WindowReport | None] | None = None

    async def ensure_built(self) -> WindowReport | None:
        """Rebuild when the window is missing (a new deployment, or a Redis that lost its data); None when it
        is there, or another process is rebuilding it."""
        if await self._redis.exists(WINDOW_BUILT):
            return None
        log.warning("intake's idempotency window missing in Redis: rebuilding from %s", EVENTS.name)
        try:
            return await self.rebuild()
        except RebuildRunning:
            return None

    async def try_ensure_built(self) -> WindowReport | None:
        """`ensure_built`, but a Redis or broker that cannot answer now is only logged: claims stay refused until
        the window is there, and the next refused claim tries again (so intake starts without Redis)."""
        try:
            return await self.ensure_built()
        except (RedisError, KafkaError, OSError, TimeoutError) as exc:
            log.warning("idempotency window rebuild failed: %s: %s", type(exc).__name__, exc)
            return None

    def window_missing(self) -> None:
        """A claim found the window missing: rebuild in the background unless this process already does."""
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self.try_ensure_built())

    async def stop(self) -> None:
        if self._running is not None:
            self._running.cancel()
            await asyncio.gather(self._running, return_exceptions=True)

    async def rebuild(self) -> WindowReport:
        started = time.monotonic()
        lock = RebuildLock(self._redis, WINDOW_REBUILDING, LOCK_SECONDS)
        if not await lock.take():
            raise RebuildRunning("an idempotency window rebuild is already running")
        try:
            events, kept = await self._rebuild()
        finally:
            await lock.release()
        report = WindowReport(events, kept, time.monotonic() - started)
        log.info("idempotency window rebuilt: %d events read, %d remembered in %.2f s", report.events,
                 report.remembered, report.seconds)
        return report

    async def _rebuild(self) -> tuple[int, int]:
        now_ms = int(time.time() * 1000)
        events = kept = 0
        async with HistoryReader(self._bootstrap, (EVENTS,), "assist-intake-rebuild-seen") as reader:
            since = await reader.offsets_since(EVENTS, now_ms - self._window * 1000)
            pipe = self._redis.pipeline(transaction=False)
            async for record in reader.records(EVENTS, since):
                events += 1
                event = remembered(header(record.headers, "ce_source"), header(record.headers, "ce_id"),
                                   record.timestamp, now_ms, self._window)
                if event is None:
                    continue
                pipe.set(seen_key(event.department, event.source, event.event_id), "published", ex=event.seconds)
                kept += 1
                if len(pipe) >= WRITE_BATCH:
                    await pipe.execute()
            await pipe.execute()
        await self._redis.set(WINDOW_BUILT, dt.datetime.now(dt.UTC).isoformat())
        return events, kept
