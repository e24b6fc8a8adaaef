"""Queue order, priority bands and SLA states.

A queue is ordered by priority (highest first), then by due time (earliest first). Both fit exactly in one
sorted-set score: (100 - priority) * 2**42 + due milliseconds. 2**42 ms reaches the year 2109 and the largest
score stays below 2**53, so the double that holds it is exact and the due time can be read back from the score.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

MAX_PRIORITY = 100
DUE_BITS = 42
DUE_SPAN = 1 << DUE_BITS
DUE_SOON_MS = 12 * 3600 * 1000
"""A task is due soon when less than this remains before its deadline."""


def queue_score(priority: int, due_ms: int) -> int:
    """The sorted-set score: lower sorts first. Priority is clamped to 0..100, the due time to the score's span."""
    p = min(max(priority, 0), MAX_PRIORITY)
    return (MAX_PRIORITY - p) * DUE_SPAN + min(max(due_ms, 0), DUE_SPAN - 1)


def due_of_score(score: float) -> int:
    return int(score) % DUE_SPAN


def priority_of_score(score: float) -> int:
    return MAX_PRIORITY - int(score) // DUE_SPAN


class PriorityBand(enum.Enum):
    """Bounded buckets of the 0..100 priority, for filters and metrics."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def priorities(self) -> tuple[int, int]:
        """Lowest and highest priority of the band, inclusive."""
        return _BAND_RANGES[self]

    def score_range(self) -> tuple[int, int]:
        """Inclusive score range holding exactly the tasks of this band."""
        low, high = self.priorities
        return (MAX_PRIORITY - high) * DUE_SPAN, (MAX_PRIORITY - low) * DUE_SPAN + DUE_SPAN - 1


_BAND_RANGES = {
    PriorityBand.URGENT: (80, 100),
    PriorityBand.HIGH: (60, 79),
    PriorityBand.NORMAL: (40, 59),
    PriorityBand.LOW: (0, 39),
}


def band_of(priority: int) -> PriorityBand:
    for band, (low, high) in _BAND_RANGES.items():
        if low <= priority <= high:
            return band
    return PriorityBand.URGENT if priority > MAX_PRIORITY else PriorityBand.LOW


class SlaState(enum.Enum):
    OK = "ok"
    DUE_SOON = "due-soon"
    BREACHED = "breached"


def sla_state(due_ms: int, now_ms: int) -> SlaState:
    """Breached once the deadline has passed; due soon within DUE_SOON_MS of it."""
    if now_ms > due_ms:
        return SlaState.BREACHED
    if due_ms - now_ms <= DUE_SOON_MS:
        return SlaState.DUE_SOON
    return SlaState.OK


@dataclass(frozen=True)
class QueueFilter:
    """What a queue listing keeps. Every field is optional; they combine with AND."""

    districts: frozenset[str] | None = None
    band: PriorityBand | None = None
    due_before_ms: int | None = None
    sla: SlaState | None = None
    policy_id: str | None = None

    def keeps_due(self, due_ms: int, now_ms: int) -> bool:
        low, high = self.due_window(now_ms)
        return low <= due_ms <= high

    def due_window(self, now_ms: int) -> tuple[int, int]:
        """Inclusive range of due times the filter keeps."""
        low, high = 0, DUE_SPAN - 1
        if self.due_before_ms is not None:
            high = min(high, self.due_before_ms - 1)
        if self.sla is SlaState.BREACHED:
            high = min(high, now_ms - 1)
        elif self.sla is SlaState.DUE_SOON:
            low, high = max(low, now_ms), min(high, now_ms + DUE_SOON_MS)
        elif self.sla is SlaState.OK:
            low = max(low, now_ms + DUE_SOON_MS + 1)
        return low, high

    def score_ranges(self, now_ms: int) -> list[tuple[int, int]]:
        """Disjoint inclusive score ranges, in ascending order, holding exactly the tasks whose priority band
        and due time the filter keeps: one range per priority when the due time is constrained."""
        low_p, high_p = self.band.priorities if self.band else (0, MAX_PRIORITY)
        if self.due_before_ms is None and self.sla is None:
            return [((MAX_PRIORITY - high_p) * DUE_SPAN, (MAX_PRIORITY - low_p) * DUE_SPAN + DUE_SPAN - 1)]
        low, high = self.due_window(now_ms)
        if low > high:
            return []
        return [((MAX_PRIORITY - p) * DUE_SPAN + low, (MAX_PRIORITY - p) * DUE_SPAN + high)
                for p in range(high_p, low_p - 1, -1)]
