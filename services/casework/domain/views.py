"""What casework shows: queue rows, a task with its history, a supervisor's overview. Plain data."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.casework.domain.ordering import PriorityBand, SlaState, band_of, sla_state
from services.casework.domain.revisions import Revision
from services.casework.domain.scope import is_region_queue, queue_code
from services.casework.domain.tasks import CaseworkerTask, Progress, Status


@dataclass(frozen=True)
class QueueItem:
    """One row of a queue listing."""

    task_id: str
    kind: str
    district: str
    queue: str
    priority: int
    due_ms: int
    status: Status
    holder: str
    assignee: str
    escalated: bool
    info_requested_ms: int
    policy_id: str | None
    policy_name: str | None
    amount_fen: int | None
    reason: str

    @property
    def band(self) -> PriorityBand:
        return band_of(self.priority)

    def sla(self, now_ms: int) -> SlaState:
        return sla_state(self.due_ms, now_ms)


@dataclass(frozen=True)
class Listing:
    items: tuple[QueueItem, ...]
    truncated: bool = False
    """True when a filter that needs each task's fields stopped after its scanning budget."""


@dataclass(frozen=True)
class AuditEntry:
    """A line of a task's audit trail: its receipt, then each transition."""

    seq: int
    action: str
    actor: str
    at_ms: int
    district: str
    reason: str = ""
    assignee: str = ""
    lease_until_ms: int = 0
    decision_id: str = ""
    revision: Revision | None = None
    """Set for the entries of matching's revisions and withdrawals (action REVISED or WITHDRAWN)."""


@dataclass(frozen=True)
class TaskPage:
    """A task with its progress, its audit trail (the receipt and casework's transitions) and the revisions and
    withdrawal matching published."""

    task: CaseworkerTask
    progress: Progress
    audit: tuple[AuditEntry, ...]
    revisions: tuple[Revision, ...] = ()

    @property
    def timeline(self) -> tuple[AuditEntry, ...]:
        """The audit trail with each revision ("amount revised") and withdrawal in its place in time."""
        changes = [AuditEntry(seq=r.number or 0, action=r.change, actor="matching", at_ms=r.at_ms,
                              district=self.progress.district, reason=r.reason, revision=r) for r in self.revisions]
        return tuple(sorted((*self.audit, *changes), key=lambda e: (e.at_ms, e.revision is not None)))

    @property
    def reinstatements(self) -> frozenset[int | None]:
        """The numbers of the revisions that reopened the task after a withdrawal (matching offered it again)."""
        return frozenset(r.number for before, r in zip(self.revisions, self.revisions[1:], strict=False)
                         if before.withdrawn and not r.withdrawn)

    @property
    def deadline_moves(self) -> frozenset[int | None]:
        """The numbers of the revisions that moved the task's due date and no amount: any revision of a task
        without an offer (a risk warning), an offer's revision that keeps its amount (not a reinstatement)."""
        reinstatements = self.reinstatements
        return frozenset(r.number for r in self.revisions if not r.withdrawn and r.number not in reinstatements and (
            self.task.offer_id is None or (r.amount_fen is not None and r.amount_fen == r.previous_amount_fen)))

    @property
    def withdrawal(self) -> Revision | None:
        last = self.revisions[-1] if self.revisions else None
        return last if last is not None and last.withdrawn else None


@dataclass(frozen=True)
class QueueDepth:
    """Undecided tasks of one queue by priority band: queued (claimable) and claimed."""

    queue: str
    queued: dict[PriorityBand, int] = field(default_factory=dict)
    claimed: dict[PriorityBand, int] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return queue_code(self.queue)

    @property
    def escalated(self) -> bool:
        return is_region_queue(self.queue)

    def total(self, band: PriorityBand | None = None) -> int:
        bands = [band] if band else list(PriorityBand)
        return sum(self.queued.get(b, 0) + self.claimed.get(b, 0) for b in bands)


@dataclass(frozen=True)
class Overview:
    """A supervisor's region: depth of every queue, and the tasks escalated past their deadline."""

    region: str
    depths: tuple[QueueDepth, ...]
    breaches: tuple[QueueItem, ...]
    breaches_by_district: dict[str, int]
