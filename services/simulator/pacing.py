"""Pacing a stream of events to a target rate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class Pacer:
    """A token bucket: on average `rate` takes per second, with bursts of at most `burst` after a pause.

    A rate of zero or less means no pacing at all.
    """

    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self._rate = rate
        self._burst = burst if burst is not None else max(1.0, rate / 20)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self._burst
        self._last = clock()

    async def take(self, n: int = 1) -> None:
        """Wait until `n` more events may go."""
        if self._rate <= 0:
            return
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        self._tokens -= n
        if self._tokens < 0:  # in debt: wait until the debt is paid back
            await self._sleep(-self._tokens / self._rate)
