"""The read side of the task board in Redis: queue listings, task pages, queue depths."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from redis.asyncio import Redis

from services.casework.adapters.redis_layout import Keys, progress_of, revision_of_entry, task_of
from services.casework.domain.ordering import PriorityBand, QueueFilter
from services.casework.domain.tasks import Status, Verdict
from services.casework.domain.views import AuditEntry, Listing, QueueDepth, QueueItem, TaskPage

SCAN_BUDGET = 20_000
"""Entries a listing looks at, at most, when a filter needs each task's fields (district, policy)."""
CHUNK = 500
_DECISIONS = frozenset(v.value for v in Verdict)
_SUMMARY = ("id", "kind", "district", "queue", "priority", "due", "status", "holder", "assignee", "escalated",
            "info_requested", "policy", "policy_name", "amount", "reason")


def _scored(chunk: Any) -> list[tuple[float, str]]:
    """(score, task id) pairs of a ZRANGE ... WITHSCORES answer."""
    return [(float(score), str(task_id)) for task_id, score in chunk]


def _item(values: Sequence[str | None]) -> QueueItem | None:
    if values[0] is None:
        return None
    f = dict(zip(_SUMMARY, (v or "" for v in values), strict=True))
    return QueueItem(
        task_id=f["id"], kind=f["kind"], district=f["district"], queue=f["queue"], priority=int(f["priority"]),
        due_ms=int(f["due"]), status=Status(f["status"]), holder=f["holder"], assignee=f["assignee"],
        escalated=f["escalated"] == "1", info_requested_ms=int(f["info_requested"] or 0),
        policy_id=f["policy"] or None, policy_name=f["policy_name"] or None,
        amount_fen=int(f["amount"]) if f["amount"] else None, reason=f["reason"])


