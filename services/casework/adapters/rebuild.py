"""Rebuilds the Redis view from the record: assist.decisions and assist.tasks read from the beginning to their
current ends by a consumer of no group, each task's transitions applied in order.

While it runs every script refuses to change anything and the outbox publisher stands down; the outbox is sent
first, so every transition already made is on assist.decisions before it is read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis

from services.casework.adapters.outbox import LEADER_MS, OutboxPublisher
from services.casework.adapters.records import transition_from_decision
from services.casework.adapters.redis_layout import (
    RECEIPT_ENTRY_ID,
    Keys,
    audit_entry,
    progress_fields,
    receipt_entry,
    revision_entry,
    task_fields,
)
from services.casework.adapters.task_feed import readable_answer, readable_tasks
from services.casework.domain.ordering import queue_score
from services.casework.domain.replay import Replayed, replay_task, transitions_by_task
from services.casework.domain.revisions import Publications, fold_one, holders_at_withdrawals, withdrawn
from services.casework.domain.tasks import Status, Transition
from services.core.application_views import RedisApplications, submissions
from services.core.codec import Contract, decode_record
from services.core.dead_letter import Reason
from services.core.history import RELEASE, HistoryReader, clear_view
from services.core.progress_report import ProgressReport
from services.core.resident_applications import CASEWORK_CONSOLE_SOURCE
from services.core.topics import APPLICATION_ANSWERS, DECISIONS, EVENTS, TASKS

log = logging.getLogger(__name__)
LOCK_SECONDS = 120
WRITE_BATCH = 500
KEPT = (":outbox", ":outbox:rejected", ":outbox:publisher", ":rebuilding")


class RebuildRunning(Exception):
    """Another rebuild holds the lock."""


@dataclass(frozen=True)
class RebuildReport:
    tasks: int
    transitions: int
    drained: int
    inconsistent: int
    seconds: float


async def declare_built(redis: Redis, keys: Keys) -> None:
    """Declare an empty view built: for a deployment that starts at the end of the topics' history."""
    await redis.set(keys.built, dt.datetime.now(dt.UTC).isoformat(), nx=True)


