"""Which tasks a purge may remove (docs/retention.md): closed ones (approved, rejected, withdrawn) closed before
the cutoff. A queued or claimed task is never removed, however old. lua/purge.lua applies the same rule
atomically, task by task; a task closes with its decision, else its withdrawal, else (a view missing both) its
creation."""

from __future__ import annotations

from services.casework.domain.tasks import Status

MINIMUM_DAYS = 365
"""Never shorter than assist.tasks keeps tasks: a rebuild from the topic would bring back what a purge removed."""


def purgeable(status: str, closed_ms: int, cutoff_ms: int) -> bool:
    try:
        closed = Status(status).closed
    except ValueError:
        return False
    return closed and 0 < closed_ms < cutoff_ms
