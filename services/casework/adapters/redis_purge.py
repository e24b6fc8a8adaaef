"""The purge of closed tasks past their retention window (`python -m services.casework purge`): every task hash is
judged by lua/purge.lua, which removes a closed task's hash, audit and revisions and its index entries in one step
and never touches an open task. Refused while the view is being rebuilt."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from services.casework.adapters.redis_board import LUA
from services.casework.adapters.redis_layout import Keys


class PurgeRefused(Exception):
    """The view is being rebuilt: purge afterwards."""


@dataclass(frozen=True)
class TaskPurge:
    removed: int
    kept_closed: int
    """Closed within the window."""
    kept_open: int


class RedisTaskPurge:
    def __init__(self, redis: Redis, keys: Keys):
        self._redis, self._keys = redis, keys
        self._script = redis.register_script((LUA / "purge.lua").read_text(encoding="utf-8"))

    async def purge(self, cutoff_ms: int) -> TaskPurge:
        """Remove the tasks closed before `cutoff_ms` (epoch ms); counts of what was removed and kept."""
        counts = {0: 0, 1: 0, 2: 0}
        marker = f"{self._keys.prefix}:task:"
        async for key in self._redis.scan_iter(match=f"{marker}*", count=500, _type="hash"):
            task_id = (key.decode() if isinstance(key, bytes) else str(key))[len(marker):]
            outcome = int(await self._script(
                keys=[self._keys.task(task_id), self._keys.audit(task_id), self._keys.revisions(task_id),
                      self._keys.rebuilding], args=[cutoff_ms, self._keys.prefix]))
            if outcome < 0:
                raise PurgeRefused("the casework view is being rebuilt; purge when it is done")
            counts[outcome] += 1
        return TaskPurge(counts[1], counts[0], counts[2])
