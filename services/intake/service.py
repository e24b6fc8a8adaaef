"""Intake's service layer: judge a submission, drop duplicates, publish durably, say what happened.

The two ports are the only I/O: `EventLog` (Kafka in production) and `SeenEvents` (Redis). Tests hand in the
real adapters; the HTTP and Kafka entry points both call `Intake.submit`.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from services.core.codec import Contract, Event
from services.intake.domain.submission import EventProblem, Verdict
from services.intake.metrics import IntakeMetrics

log = logging.getLogger(__name__)


class Unavailable(Exception):
    """The event log or the duplicate guard could not answer in time; nothing may be acknowledged."""


class Delivery(enum.Enum):
    """What the event log did with one event."""

    WRITTEN = "written"
    FAILED = "failed"  # not acknowledged in time: may be retried
    REFUSED = "refused"  # refused for good (too large): retrying the same event cannot help


class EventLog(Protocol):
    """Durable, ordered event log (Kafka topic assist.events keyed by person id)."""

    async def append(self, events: Sequence[Event]) -> list[Delivery]:
        """Write `events`; return per event whether the log acknowledged it (acks=all), failed to in time, or
        refused it for good. Raises Unavailable when the log cannot be reached at all."""


class SeenEvents(Protocol):
    """Remembers (department, source, id) for the idempotency window. Raises Unavailable when it cannot answer."""

    async def claim(self, department: str, events: Sequence[Event]) -> list[Claim]:
        """Mark each event as being published unless it was seen; tell which were new, duplicate or in flight."""

    async def confirm(self, department: str, events: Sequence[Event]) -> None:
        """The events are durably published: remember them for the whole window."""

    async def release(self, department: str, events: Sequence[Event]) -> None:
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
    TOO_LARGE = 413
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
        """Publish the events of an accepted verdict exactly once per (department, source, id) within the window.
        Whatever happens after a claim, a submission that is not answered 202 leaves no claim behind."""
        if not verdict.accepted:
            outcome = Outcome.FORBIDDEN if verdict.forbidden else Outcome.INVALID
            self._metrics.rejected(outcome.name.lower(), len({p.index for p in verdict.problems}))
            _told_rejected(department, outcome, verdict.problems)
            return Receipt(outcome, problems=verdict.problems)
        unique = _first_occurrences(verdict.events)
        try:
            claims = await self._seen.claim(department, unique)
        except Unavailable:
            self._metrics.rejected("unavailable", len(unique))
            return Receipt(Outcome.UNAVAILABLE)
        fresh = [e for e, c in zip(unique, claims, strict=True) if c is Claim.NEW]
        if Claim.IN_FLIGHT in claims:
            await self._release(department, fresh)
            self._metrics.rejected("in_flight", len(unique))
            return Receipt(Outcome.CONFLICT)
        started = time.perf_counter()
        try:
            deliveries = await self._log.append(fresh)
        except Unavailable:
            await self._release(department, fresh)
            self._metrics.rejected("unavailable", len(fresh))
            return Receipt(Outcome.UNAVAILABLE)
        except BaseException:
            await self._release(department, fresh)
            raise
        self._metrics.published(time.perf_counter() - started)
        written = [e for e, d in zip(fresh, deliveries, strict=True) if d is Delivery.WRITTEN]
        await self._confirm(department, written)
        if len(written) < len(fresh):
            await self._release(department, [e for e, d in zip(fresh, deliveries, strict=True)
                                             if d is not Delivery.WRITTEN])
            refused = [(i, e) for i, (e, d) in enumerate(zip(fresh, deliveries, strict=True))
                       if d is Delivery.REFUSED]
            if refused:
                self._metrics.rejected("too_large", len(refused))
                problems = tuple(EventProblem(verdict.events.index(e), e.id, "",
                                              "the event log refused the record as too large") for _, e in refused)
                _told_rejected(department, Outcome.TOO_LARGE, problems)
                return Receipt(Outcome.TOO_LARGE, problems=problems)
            self._metrics.rejected("unavailable", len(fresh) - len(written))
            return Receipt(Outcome.UNAVAILABLE)
        self._metrics.accepted(department, len(fresh))
        self._metrics.duplicates(len(verdict.events) - len(fresh))
        _told_accepted(department, fresh)
        return Receipt(Outcome.ACCEPTED, _statuses(verdict.events, {(e.source, e.id) for e in fresh}))

    async def _release(self, department: str, events: Sequence[Event]) -> None:
        """Forget claims even when the request is being cancelled; a guard that cannot answer lets them expire."""
        if not events:
            return
        try:
            await asyncio.shield(self._seen.release(department, events))
        except Unavailable:
            log.warning("intake: %d claims not released (duplicate guard unavailable); they expire on their own",
                        len(events))

    async def _confirm(self, department: str, events: Sequence[Event]) -> None:
        """The events are on the log, so the answer is 202 even when the guard cannot remember them now."""
        try:
            await asyncio.shield(self._seen.confirm(department, events))
        except Unavailable:
            log.warning("intake: %d published events not remembered (duplicate guard unavailable)", len(events))


def _told_accepted(department: str, events: Sequence[Event]) -> None:
    """One line per event published: its CloudEvents id is the trace every later record carries."""
    if log.isEnabledFor(logging.INFO):
        for e in events:
            log.info("event accepted", extra={"event_id": e.id, "trace": e.id, "department": department,
                                              "event_type": e.type})


def _told_rejected(department: str, outcome: Outcome, problems: Sequence[EventProblem]) -> None:
    for p in problems:
        log.info("event rejected (%s): %s: %s", outcome.name.lower(), p.field or "event", p.reason,
                 extra={"event_id": p.event_id, "trace": p.event_id, "department": department})


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
