"""A caseworker task, its casework progress and the transitions between them.

The progress of a task is a fold of its transitions in order: the same fold rebuilds the Redis view from
assist.decisions that the Redis scripts perform live, so the two must agree field for field.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from services.casework.domain.scope import district_queue, region_queue

if TYPE_CHECKING:
    from services.casework.domain.revisions import Revision

MAX_REASON_CHARS = 2000


class Status(enum.Enum):
    QUEUED = "QUEUED"
    CLAIMED = "CLAIMED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"
    """Matching withdrew the task while it was open (the household no longer qualifies): out of every queue."""

    @property
    def decided(self) -> bool:
        return self in (Status.APPROVED, Status.REJECTED)

    @property
    def closed(self) -> bool:
        """Nothing more is done on the task: decided or withdrawn."""
        return self.decided or self is Status.WITHDRAWN


class Action(enum.Enum):
    """Casework transitions, as published on assist.decisions."""

    CLAIMED = "CLAIMED"
    UNCLAIMED = "UNCLAIMED"
    LEASE_EXPIRED = "LEASE_EXPIRED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    INFORMATION_REQUESTED = "INFORMATION_REQUESTED"
    REASSIGNED = "REASSIGNED"
    ESCALATED = "ESCALATED"


class Verdict(enum.Enum):
    """What a caseworker may decide on a claimed task."""

    APPROVE = "APPROVED"
    REJECT = "REJECTED"
    REQUEST_INFORMATION = "INFORMATION_REQUESTED"

    @property
    def needs_reason(self) -> bool:
        return self is not Verdict.APPROVE


class InvalidCommand(ValueError):
    """A command that can never succeed as given (a missing reason, a district outside the region...)."""


def check_reason(verdict: Verdict, reason: str | None) -> str:
    """The reason, trimmed; InvalidCommand when a rejection or an information request comes without one."""
    text = optional_reason(reason)
    if verdict.needs_reason and not text:
        raise InvalidCommand(f"a reason is required to {verdict.name.lower().replace('_', ' ')}")
    return text


def optional_reason(reason: str | None) -> str:
    """A reason that may be left out (a reassignment's), trimmed; InvalidCommand when too long."""
    text = (reason or "").strip()
    if len(text) > MAX_REASON_CHARS:
        raise InvalidCommand(f"a reason holds at most {MAX_REASON_CHARS} characters")
    return text


def decision_id(task_id: str, action: str, seq: int) -> str:
    """Deterministic id of the seq-th transition of a task (the Redis scripts compute the same)."""
    return "d-" + hashlib.sha1(f"{task_id}|{action}|{seq}".encode(), usedforsecurity=False).hexdigest()[:32]


@dataclass(frozen=True)
class CaseworkerTask:
    """What matching asked for: the task record of assist.tasks, with the fields casework indexes."""

    task_id: str
    kind: str
    household_id: str
    person_id: str | None
    district: str
    priority: int
    due_ms: int
    created_ms: int
    reason: str
    offer_id: str | None
    policy_id: str | None
    policy_name: str | None
    amount_fen: int | None
    body: str
    """The whole record as JSON (timestamps as RFC 3339 text), shown on the task page."""
    revision: Revision | None = None
    """What a REVISED or WITHDRAWN publication changed; None for a NEW one."""


@dataclass(frozen=True)
class Transition:
    """One step of a task's history, as recorded in its audit trail and on assist.decisions."""

    seq: int
    action: Action
    actor: str
    at_ms: int
    district: str
    reason: str = ""
    assignee: str = ""
    lease_until_ms: int = 0
    decision_id: str = ""


@dataclass(frozen=True)
class Progress:
    """Where a task stands in casework."""

    status: Status
    district: str
    queue: str
    holder: str = ""
    lease_until_ms: int = 0
    claimed_at_ms: int = 0
    assignee: str = ""
    escalated: bool = False
    info_requested_ms: int = 0
    decided_at_ms: int = 0
    decided_by: str = ""
    seq: int = 0


def received(task: CaseworkerTask) -> Progress:
    """A task just taken in: queued in its district."""
    return Progress(Status.QUEUED, task.district, district_queue(task.district))


def advance(progress: Progress, step: Transition) -> Progress:
    """The progress after one transition (the live Redis scripts apply the same rules)."""
    seq = progress.seq + 1
    released = replace(progress, status=Status.QUEUED, holder="", lease_until_ms=0, claimed_at_ms=0, seq=seq)
    match step.action:
        case Action.CLAIMED:
            return replace(progress, status=Status.CLAIMED, holder=step.actor, lease_until_ms=step.lease_until_ms,
                           claimed_at_ms=step.at_ms, seq=seq)
        case Action.UNCLAIMED | Action.LEASE_EXPIRED:
            return released
        case Action.INFORMATION_REQUESTED:
            return replace(released, info_requested_ms=step.at_ms)
        case Action.APPROVED | Action.REJECTED:
            return replace(released, status=Status(step.action.value), decided_at_ms=step.at_ms,
                           decided_by=step.actor)
        case Action.REASSIGNED:
            return replace(released, district=step.district, queue=district_queue(step.district),
                           assignee=step.assignee)
        case Action.ESCALATED:
            return replace(progress, escalated=True, queue=region_queue(progress.district), seq=seq)


def history(task: CaseworkerTask, steps: Iterable[Transition]) -> Progress:
    """The progress of `task` after its transitions, in order."""
    progress = received(task)
    for step in steps:
        progress = advance(progress, step)
    return progress
