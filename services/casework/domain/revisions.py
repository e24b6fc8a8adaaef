"""Revisions, withdrawals and reinstatements of a task: matching publishes a task id again with change REVISED (the
offer's amount changed while it waited for a caseworker, or the household qualifies again after a withdrawal) or
WITHDRAWN (the household no longer qualifies, or a review is no longer needed).

The rule, applied alike by the live Redis script (lua/ingest.lua) and the rebuild from assist.tasks:
- the publication with the highest revision number stands; an older or repeated one, or a NEW publication of a
  known task, changes nothing;
- a WITHDRAWN publication closes the chain. A later publication that is NOT a withdrawal and has a higher revision
  number reopens it: a reinstatement (matching offers the same offer id again, reason "Offered again: ...").
  Anything else after a withdrawal (another withdrawal, an older or equal number, a NEW) changes nothing;
- a task open (queued or claimed) when withdrawn has status WITHDRAWN and is in no queue; reinstated, it is queued
  again, unclaimed, with the new priority and deadline (an escalated task stays in its region's queue, as a
  revision leaves it). A task decided before the withdrawal stays decided: the withdrawal and the reinstatement are
  only recorded in its history;
- the claim a withdrawal ended is released at the reinstatement by a transition UNCLAIMED of actor
  REINSTATEMENT_RELEASER on assist.decisions, so that a rebuild folding the transitions in order finds the task
  queued, and each withdrawal's holder (held_by) where the live view recorded it;
- a publication without a revision number (offer.revision.number) takes the number after the stored one. A
  WITHDRAWN one (an exit review's) is applied as any withdrawal. A REVISED one (a risk warning, VISIT or
  PHONE_CHECK, whose deadline moved because a report dated earlier arrived late: reason "Due date moved: ...") is
  applied only when it changes what the task says, its due time, priority or reason, against the publication that
  stands: matching may publish the same record twice (it re-sends what it had not committed after a crash), and
  the record again, or one equal to what stands, changes nothing (no revision, no audit entry; taken in as a
  duplicate). Applied, it moves the task in its queue and in the due set as a numbered revision does. It never
  reopens a withdrawn task: only an offer is reinstated, and with a number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from services.casework.domain.tasks import Action, CaseworkerTask, Progress, Status, Transition, history

NEW, REVISED, WITHDRAWN = "NEW", "REVISED", "WITHDRAWN"
REINSTATEMENT_RELEASER = "system"
"""The actor of the UNCLAIMED transition that releases, at a reinstatement, the claim its withdrawal ended (a
caseworker's own UNCLAIMED carries the caseworker; the scripts' other system transitions are LEASE_EXPIRED and
ESCALATED). Its time is the reinstatement's publication time."""


@dataclass(frozen=True)
class Revision:
    """What one REVISED or WITHDRAWN publication says changed, as the audit trail shows it."""

    change: str
    number: int | None
    """offer.revision.number; None for a publication that carries no number (an exit review's withdrawal, a risk
    warning's moved deadline): it then takes the number after the stored one."""
    at_ms: int
    """When matching published it (the record's timestamp on assist.tasks, the same live and in a rebuild)."""
    reason: str
    previous_amount_fen: int | None = None
    amount_fen: int | None = None
    changed_facts: tuple[str, ...] = ()
    previous_summary: str = ""
    previous_computation: str | None = None
    summary: str = ""
    computation: str | None = None
    held_by: str = ""
    """For a withdrawal: the caseworker who had the task claimed when it was withdrawn."""

    @property
    def withdrawn(self) -> bool:
        return self.change == WITHDRAWN


def next_number(stored: int | None, stored_withdrawn: bool, revision: Revision | None,
                changes_task: bool = True) -> int | None:
    """The revision number a publication takes, or None when it changes nothing: a NEW publication of a known task,
    a withdrawal after a withdrawal, a number not above the stored one, a REVISED publication without a number that
    does not change what the task says (`changes_task`, see changes_what_it_says) or comes after a withdrawal.
    After a withdrawal a higher number that is not a withdrawal reinstates the task. `stored` is None for a task
    not seen yet."""
    if stored is None:
        if revision is None:
            return 0
        return revision.number if revision.number is not None else 1
    if revision is None or (stored_withdrawn and revision.withdrawn):
        return None
    if revision.number is None:
        if not revision.withdrawn and (stored_withdrawn or not changes_task):
            return None
        return stored + 1
    return revision.number if revision.number > stored else None


