"""What intake decides about a submission before anything is published: valid, authorised, pseudonymised.

A batch is all or nothing: when any event is invalid or not the department's to publish, none is published
and the answer names every bad event, field and reason. Departments fix and re-send the same batch; event ids
already published are then answered as duplicates, so a re-send is always safe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from services.core.codec import Contract, Event, event_from_json
from services.core.conformance import ContractError, FieldError
from services.intake.domain.identity import resident_id_problem

Pseudonymise = Callable[[str], str]


@dataclass(frozen=True)
class EventProblem:
    """One reason an event of a submission was refused; `index` is its position in the batch."""

    index: int
    event_id: str | None
    field: str
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.event_id, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class Verdict:
    """Either `events` (pseudonymised, ready to publish) or the problems; `forbidden` marks authorisation ones."""

    events: tuple[Event, ...]
    problems: tuple[EventProblem, ...]
    forbidden: bool = False

    @property
    def accepted(self) -> bool:
        return not self.problems


def may_publish(contract: Contract, department: str, event_type: str) -> bool:
    """A department publishes only the event types its schemas name it the owner of."""
    return event_type in contract.departments.get(department, frozenset())


def judge_structured(contract: Contract, department: str, items: Sequence[Any], pseudonymise: Pseudonymise) -> Verdict:
    """Validate structured-mode JSON events, then check the department owns every type."""
    events: list[Event] = []
    problems: list[EventProblem] = []
    for index, item in enumerate(items):
        event_id = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None
        try:
            events.append(event_from_json(contract, item, subject_check=resident_id_problem))
        except ContractError as exc:
            problems.extend(EventProblem(index, event_id, e.field, e.reason) for e in exc.errors)
    if problems:
        return Verdict((), tuple(problems))
    return judge_decoded(contract, department, events, pseudonymise)


def judge_decoded(contract: Contract, department: str, events: Sequence[Event], pseudonymise: Pseudonymise) -> Verdict:
    """Authorise already-valid events and replace each identity number by the person's pseudonym."""
    forbidden = [
        EventProblem(i, e.id, "type", f"department {department} may not publish {e.type}")
        for i, e in enumerate(events) if not may_publish(contract, department, e.type)
    ]
    if forbidden:
        return Verdict((), tuple(forbidden), forbidden=True)
    return Verdict(tuple(e.with_subject(pseudonymise(e.subject)) for e in events), ())


def subject_problem(subject: str) -> FieldError | None:
    reason = resident_id_problem(subject)
    return FieldError("subject", reason) if reason else None


def department_of_source(source: str) -> str | None:
    """Kafka producers name their department in the source: /departments/<department>/<system>."""
    parts = source.strip("/").split("/")
    return parts[1] if len(parts) >= 2 and parts[0] == "departments" else None
