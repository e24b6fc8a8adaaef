"""The idempotency window as the record shows it: which event published at which time is still remembered, and
for how long."""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.intake.domain.submission import department_of_source


@dataclass(frozen=True)
class Remembered:
    department: str
    source: str
    event_id: str
    seconds: int
    """What is left of the event's window, at least 1."""


def remembered(source: str | None, event_id: str | None, written_ms: int, now_ms: int,
               window_seconds: int) -> Remembered | None:
    """The event published at `written_ms` as intake remembers it at `now_ms`; None once its window has passed or
    when the record names no department's source or no id (nothing a department could re-send)."""
    department = department_of_source(source or "")
    left = math.ceil(window_seconds - (now_ms - written_ms) / 1000)
    if not (department and source and event_id) or left <= 0:
        return None
    return Remembered(department, source, event_id, min(left, window_seconds))