class Rebuilder:
    def __init__(self, redis: Redis, keys: Keys, contract: Contract, bootstrap: str, publisher: OutboxPublisher):
        self._redis = redis
        self._keys = keys
        self._contract = contract
        self._bootstrap = bootstrap
        self._publisher = publisher
        self._me = uuid.uuid4().hex
        self._release = redis.register_script(RELEASE)

    async def ensure_built(self) -> RebuildReport | None:
        """Rebuild when the view is missing (a new deployment, or a Redis that lost its data)."""
        if await self._redis.exists(self._keys.built):
            return None
        log.warning("casework view missing in Redis: rebuilding from %s and %s", TASKS.name, DECISIONS.name)
        return await self.rebuild()

    async def rebuild(self, progress: ProgressReport | None = None) -> RebuildReport:
        """Rebuild the view; `progress` counts the records of assist.decisions and assist.tasks read (its total,
        the topics' end offsets, is an upper bound where retention removed their oldest records)."""
        started = time.monotonic()
        if not await self._redis.set(self._keys.rebuilding, self._me, nx=True, ex=LOCK_SECONDS):
            raise RebuildRunning("a rebuild is already running")
        keep_alive = asyncio.create_task(self._keep_alive())
        try:
            await self._take_publisher()
            drained = await self._publisher.drain()
            report = await self._rebuild(drained, progress)
        finally:
            keep_alive.cancel()
            await self._release(keys=[self._keys.publisher], args=[self._me])
            await self._release(keys=[self._keys.rebuilding], args=[self._me])
        log.info("casework view rebuilt: %d tasks, %d transitions in %.1f s", report.tasks, report.transitions,
                 time.monotonic() - started)
        return RebuildReport(report.tasks, report.transitions, drained, report.inconsistent,
                             time.monotonic() - started)

    async def _rebuild(self, drained: int, progress: ProgressReport | None) -> RebuildReport:
        async with HistoryReader(self._bootstrap, (DECISIONS, TASKS, APPLICATION_ANSWERS, EVENTS),
                                 "assist-casework-rebuild") as reader:
            if progress is not None:
                read = (DECISIONS.name, TASKS.name)
                progress.retotal(sum(end for tp, end in reader.ends.items() if tp.topic in read))
            decisions: list[tuple[str, Transition]] = []
            async for record in reader.records(DECISIONS):
                if progress is not None:
                    progress.advance()
                value = decode_record(self._contract, "decision", record.value or b"")
                step = transition_from_decision(value, record.headers)
                if step is not None:
                    decisions.append((str(value["task_id"]), step))
            steps = transitions_by_task(decisions)
            folded: dict[str, Publications] = {}
            async for record in reader.records(TASKS):
                if progress is not None:
                    progress.advance()
                for task in readable_tasks(self._contract, [record]):
                    fold_one(folded, task)
            await self._clear()
            inconsistent = 0
            batch: list[tuple[Publications, Replayed]] = []
            for publications in folded.values():
                replayed = replay_task(publications.task, steps.get(publications.first.task_id, ()))
                inconsistent += not replayed.consistent
                batch.append((publications, replayed))
                if len(batch) >= WRITE_BATCH:
                    await self._write(batch)
                    batch = []
            await self._write(batch)
            await self._applications(reader)
        await self._redis.set(self._keys.built, dt.datetime.now(dt.UTC).isoformat())
        if inconsistent:
            log.error("%d tasks have gaps in their transitions; their consistent history was applied", inconsistent)
        return RebuildReport(len(folded), len(decisions), drained, inconsistent, 0.0)

    async def _applications(self, reader: HistoryReader) -> None:
        """Applications made from the console (assist.events, source the console) and every answer."""
        store = RedisApplications(self._redis, self._keys.prefix)
        async for application in submissions(reader, self._contract, CASEWORK_CONSOLE_SOURCE):
            await store.submitted(application)
        async for record in reader.records(APPLICATION_ANSWERS):
            answer = readable_answer(self._contract, record)
            if not isinstance(answer, Reason):
                await store.answered(answer)

    async def _take_publisher(self) -> None:
        """Wait for the running publisher to stand down (it does at its next turn), then hold its lease."""
        deadline = time.monotonic() + 3 * LEADER_MS / 1000
        while not await self._redis.set(self._keys.publisher, self._me, nx=True, px=LOCK_SECONDS * 1000):
            if time.monotonic() > deadline:
                raise RebuildRunning("the outbox publisher did not stand down")
            await asyncio.sleep(0.1)

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(LOCK_SECONDS / 4)
            await self._redis.expire(self._keys.rebuilding, LOCK_SECONDS)
            await self._redis.expire(self._keys.publisher, LOCK_SECONDS)

    async def _clear(self) -> None:
        await clear_view(self._redis, self._keys.prefix, {self._keys.prefix + suffix for suffix in KEPT})

    async def _write(self, batch: list[tuple[Publications, Replayed]]) -> None:
        """One pipeline per batch; sorted-set and set members are grouped into one command per key. A withdrawn
        task's transitions all came before its withdrawal (the scripts refuse any after it); a reinstated one's
        claim was released by a transition of its reinstatement, so its transitions fold to where it stands."""
        if not batch:
            return
        keys = self._keys
        pipe = self._redis.pipeline(transaction=False)
        members: dict[str, dict[str, int]] = {}
        queues: set[str] = set()
        for publications, r in batch:
            task, progress, task_id = r.task, r.progress, r.task.task_id
            held_by = holders_at_withdrawals(publications, r.steps)
            if publications.withdrawn:
                progress = withdrawn(progress)
            pipe.hset(keys.task(task_id), mapping=cast(Any, task_fields(task, publications.number)
                                                       | progress_fields(progress)))
            pipe.xadd(keys.audit(task_id), receipt_entry(publications.first),  # type: ignore[arg-type]
                      id=RECEIPT_ENTRY_ID)
            pipe.sadd(keys.household(task.household_id), task_id)
            for step in r.steps:
                entry_id, fields = audit_entry(step)
                pipe.xadd(keys.audit(task_id), fields, id=entry_id)  # type: ignore[arg-type]
            for number, revision in publications.revisions:
                entry = revision_entry(revision)
                if revision.withdrawn:
                    entry["held_by"] = held_by[number]
                pipe.xadd(keys.revisions(task_id), entry, id=f"{number}-1")  # type: ignore[arg-type]
            score = queue_score(task.priority, task.due_ms)
            if progress.status is Status.QUEUED:
                members.setdefault(keys.queue(progress.queue), {})[task_id] = score
            elif progress.status is Status.CLAIMED:
                members.setdefault(keys.held(progress.queue), {})[task_id] = score
                members.setdefault(keys.leases, {})[task_id] = progress.lease_until_ms
            if not progress.status.closed and not progress.escalated:
                members.setdefault(keys.due, {})[task_id] = task.due_ms
            queues |= r.queues
        for key, scored in members.items():
            pipe.zadd(key, cast(Any, scored))
        pipe.sadd(keys.queues, *queues)
        await pipe.execute()