def changes_what_it_says(standing: CaseworkerTask, task: CaseworkerTask) -> bool:
    """Whether a publication says something else than the one that stands: another due time, priority or reason
    (what a REVISED publication without a revision number may change)."""
    return (task.due_ms, task.priority, task.reason) != (standing.due_ms, standing.priority, standing.reason)


def revised_task(first: CaseworkerTask, latest: CaseworkerTask) -> CaseworkerTask:
    """The task as it stands: the latest publication's fields, its district of origin and creation time from the
    first (a revision neither moves the task to another district nor makes it younger)."""
    return replace(latest, district=first.district, created_ms=first.created_ms)


@dataclass(frozen=True)
class Publications:
    """A task's publications folded: the first (its receipt), the one that stands, the revisions applied."""

    first: CaseworkerTask
    latest: CaseworkerTask
    number: int
    revisions: tuple[tuple[int, Revision], ...] = ()

    @property
    def withdrawn(self) -> bool:
        return bool(self.revisions) and self.revisions[-1][1].withdrawn

    @property
    def task(self) -> CaseworkerTask:
        return revised_task(self.first, self.latest)


def fold(tasks: Iterable[CaseworkerTask]) -> dict[str, Publications]:
    """Each task id's publications in the order they were read."""
    folded: dict[str, Publications] = {}
    for task in tasks:
        fold_one(folded, task)
    return folded


def fold_one(folded: dict[str, Publications], task: CaseworkerTask) -> None:
    """Fold one more publication into `folded` (in place: a rebuild folds a whole topic)."""
    known = folded.get(task.task_id)
    if known is None:
        number = next_number(None, False, task.revision)
        assert number is not None
        applied = ((number, task.revision),) if task.revision is not None else ()
        folded[task.task_id] = Publications(task, task, number, applied)
        return
    number = next_number(known.number, known.withdrawn, task.revision, changes_what_it_says(known.latest, task))
    if number is None or task.revision is None:
        return
    folded[task.task_id] = replace(known, latest=task, number=number,
                                   revisions=(*known.revisions, (number, task.revision)))


def releases_reinstated_claim(step: Transition) -> bool:
    """The transition a reinstatement recorded to release the claim its withdrawal ended."""
    return step.action is Action.UNCLAIMED and step.actor == REINSTATEMENT_RELEASER


def holders_at_withdrawals(publications: Publications, steps: Sequence[Transition]) -> dict[int, str]:
    """For each withdrawal applied (by revision number), who had the task claimed when it was taken in: the holder
    before the release its reinstatement recorded, '' when none was recorded (nobody held it); for a withdrawal
    that stands, the holder after every transition (the scripts refuse any on a withdrawn task)."""
    task = publications.task
    releases = [i for i, step in enumerate(steps) if releases_reinstated_claim(step)]
    holders: dict[int, str] = {}
    applied = publications.revisions
    for position, (number, revision) in enumerate(applied):
        if not revision.withdrawn:
            continue
        if position + 1 == len(applied):
            done = steps
        else:
            at_ms = applied[position + 1][1].at_ms
            release = next((i for i in releases if steps[i].at_ms == at_ms), None)
            if release is None:
                holders[number] = ""
                continue
            releases.remove(release)
            done = steps[:release]
        progress = history(task, done)
        holders[number] = progress.holder if progress.status is Status.CLAIMED else ""
    return holders


def withdrawn(progress: Progress) -> Progress:
    """The progress of a task withdrawn while open: out of every queue, its claim ended. A decided task stays
    decided (the withdrawal is only recorded in its history)."""
    if progress.status.decided:
        return progress
    return replace(progress, status=Status.WITHDRAWN, holder="", lease_until_ms=0, claimed_at_ms=0)