class RedisTaskViews:
    def __init__(self, redis: Redis, keys: Keys, names_ttl_seconds: float = 1.0):
        self._redis = redis
        self._keys = keys
        self._names_ttl = names_ttl_seconds
        self._names: tuple[float, list[str]] = (-names_ttl_seconds, [])

    async def queue_names(self) -> list[str]:
        """Every queue name; cached for a second (a new district's queue appears within one)."""
        fetched, names = self._names
        if time.monotonic() - fetched >= self._names_ttl:
            names = sorted(str(q) for q in await self._redis.smembers(self._keys.queues))
            self._names = (time.monotonic(), names)
        return names

    async def listing(self, queues: Sequence[str], keep: QueueFilter, claimed: bool | None, now_ms: int,
                      offset: int, limit: int) -> Listing:
        keys = [self._keys.queue(q) for q in queues if claimed is not True]
        keys += [self._keys.held(q) for q in queues if claimed is not False]
        wanted = offset + limit
        ranges = keep.score_ranges(now_ms)
        budget = [SCAN_BUDGET]
        found: list[tuple[float, str]] = []
        for key in keys:
            found += await self._scan(key, ranges, keep, wanted, budget)
        found.sort()
        items = await self._summaries([task_id for _, task_id in found[offset:wanted]])
        return Listing(tuple(items), truncated=budget[0] <= 0)

    async def _scan(self, key: str, ranges: list[tuple[int, int]], keep: QueueFilter, wanted: int,
                    budget: list[int]) -> list[tuple[float, str]]:
        """The first `wanted` entries of one sorted set within `ranges` that pass the field filters."""
        if keep.districts is None and keep.policy_id is None:
            return await self._first(key, ranges, wanted)
        kept: list[tuple[float, str]] = []
        for low, high in ranges:
            start = 0
            while len(kept) < wanted and budget[0] > 0:
                count = min(CHUNK, budget[0])
                chunk = await self._redis.zrange(key, low, high, byscore=True, offset=start, num=count,
                                                 withscores=True)
                start += len(chunk)
                budget[0] -= len(chunk)
                if chunk:
                    kept += await self._by_fields(_scored(chunk), keep)
                if len(chunk) < count:
                    break
        return kept[:wanted]

    async def _first(self, key: str, ranges: list[tuple[int, int]], wanted: int) -> list[tuple[float, str]]:
        pipe = self._redis.pipeline(transaction=False)
        for low, high in ranges:
            pipe.zrange(key, low, high, byscore=True, offset=0, num=wanted, withscores=True)
        rows = [row for chunk in await pipe.execute() for row in _scored(chunk)]
        return rows[:wanted]

    async def _by_fields(self, entries: list[tuple[float, str]], keep: QueueFilter) -> list[tuple[float, str]]:
        pipe = self._redis.pipeline(transaction=False)
        for _, task_id in entries:
            pipe.hmget(self._keys.task(task_id), ["district", "policy"])
        fields = await pipe.execute()
        return [entry for entry, (district, policy) in zip(entries, fields, strict=True)
                if (keep.districts is None or district in keep.districts)
                and (keep.policy_id is None or policy == keep.policy_id)]

    async def _summaries(self, task_ids: Sequence[str]) -> list[QueueItem]:
        if not task_ids:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for task_id in task_ids:
            pipe.hmget(self._keys.task(task_id), list(_SUMMARY))
        return [item for values in await pipe.execute() if (item := _item(values)) is not None]

    async def items(self, queue: str, claimed: bool, limit: int) -> list[QueueItem]:
        key = self._keys.held(queue) if claimed else self._keys.queue(queue)
        return await self._summaries([str(i) for i in await self._redis.zrange(key, 0, limit - 1)])

    async def page(self, task_id: str) -> TaskPage | None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(self._keys.task(task_id))
        pipe.xrange(self._keys.audit(task_id))
        pipe.xrange(self._keys.revisions(task_id))
        fields, entries, revisions = await pipe.execute()
        if not fields:
            return None
        audit = tuple(AuditEntry(
            seq=int(entry_id.split("-")[0]), action=e["action"], actor=e["actor"], at_ms=int(e["at"]),
            district=e["district"], reason=e["reason"], assignee=e["assignee"], lease_until_ms=int(e["lease_until"]),
            decision_id=e["decision"]) for entry_id, e in entries)
        return TaskPage(task_of(fields), progress_of(fields), audit,
                        tuple(revision_of_entry(entry_id, r) for entry_id, r in revisions))

    async def explained_households(self, actor: str, households: Iterable[str]) -> set[str]:
        wanted = sorted(set(households))
        if not wanted:
            return set()
        pipe = self._redis.pipeline(transaction=False)
        for household in wanted:
            pipe.smembers(self._keys.household(household))
        tasks = [(household, str(t)) for household, ids in zip(wanted, await pipe.execute(), strict=True)
                 for t in sorted(ids)]
        pipe = self._redis.pipeline(transaction=False)
        for _, task_id in tasks:
            pipe.hmget(self._keys.task(task_id), ["status", "holder"])
            pipe.xrange(self._keys.audit(task_id))
        answers = await pipe.execute()
        explained = set()
        for (household, _), (status, holder), entries in zip(tasks, answers[::2], answers[1::2], strict=True):
            if (status == Status.CLAIMED.value and holder == actor) or any(
                    e.get("actor") == actor and e.get("action") in _DECISIONS for _, e in entries):
                explained.add(household)
        return explained

    async def depths(self, queues: Sequence[str]) -> list[QueueDepth]:
        bands = list(PriorityBand)
        pipe = self._redis.pipeline(transaction=False)
        for queue in queues:
            for key in (self._keys.queue(queue), self._keys.held(queue)):
                for band in bands:
                    low, high = band.score_range()
                    pipe.zcount(key, low, high)
        counts = iter(await pipe.execute())
        depths = []
        for queue in queues:
            queued = {band: int(next(counts)) for band in bands}
            claimed = {band: int(next(counts)) for band in bands}
            depths.append(QueueDepth(queue, queued, claimed))
        return depths
