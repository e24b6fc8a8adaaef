"""The casework worker: takes tasks in from assist.tasks, publishes the outbox to assist.decisions, returns
expired leases to their queues, escalates breaches, and rebuilds the view when Redis lost it."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from redis.exceptions import RedisError

from services.casework.adapters.outbox import OutboxPublisher
from services.casework.adapters.rebuild import Rebuilder, RebuildRunning
from services.casework.adapters.task_feed import TaskFeed, task_dead_letters
from services.casework.service import Casework, Unavailable
from services.casework.wiring import CaseworkParts

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0


async def run_worker(parts: CaseworkParts, consumer: AIOKafkaConsumer, bootstrap: str, stop: asyncio.Event,
                     tick_seconds: float = TICK_SECONDS) -> None:
    """Run every loop of the worker until `stop` is set. The view is built (or rebuilt) before tasks are read."""
    rebuilder = parts.rebuilder(bootstrap)
    await rebuilder.ensure_built()
    assert parts.producer is not None, "the worker publishes"
    feed = TaskFeed(consumer, parts.board, parts.contract, parts.metrics,
                    task_dead_letters(parts.producer, parts.metrics), parts.applications)
    publisher: OutboxPublisher = parts.publisher()
    await asyncio.gather(feed.run(stop), publisher.run(stop), timers(parts.casework, rebuilder, stop, tick_seconds))


async def timers(casework: Casework, rebuilder: Rebuilder, stop: asyncio.Event, tick_seconds: float) -> None:
    """Each tick: rebuild if the view vanished, return expired leases, escalate breaches."""
    while not stop.is_set():
        try:
            await rebuilder.ensure_built()
            while await casework.expire_leases() > 0 and not stop.is_set():
                pass
            while await casework.escalate_breaches() > 0 and not stop.is_set():
                pass
        except (Unavailable, RebuildRunning):
            pass  # a rebuild is running; the next tick sees its result
        except (RedisError, KafkaError, OSError) as exc:
            log.warning("casework timers skipped a tick (%s)", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), tick_seconds)
