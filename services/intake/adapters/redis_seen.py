"""SeenEvents in Redis: one key per (department, source, event id); 'pending' briefly while publishing, then
'published' for the idempotency window. Each batch is one server-side script call, not a command per event.

Claims are refused while the window is not complete in Redis (no WINDOW_BUILT marker: a wiped or new Redis), so a
possible duplicate is never accepted; `window_missing` is told, which starts the rebuild from assist.events.

Any Redis failure, including waiting too long for a pooled connection, is raised as `Unavailable`, which the
service answers with 503 and Retry-After."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from services.core.codec import Event
from services.intake.service import Claim, Unavailable

PENDING_SECONDS = 60
SEEN_PREFIX = "assist:intake:seen"
WINDOW_BUILT = "assist:intake:window:built"
"""Present once the idempotency window is complete in Redis; written by the rebuild (seen_window)."""
WINDOW_REBUILDING = "assist:intake:window:rebuilding"

# KEYS[1]: the window's marker; the rest: one key per event. Returns false while the window is incomplete,
# otherwise per event key the previous value (false when the key was free and is now claimed as pending).
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local previous = {}
for i = 2, #KEYS do
  previous[i - 1] = redis.call('SET', KEYS[i], 'pending', 'NX', 'GET', 'EX', ARGV[1])
end
return previous
"""
_CONFIRM = """
for _, key in ipairs(KEYS) do
  redis.call('SET', key, 'published', 'EX', ARGV[1])
end
return #KEYS
"""
# Delete only keys still pending: a concurrent request may have published the same event meanwhile.
_RELEASE = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == 'pending' then redis.call('DEL', key) end
end
return #KEYS
"""

T = TypeVar("T")


def pooled_redis(url: str, max_connections: int, wait_seconds: float) -> Redis:
    """A client whose callers wait up to `wait_seconds` for one of `max_connections` connections instead of
    failing at once when all are busy; every command is bounded by the same time.

    A command whose connection fails is sent once more on a fresh connection: a pooled connection that died with
    a restarted server is only found out when it is used (the client's own retry settings do not apply to a pool
    handed in, so the pool carries them). Timeouts are not retried, so a command takes at most twice its bound."""
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=wait_seconds,
                                           socket_timeout=wait_seconds, socket_connect_timeout=wait_seconds,
                                           retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError])
    return Redis(connection_pool=pool)


def seen_key(department: str, source: str, event_id: str) -> str:
    """The key remembering one event; the rebuild writes the same keys from the headers on assist.events."""
    # Attributes are arbitrary text within their limits; a digest keeps keys short and of one shape.
    digest = hashlib.sha256("\0".join((department, source, event_id)).encode("utf-8", "surrogatepass"))
    return f"{SEEN_PREFIX}:{department}:{digest.hexdigest()[:40]}"


def _key(department: str, event: Event) -> str:
    return seen_key(department, event.source, event.id)


class WindowMissing(Unavailable):
    """The idempotency window is not complete in Redis (wiped, or new); it is being rebuilt."""


async def _guarded(call: Awaitable[T]) -> T:
    try:
        return await call
    except (RedisError, OSError, TimeoutError) as exc:
        raise Unavailable(f"duplicate guard: {type(exc).__name__}") from exc


class RedisSeenEvents:
    def __init__(self, redis: Redis, window_seconds: int, window_missing: Callable[[], None] = lambda: None):
        self._redis = redis
        self._window = window_seconds
        self._window_missing = window_missing
        self._claim = redis.register_script(_CLAIM)
        self._confirm = redis.register_script(_CONFIRM)
        self._release = redis.register_script(_RELEASE)

    async def claim(self, department: str, events: Sequence[Event]) -> list[Claim]:
        if not events:
            return []
        previous = await _guarded(self._claim(keys=[WINDOW_BUILT, *(_key(department, e) for e in events)],
                                              args=[PENDING_SECONDS]))
        if previous is None:
            self._window_missing()
            raise WindowMissing("duplicate guard: idempotency window being rebuilt")
        return [Claim.NEW if p is None else Claim.DUPLICATE if p == b"published" else Claim.IN_FLIGHT
                for p in previous]

    async def confirm(self, department: str, events: Sequence[Event]) -> None:
        if events:
            await _guarded(self._confirm(keys=[_key(department, e) for e in events], args=[self._window]))

    async def release(self, department: str, events: Sequence[Event]) -> None:
        if events:
            await _guarded(self._release(keys=[_key(department, e) for e in events]))
