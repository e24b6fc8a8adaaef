"""Request rate limits per department token: one token bucket per token in Redis, read and updated by one
server-side script, so every intake process behind a load balancer counts against the same bucket."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.intake.service import Unavailable

# KEYS[1]: the bucket; ARGV: rate per second, burst. Returns the seconds to wait, "0" when the request may go.
# Time is the server's, so processes with skewed clocks agree.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RedisRateLimit:
    """`rate` requests per second on average per token, up to `burst` at once."""

    def __init__(self, redis: Redis, rate: float, burst: int):
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self._take = redis.register_script(_TAKE)
        self._rate = rate
        self._burst = burst

    async def wait_seconds(self, token_digest: str) -> float:
        """0.0 when this token may send a request now (it is counted); otherwise how long until it may."""
        try:
            answer = await self._take(keys=[f"assist:intake:rate:{token_digest[:32]}"], args=[self._rate, self._burst])
        except (RedisError, OSError, TimeoutError) as exc:
            raise Unavailable(f"rate limit: {type(exc).__name__}") from exc
        return float(answer)
