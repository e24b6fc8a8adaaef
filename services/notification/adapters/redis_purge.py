"""The purge of notification's Redis past the retention windows (`python -m services.notification purge`;
docs/retention.md): inbox entries delivered before the inbox cutoff, and entries of the data-use log (disclosures
of contact details) recorded before its cutoff. Everything newer stays; nothing else is touched."""

from __future__ import annotations

import json
from dataclasses import dataclass

from redis.asyncio import Redis

# One inbox at a time: its old items leave the list and their ids the idempotency set together.
_INBOX = """
local removed = 0
for _, raw in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local item = cjson.decode(raw)
  if tonumber(item.at) < tonumber(ARGV[1]) then
    redis.call('LREM', KEYS[2], 1, raw)
    redis.call('SREM', KEYS[1], item.notification_id)
    removed = removed + 1
  end
end
if redis.call('LLEN', KEYS[2]) == 0 then redis.call('DEL', KEYS[1]) end
return removed
"""


@dataclass(frozen=True)
class NotificationPurge:
    inbox_removed: int
    inbox_kept: int
    uses_removed: int
    uses_kept: int


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisNotificationPurge:
    def __init__(self, redis: Redis, prefix: str):
        self._redis, self._prefix = redis, prefix
        self._inbox = redis.register_script(_INBOX)

    async def purge(self, inbox_cutoff_ms: int, uses_cutoff_ms: int) -> NotificationPurge:
        inbox_removed = inbox_kept = uses_removed = uses_kept = 0
        lists = f"{self._prefix}:inbox:"
        async for key in self._redis.scan_iter(match=f"{lists}*", count=500, _type="list"):
            person = _text(key)[len(lists):]
            inbox_removed += int(await self._inbox(keys=[f"{self._prefix}:inbox-ids:{person}", _text(key)],
                                                   args=[inbox_cutoff_ms]))
            inbox_kept += int(await self._redis.llen(key))
        async for key in self._redis.scan_iter(match=f"{self._prefix}:contact-uses:*", count=500, _type="hash"):
            rows = await self._redis.hgetall(key)
            old = [field for field, raw in rows.items() if int(json.loads(raw)["at"]) < uses_cutoff_ms]
            if old:
                await self._redis.hdel(key, *old)
            uses_removed, uses_kept = uses_removed + len(old), uses_kept + len(rows) - len(old)
        return NotificationPurge(inbox_removed, inbox_kept, uses_removed, uses_kept)
