"""Readiness: whether a process can do its work now, for Kubernetes and compose probes and `./run stack status`.

Live (/healthz, services/core/process.py) means the process works: its long-lived tasks run. Ready (/readyz) means
it reaches Kafka and Redis and, for a consumer, that it was assigned partitions and none of them is stalled
(records wait on it and its position has not moved for `stall_seconds`). Each check answers None when fine or the
reason when not, never the data being handled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

Check = Callable[[], Awaitable[str | None]]
"""None when fine, otherwise why the process is not ready."""
CHECK_SECONDS = 2.0
STALL_SECONDS = 120.0


@dataclass(frozen=True)
class Seen:
    """A partition's position and when it last changed."""

    position: int
    since: float


def stalled(previous: Mapping[tuple[str, int], Seen], positions: Mapping[tuple[str, int], tuple[int, int | None]],
            now: float, stall_seconds: float) -> tuple[dict[tuple[str, int], Seen], list[str]]:
    """The new record of positions and the partitions that are stalled: records wait (the highwater is past the
    position) and the position has not changed for `stall_seconds` (pure). `positions` maps each assigned
    partition to (position, highwater or None when not known yet). The time without progress counts while records
    wait, not while a partition is idle: one idle for longer than the stall time is not stalled the moment its next
    record arrives."""
    seen: dict[tuple[str, int], Seen] = {}
    found: list[str] = []
    for tp, (position, highwater) in sorted(positions.items()):
        before = previous.get(tp)
        waiting = 0 if highwater is None else highwater - position
        kept = before is not None and before.position == position and waiting > 0
        seen[tp] = before if kept and before is not None else Seen(position, now)
        if waiting > 0 and now - seen[tp].since >= stall_seconds:
            found.append(f"{tp[0]}/{tp[1]} has not moved for {now - seen[tp].since:.0f} s with {waiting} records "
                         "waiting")
    return seen, found


class Pingable(Protocol):
    def ping(self, **kwargs: Any) -> Awaitable[Any]: ...


def redis_answers(redis: Pingable) -> Check:
    async def check() -> str | None:
        try:
            await redis.ping()
        except Exception as exc:  # redis' own errors, OSError, timeouts: all mean "not now"
            return f"Redis does not answer ({type(exc).__name__})"
        return None
    return check


def kafka_answers(fetch_metadata: Callable[[], Awaitable[Any]]) -> Check:
    """Kafka answers a metadata request (e.g. `producer.client.fetch_all_metadata`, `consumer.topics`)."""
    async def check() -> str | None:
        try:
            await fetch_metadata()
        except Exception as exc:
            return f"Kafka does not answer ({type(exc).__name__})"
        return None
    return check


class ConsumerProgress:
    """A consumer is ready when it has partitions and none is stalled (aiokafka's AIOKafkaConsumer)."""

    def __init__(self, consumer: Any, stall_seconds: float = STALL_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self._consumer, self._stall_seconds, self._clock = consumer, stall_seconds, clock
        self._seen: dict[tuple[str, int], Seen] = {}

    async def __call__(self) -> str | None:
        assigned = self._consumer.assignment()
        if not assigned:
            return "no partitions assigned (yet)"
        positions = {(tp.topic, tp.partition): (await self._consumer.position(tp), self._consumer.highwater(tp))
                     for tp in assigned}
        self._seen, found = stalled(self._seen, positions, self._clock(), self._stall_seconds)
        return "; ".join(found) or None


class Readiness:
    """What /readyz answers: 200 when every check passes, 503 naming each failing check and why."""

    def __init__(self, checks: Mapping[str, Check], check_seconds: float = CHECK_SECONDS):
        self._checks, self._check_seconds = dict(checks), check_seconds

    async def failing(self) -> dict[str, str]:
        async def one(name: str, check: Check) -> tuple[str, str | None]:
            try:
                return name, await asyncio.wait_for(check(), self._check_seconds)
            except TimeoutError:
                return name, f"no answer within {self._check_seconds:.0f} s"
        results = await asyncio.gather(*(one(n, c) for n, c in self._checks.items()))
        return {name: reason for name, reason in results if reason is not None}

    async def endpoint(self, request: web.Request) -> web.Response:
        failing = await self.failing()
        checks = {name: failing.get(name, "ok") for name in self._checks}
        if failing:
            return web.json_response({"status": "not ready", "checks": checks}, status=503)
        return web.json_response({"status": "ready", "checks": checks})
