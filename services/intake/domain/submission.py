"""What intake decides about a submission before anything is published: valid, authorised, pseudonymised.

A batch is all or nothing: when any event is invalid or not the department's to publish, none is published
and the answer names every bad event, field and reason. Departments fix and re-send the same batch; event ids
already published are then answered as duplicates, so a re-send is always safe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from services.core.attributes import text_problem
from services.core.codec import Contract, Event, event_from_json
from services.core.conformance import ContractError, FieldError
from services.core.identity import resident_id_problem

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
        event_id = answerable_id(item.get("id") if isinstance(item, dict) else None)
        try:
            event = event_from_json(contract, item, subject_check=resident_id_problem)
        except ContractError as exc:
            problems.extend(EventProblem(index, event_id, e.field, e.reason) for e in exc.errors)
            continue
        problems.extend(EventProblem(index, event_id, e.field, e.reason) for e in empty_attributes(event))
        events.append(event)
    if problems:
        return Verdict((), tuple(problems))
    return judge_decoded(contract, department, events, pseudonymise)


def judge_decoded(contract: Contract, department: str, events: Sequence[Event], pseudonymise: Pseudonymise) -> Verdict:
    """Authorise already-valid events and replace each identity number by the person's pseudonym.

    A department publishes only its own types, from its own sources (/departments/<department>/...): otherwise
    one department could take another's event ids and have its genuine events answered as duplicates."""
    forbidden: list[EventProblem] = []
    for i, e in enumerate(events):
        if not may_publish(contract, department, e.type):
            forbidden.append(EventProblem(i, e.id, "type", f"department {department} may not publish {e.type}"))
        if department_of_source(e.source) != department:
            forbidden.append(EventProblem(i, e.id, "source",
                                          f"must be /departments/{department}/<system> for this department"))
    if forbidden:
        return Verdict((), tuple(forbidden), forbidden=True)
    return Verdict(tuple(e.with_subject(pseudonymise(e.subject)) for e in events), ())


def empty_attributes(event: Event, prefix: str = "") -> list[FieldError]:
    """CloudEvents 1.0 requires id and source to be non-empty; `prefix` is "ce_" for binary-mode headers."""
    return [FieldError(f"{prefix}{name}", "must not be empty") for name, value in (("id", event.id),
                                                                                   ("source", event.source))
            if not value]


def answerable_id(value: Any) -> str | None:
    """An event id fit to repeat in an answer: text within the id's limits, else None."""
    return value if isinstance(value, str) and text_problem("id", value) is None else None


def subject_problem(subject: str) -> FieldError | None:
    reason = resident_id_problem(subject)
    return FieldError("subject", reason) if reason else None


def department_of_source(source: str) -> str | None:
    """Kafka producers name their department in the source: /departments/<department>/<system>."""
    parts = source.strip("/").split("/")
    return parts[1] if len(parts) >= 2 and parts[0] == "departments" else None
