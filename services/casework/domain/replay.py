"""Rebuilding casework from its record: the task records of assist.tasks and the transitions of assist.decisions,
both read from the beginning, fold into every task's progress exactly as the live transitions left it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.casework.domain.scope import district_queue, region_queue
from services.casework.domain.tasks import Action, CaseworkerTask, Progress, Transition, history


@dataclass(frozen=True)
class Replayed:
    task: CaseworkerTask
    progress: Progress
    steps: tuple[Transition, ...]
    consistent: bool = True
    """False when the transitions have a gap or a clash in their sequence numbers: only the consistent
    prefix of the history was applied."""

    @property
    def queues(self) -> frozenset[str]:
        """Every queue the task passed through."""
        used = {district_queue(self.task.district)}
        for step in self.steps:
            if step.action is Action.REASSIGNED:
                used.add(district_queue(step.district))
            elif step.action is Action.ESCALATED:
                used.add(region_queue(step.district))
        return frozenset(used)


def transitions_by_task(decisions: Iterable[tuple[str, Transition]]) -> dict[str, list[Transition]]:
    """Each task's transitions, one per decision id (a re-sent decision counts once), in sequence order."""
    steps: dict[str, dict[str, Transition]] = {}
    for task_id, step in decisions:
        steps.setdefault(task_id, {}).setdefault(step.decision_id, step)
    return {task_id: sorted(by_id.values(), key=lambda s: s.seq) for task_id, by_id in steps.items()}


def replay_task(task: CaseworkerTask, steps: Iterable[Transition]) -> Replayed:
    """The task after its transitions; stops at the first gap in the sequence."""
    consistent: list[Transition] = []
    for expected, step in enumerate(steps, start=1):
        if step.seq != expected:
            return Replayed(task, history(task, consistent), tuple(consistent), consistent=False)
        consistent.append(step)
    return Replayed(task, history(task, consistent), tuple(consistent))
