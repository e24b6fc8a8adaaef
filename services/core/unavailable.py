"""Errors that mean a dependency is unavailable for now (read the batch again later), as opposed to a record that
can never be handled (dead-letter it). A Redis that answers but refuses one command (a script error, a wrong
type) is the second kind: retrying would stop the loop on that record for good."""

from __future__ import annotations

from redis import exceptions as redis_errors

REDIS_UNAVAILABLE: tuple[type[BaseException], ...] = (
    redis_errors.ConnectionError,  # includes refused connections, a full pool, a server still loading
    redis_errors.TimeoutError,
    redis_errors.ReadOnlyError,  # a replica answering during a failover
    redis_errors.OutOfMemoryError,
    redis_errors.TryAgainError,
    OSError,
)
