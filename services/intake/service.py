"""Intake's service layer: judge a submission, drop duplicates, publish durably, say what happened.

The two ports are the only I/O: `EventLog` (Kafka in production) and `SeenEvents` (Redis). Tests hand in the
real adapters; the HTTP and Kafka entry points both call `Intake.submit`.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from services.core.codec import Contract, Event
from services.intake.domain.submission import EventProblem, Verdict
from services.intake.metrics import IntakeMetrics


class Unavailable(Exception):
    """The event log could not durably write in time; nothing may be acknowledged."""


class EventLog(Protocol):
    """Durable, ordered event log (Kafka topic assist.events keyed by person id)."""

    async def append(self, events: Sequence[Event]) -> list[bool]:
        """Write `events`; return per event whether the log acknowledged it (acks=all). Raises Unavailable
        when the log cannot be reached at all."""


class SeenEvents(Protocol):
    """Remembers (source, id) pairs for the idempotency window."""

    async def claim(self, events: Sequence[Event]) -> list[Claim]:
        """Mark each event as being published unless it was seen; tell which were new, duplicate or in flight."""

    async def confirm(self, events: Sequence[Event]) -> None:
        """The events are durably published: remember them for the whole window."""

    async def release(self, events: Sequence[Event]) -> None:
        """Publishing failed: forget the claims so a retry is not taken for a duplicate."""


class Claim(enum.Enum):
    NEW = "new"
    DUPLICATE = "duplicate"
    IN_FLIGHT = "in_flight"


class Outcome(enum.Enum):
    ACCEPTED = 202
    INVALID = 400
    FORBIDDEN = 403
    CONFLICT = 409
    UNAVAILABLE = 503


@dataclass(frozen=True)
class Receipt:
    """The answer to one submission; `statuses` lists (event id, accepted | duplicate) in batch order."""

    outcome: Outcome
    statuses: tuple[tuple[str, str], ...] = ()
    problems: tuple[EventProblem, ...] = ()

    @property
    def accepted(self) -> int:
        return sum(1 for _, s in self.statuses if s == "accepted")

    @property
    def duplicates(self) -> int:
        return sum(1 for _, s in self.statuses if s == "duplicate")


class Intake:
    def __init__(self, log: EventLog, seen: SeenEvents, metrics: IntakeMetrics, contract: Contract):
        self._log = log
        self._seen = seen
        self._metrics = metrics
        self._contract = contract

    async def submit(self, department: str, verdict: Verdict) -> Receipt:
        """Publish the events of an accepted verdict exactly once per (source, id) within the window."""
        if not verdict.accepted:
            outcome = Outcome.FORBIDDEN if verdict.forbidden else Outcome.INVALID
            self._metrics.rejected(outcome.name.lower(), len({p.index for p in verdict.problems}))
            return Receipt(outcome, problems=verdict.problems)
        unique = _first_occurrences(verdict.events)
        claims = await self._seen.claim(unique)
        if Claim.IN_FLIGHT in claims:
            await self._seen.release([e for e, c in zip(unique, claims, strict=True) if c is Claim.NEW])
            self._metrics.rejected("in_flight", len(unique))
            return Receipt(Outcome.CONFLICT)
        fresh = [e for e, c in zip(unique, claims, strict=True) if c is Claim.NEW]
        started = time.perf_counter()
        try:
            written = await self._log.append(fresh)
        except Unavailable:
            await self._seen.release(fresh)
            self._metrics.rejected("unavailable", len(fresh))
            return Receipt(Outcome.UNAVAILABLE)
        self._metrics.published(time.perf_counter() - started)
        await self._seen.confirm([e for e, ok in zip(fresh, written, strict=True) if ok])
        if not all(written):
            await self._seen.release([e for e, ok in zip(fresh, written, strict=True) if not ok])
            self._metrics.rejected("unavailable", written.count(False))
            return Receipt(Outcome.UNAVAILABLE)
        self._metrics.accepted(department, len(fresh))
        self._metrics.duplicates(len(verdict.events) - len(fresh))
        return Receipt(Outcome.ACCEPTED, _statuses(verdict.events, {(e.source, e.id) for e in fresh}))


def _first_occurrences(events: Sequence[Event]) -> list[Event]:
    """The first occurrence of each (source, id) in a batch; later repeats are duplicates."""
    seen: set[tuple[str, str]] = set()
    unique: list[Event] = []
    for e in events:
        if (e.source, e.id) not in seen:
            unique.append(e)
            seen.add((e.source, e.id))
    return unique


def _statuses(events: Sequence[Event], published: set[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """`accepted` for the first occurrence of each event published now, `duplicate` for everything else."""
    answered: set[tuple[str, str]] = set()
    statuses = []
    for e in events:
        key = (e.source, e.id)
        statuses.append((e.id, "accepted" if key in published and key not in answered else "duplicate"))
        answered.add(key)
    return tuple(statuses)
