"""Token buckets per caller: a burst goes through, then one request per 1/rate seconds; callers do not share."""

from __future__ import annotations

import pytest

from services.core.rate_limit import RateLimiter, retry_after


def test_a_burst_passes_then_the_caller_waits_for_the_next_token():
    limiter = RateLimiter(rate=2.0, burst=3)
    assert [limiter.take("alice", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("alice", 100.0) == pytest.approx(0.5)
    assert limiter.take("alice", 100.5) == 0.0
    assert limiter.take("alice", 100.5) == pytest.approx(0.5)


def test_callers_have_their_own_buckets():
    limiter = RateLimiter(rate=1.0, burst=1)
    assert limiter.take("alice", 0.0) == 0.0
    assert limiter.take("alice", 0.0) > 0
    assert limiter.take("bob", 0.0) == 0.0


def test_an_idle_caller_refills_only_up_to_the_burst():
    limiter = RateLimiter(rate=10.0, burst=2)
    limiter.take("alice", 0.0)
    assert [limiter.take("alice", 3600.0) for _ in range(3)][-1] > 0


def test_memory_is_bounded_by_forgetting_the_caller_seen_longest_ago():
    limiter = RateLimiter(rate=1.0, burst=1, max_callers=2)
    for caller in ("a", "b", "c"):
        limiter.take(caller, 0.0)
    assert limiter.take("a", 0.0) == 0.0  # forgotten, so full again
    assert limiter.take("c", 0.0) > 0


def test_retry_after_is_whole_seconds_and_at_least_one():
    assert (retry_after(0.01), retry_after(1.0), retry_after(1.2)) == ("1", "1", "2")


def test_a_limit_needs_a_positive_rate_and_burst():
    with pytest.raises(ValueError):
        RateLimiter(rate=0, burst=1)
    with pytest.raises(ValueError):
        RateLimiter(rate=1, burst=0)
