"""Request rate limits: a token bucket per caller (a member of staff, a citizen), kept in the process.

Pure: the caller passes the time, so the arithmetic is tested without waiting. Memory is bounded: past
`max_callers` the caller seen longest ago is forgotten (it starts again with a full bucket).
"""

from __future__ import annotations

import math
from collections import OrderedDict


class RateLimiter:
    """`rate` requests per second on average per caller, up to `burst` at once."""

    def __init__(self, rate: float, burst: int, max_callers: int = 100_000):
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self._max_callers = max_callers
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, caller: str, now: float) -> float:
        """0.0 when the caller may go ahead (one request counted); otherwise the seconds until they may."""
        tokens, then = self._buckets.pop(caller, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - then) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[caller] = (tokens, now)
        while len(self._buckets) > self._max_callers:
            self._buckets.popitem(last=False)
        return wait


def retry_after(wait_seconds: float) -> str:
    """The Retry-After header value (whole seconds, at least 1) for a wait."""
    return str(max(1, math.ceil(wait_seconds)))
