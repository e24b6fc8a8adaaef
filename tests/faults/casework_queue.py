"""What casework's Redis view holds about a set of tasks: which are in, in what state, how often queued."""

from __future__ import annotations

from collections import Counter

from redis.asyncio import Redis

PREFIX = "assist:casework"


async def statuses(redis: Redis, task_ids: list[str]) -> dict[str, str]:
    """task id → status, for the tasks casework holds."""
    pipe = redis.pipeline()
    for task_id in task_ids:
        pipe.hget(f"{PREFIX}:task:{task_id}", "status")
    values = await pipe.execute()
    return {t: v.decode() for t, v in zip(task_ids, values, strict=True) if v is not None}


async def queue_entries(redis: Redis, task_ids: set[str]) -> Counter[str]:
    """How many queue and held sets each task is in (one at most when the view is consistent)."""
    entries: Counter[str] = Counter()
    for pattern in (f"{PREFIX}:queue:*", f"{PREFIX}:held:*"):
        async for key in redis.scan_iter(match=pattern, count=1000):
            members = await redis.zrange(key, 0, -1)
            entries.update(m.decode() for m in members if m.decode() in task_ids)
    return entries
