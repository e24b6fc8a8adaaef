"""Revisions and withdrawals of a task: matching publishes a task id again with change REVISED (the offer's amount
changed while it waited for a caseworker) or WITHDRAWN (the household no longer qualifies, or a review is no longer
needed). Casework keeps the publication with the highest revision number; a withdrawal ends the chain; an older or
repeated publication changes nothing. The live Redis script (lua/ingest.lua) and the rebuild apply the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from services.casework.domain.tasks import CaseworkerTask, Progress, Status

NEW, REVISED, WITHDRAWN = "NEW", "REVISED", "WITHDRAWN"


@dataclass(frozen=True)
class Revision:
    """What one REVISED or WITHDRAWN publication says changed, as the audit trail shows it."""

    change: str
    number: int | None
    """offer.revision.number; None for a withdrawal that carries no number (an exit review's): it then takes the
    number after the stored one."""
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


def next_number(stored: int | None, stored_withdrawn: bool, revision: Revision | None) -> int | None:
    """The revision number a publication takes, or None when it changes nothing: a NEW publication of a known task,
    anything after a withdrawal, a number not above the stored one. `stored` is None for a task not seen yet."""
    if stored is None:
        if revision is None:
            return 0
        return revision.number if revision.number is not None else 1
    if revision is None or stored_withdrawn:
        return None
    number = revision.number if revision.number is not None else stored + 1
    return number if number > stored else None


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
    number = next_number(known.number, known.withdrawn, task.revision)
    if number is None or task.revision is None:
        return
    folded[task.task_id] = replace(known, latest=task, number=number,
                                   revisions=(*known.revisions, (number, task.revision)))


def withdrawn(progress: Progress) -> Progress:
    """The progress of a task withdrawn while open: out of every queue, its claim ended. A decided task stays
    decided (the withdrawal is only recorded in its history)."""
    if progress.status.decided:
        return progress
    return replace(progress, status=Status.WITHDRAWN, holder="", lease_until_ms=0, claimed_at_ms=0)
