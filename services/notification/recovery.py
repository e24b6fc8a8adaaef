"""The worker's watch over its Redis state: when the marker of a complete build is gone (Redis restarted without
its data, or was wiped), consuming and delivering pause, the state is rebuilt from the topics, then both resume."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from redis.exceptions import RedisError

from services.notification.adapters.kafka_inbound import TOPICS
from services.notification.adapters.rebuild import Rebuilder, RebuildReport, RebuildRunning
from services.notification.scheduler import Scheduler

log = logging.getLogger(__name__)
WATCH_SECONDS = 1.0


async def deployment_start(consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
    """Where a new deployment begins: its group's committed positions (none: the beginning)."""
    since: dict[TopicPartition, int] = {}
    for topic in TOPICS:
        for partition in range(topic.partitions):
            tp = TopicPartition(topic.name, partition)
            committed = await consumer.committed(tp)
            since[tp] = committed if committed is not None and committed >= 0 else 0
    return since


class Recovery:
    def __init__(self, rebuilder: Rebuilder, scheduler: Scheduler, watch_seconds: float = WATCH_SECONDS):
        self._rebuilder, self._scheduler, self._watch = rebuilder, scheduler, watch_seconds
        self._since: dict[TopicPartition, int] = {}
        self.reports: list[RebuildReport] = []

    async def start(self, consumer: AIOKafkaConsumer) -> None:
        """Take the marker's starting point; without a marker this is a new deployment starting at its group's
        positions (after a loss of Redis data while no worker ran, use `python -m services.notification rebuild`)."""
        since = await self._rebuilder.marker.since()
        if since is None:
            since = await deployment_start(consumer)
            await self._rebuilder.marker.declare(since)
            log.info("notification state declared built: a new deployment starting at its group's positions")
        self._since = since

    async def ready(self) -> None:
        """For the consumer, before each batch: raises while the state is missing or being rebuilt."""
        await self._rebuilder.marker.check_built()

    async def run(self, stop: asyncio.Event) -> None:
        """Every `watch_seconds`: rebuild when the marker is gone."""
        while not stop.is_set():
            try:
                await self.ensure_built()
            except (RedisError, KafkaError, OSError) as exc:
                self._scheduler.open.set()
                log.warning("notification state check skipped (%s)", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._watch)

    async def ensure_built(self) -> RebuildReport | None:
        if await self._rebuilder.marker.since() is not None:
            self._scheduler.open.set()
            return None
        self._scheduler.open.clear()
        log.warning("notification state missing in Redis: pausing and rebuilding from the topics")
        await self._scheduler.idle(within_seconds=60)
        try:
            report = await self._rebuilder.rebuild(self._since)
        except RebuildRunning:
            return None  # another worker rebuilds; this one waits for the marker
        self.reports.append(report)
        self._scheduler.open.set()
        return report
