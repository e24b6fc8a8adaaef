"""Casework's service layer: who may do what to which task, and what happens when they do.

Ports: `TaskBoard` (the atomic transitions, Redis scripts in production), `TaskViews` (the read side) and
`StaffDirectory` (staff accounts). Every transition is recorded with its audit entry and its outbox entry in one
atomic step by the board; this layer checks commands, maps refusals to errors and counts what happened.
"""

from __future__ import annotations

import enum
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from services.casework.domain.ordering import QueueFilter
from services.casework.domain.scope import DIVISION_CODE, Staff, district_queue, region_of, region_queue
from services.casework.domain.tasks import CaseworkerTask, InvalidCommand, Verdict, check_reason, optional_reason
from services.casework.domain.views import Listing, Overview, QueueDepth, QueueItem, TaskPage
from services.casework.metrics import CaseworkMetrics
from services.core.logs import record_ids

log = logging.getLogger(__name__)
CLAIM_NEXT_WINDOW = 32
OVERVIEW_BREACHES = 200


class Emitted(NamedTuple):
    """A transition a command recorded (and queued for assist.decisions)."""

    action: str
    district: str
    decision_id: str


@dataclass(frozen=True)
class Answer:
    """What a board script answered: a status word, the transitions it recorded in order, and details."""

    status: str
    emitted: tuple[Emitted, ...] = ()
    details: dict[str, Any] | None = None

    def detail(self, name: str) -> str:
        return str((self.details or {}).get(name) or "")


class TakenIn(enum.Enum):
    """What a publication of a task did: a new task, a revision or withdrawal applied, or nothing (known or older)."""

    NEW = "new"
    REVISED = "revised"
    DUPLICATE = "duplicate"


class TaskBoard(Protocol):
    """Atomic transitions of tasks. Each call records its transitions (audit trail and outbox) atomically.
    `scope` is Staff.scope_token(); `now_ms` the caller's clock."""

    async def take_in(self, tasks: Sequence[CaseworkerTask]) -> list[TakenIn]:
        """Queue tasks not seen before and apply revisions and withdrawals newer than the stored one; per task,
        what it did."""

    async def claim(self, task_id: str, actor: str, scope: str, lease_ms: int, now_ms: int) -> Answer: ...

    async def claim_next(self, actor: str, scope: str, queues: Sequence[str], lease_ms: int, window: int,
                         now_ms: int) -> Answer: ...

    async def unclaim(self, task_id: str, actor: str, scope: str, now_ms: int) -> Answer: ...

    async def decide(self, task_id: str, actor: str, scope: str, action: str, reason: str, now_ms: int) -> Answer: ...

    async def reassign(self, task_id: str, actor: str, scope: str, district: str, assignee: str, reason: str,
                       now_ms: int) -> Answer: ...

    async def expire_leases(self, limit: int, now_ms: int) -> Answer: ...

    async def escalate_breaches(self, limit: int, now_ms: int) -> Answer: ...


class TaskViews(Protocol):
    """The read side: queues, tasks, depths."""

    async def queue_names(self) -> list[str]: ...

    async def listing(self, queues: Sequence[str], keep: QueueFilter, claimed: bool | None, now_ms: int,
                      offset: int, limit: int) -> Listing:
        """Rows of `queues` in queue order; `claimed` None for both queued and claimed tasks."""

    async def page(self, task_id: str) -> TaskPage | None: ...

    async def depths(self, queues: Sequence[str]) -> list[QueueDepth]: ...

    async def items(self, queue: str, claimed: bool, limit: int) -> list[QueueItem]: ...


class StaffDirectory(Protocol):
    def find(self, sub: str) -> Staff | None:
        """The member of staff with this id, or None."""


class CaseworkError(Exception):
    """A refused command; `status` is the HTTP status that says why, `code` a word for the console to translate."""

    status = 400
    reason = "invalid"

    def __init__(self, message: str, code: str = "", holder: str = "", field: str = ""):
        super().__init__(message)
        self.code = code or self.reason
        self.holder = holder
        self.field = field
        """The request field at fault, when one is."""


class TaskNotFound(CaseworkError):
    status, reason = 404, "not_found"


class Conflict(CaseworkError):
    status, reason = 409, "conflict"


class Invalid(CaseworkError):
    status, reason = 400, "invalid"


class Forbidden(CaseworkError):
    status, reason = 403, "forbidden"


class Unavailable(CaseworkError):
    status, reason = 503, "unavailable"


_REFUSALS: dict[str, Callable[[Answer], CaseworkError]] = {
    "NOT_FOUND": lambda a: TaskNotFound("no such task"),
    "HELD": lambda a: Conflict("the task is claimed", "held", a.detail("holder")),
    "DECIDED": lambda a: Conflict("the task is already decided", "decided"),
    "ASSIGNED": lambda a: Conflict("the task is reserved for another caseworker", "assigned", a.detail("assignee")),
    "ESCALATED": lambda a: Conflict("the task was escalated to the supervisor's queue", "escalated"),
    "NOT_HOLDER": lambda a: Conflict("claim the task first", "not_holder", a.detail("holder")),
    "OUT_OF_SCOPE": lambda a: Invalid("the district is outside your region", "out_of_scope"),
    "EMPTY": lambda a: TaskNotFound("no task to claim", "empty"),
    "UNAVAILABLE": lambda a: Unavailable("the queues are being rebuilt; retry shortly"),
    "WITHDRAWN": lambda a: Conflict("the task was withdrawn by matching, so it can no longer be claimed, approved or "
                                    f"rejected: {a.detail('reason') or 'the household no longer qualifies'}",
                                    "withdrawn"),
}


class Casework:
    def __init__(self, board: TaskBoard, views: TaskViews, directory: StaffDirectory, metrics: CaseworkMetrics,
                 lease_seconds: int, clock: Callable[[], float] = time.time):
        self._board = board
        self._views = views
        self._directory = directory
        self._metrics = metrics
        self._lease_ms = lease_seconds * 1000
        self._clock = clock

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    # ---- commands ----------------------------------------------------------------------------------------------

    async def claim(self, who: Staff, task_id: str) -> Answer:
        """Take the lease on a task; Conflict when someone holds it, it is reserved or decided."""
        return self._settle(await self._board.claim(task_id, who.sub, who.scope_token(), self._lease_ms,
                                                    self.now_ms()))

    async def claim_next(self, who: Staff, district: str | None = None) -> Answer:
        """Claim the first claimable task of one's queues (or of one district); TaskNotFound when none."""
        queues = [q for q in await self._views.queue_names() if who.sees_queue(q)]
        if district is not None:
            queues = [q for q in queues if q == district_queue(district)]
        return self._settle(await self._board.claim_next(who.sub, who.scope_token(), queues, self._lease_ms,
                                                         CLAIM_NEXT_WINDOW, self.now_ms()))

    async def unclaim(self, who: Staff, task_id: str) -> Answer:
        return self._settle(await self._board.unclaim(task_id, who.sub, who.scope_token(), self.now_ms()))

    async def decide(self, who: Staff, task_id: str, verdict: Verdict, reason: str | None) -> Answer:
        """Approve, reject (a reason is required) or request information on a task one holds. The same decision
        sent again by the same caseworker (a retry after a lost answer) answers the recorded one; nothing is
        recorded twice."""
        text = self._checked(lambda: check_reason(verdict, reason))
        now = self.now_ms()
        raw = await self._board.decide(task_id, who.sub, who.scope_token(), verdict.value, text, now)
        if raw.status in ("DECIDED", "NOT_HOLDER"):
            recorded = await self._recorded(who, task_id, verdict, text)
            if recorded is not None:
                return recorded
        answer = self._settle(raw)
        claimed_at = answer.detail("claimed_at")
        if verdict is not Verdict.REQUEST_INFORMATION and claimed_at.isdigit() and int(claimed_at):
            self._metrics.decided_after((now - int(claimed_at)) / 1000)
        await self._told_decided(task_id, answer)
        return answer

    async def _told_decided(self, task_id: str, answer: Answer) -> None:
        """One line per decision recorded, with the task's trace (the event behind it) read back from its page: one
        Redis round trip more per decision, a person's pace, and none when INFO lines are not written."""
        if not log.isEnabledFor(logging.INFO):
            return
        try:
            page = await self._views.page(task_id)
        except Exception:  # the decision is recorded: only its line goes without the trace
            page = None
        ids = record_ids("caseworker_task", json.loads(page.task.body)) if page else {"task_id": task_id}
        for emitted in answer.emitted:
            log.info("decision %s recorded", emitted.action,
                     extra={**ids, "decision_id": emitted.decision_id, "action": emitted.action})

    async def reassign(self, who: Staff, task_id: str, district: str | None, caseworker: str | None,
                       reason: str | None) -> Answer:
        """Move a task to a district of one's region, optionally reserved for a caseworker (supervisors only)."""
        if not who.is_supervisor:
            self._metrics.refused(Forbidden.reason)
            raise Forbidden("only a supervisor reassigns tasks")
        if district is not None and not DIVISION_CODE.match(district):
            raise self._invalid("district must be a six-digit code", "out_of_scope")
        page = await self.task(who, task_id)
        target = district or page.progress.district
        assignee = ""
        if caseworker:
            member = self._directory.find(caseworker)
            if member is None or member.is_supervisor:
                raise self._invalid("no such caseworker", "no_caseworker")
            if district is None and target not in member.districts:
                theirs = sorted(d for d in member.districts if who.sees(d))
                if len(theirs) != 1:
                    raise self._invalid("name the district: the caseworker works in several or none of yours",
                                        "name_district")
                target = theirs[0]
            if target not in member.districts:
                raise self._invalid("the caseworker does not work in that district", "caseworker_district")
            assignee = member.sub
        if not who.sees(target):
            raise self._invalid("the district is outside your region", "out_of_scope")
        text = self._checked(lambda: optional_reason(reason))
        return self._settle(await self._board.reassign(task_id, who.sub, who.scope_token(), target, assignee, text,
                                                       self.now_ms()))

    async def _recorded(self, who: Staff, task_id: str, verdict: Verdict, reason: str) -> Answer | None:
        """The answer of this very decision when it is the task's last transition, else None."""
        page = await self._views.page(task_id)
        if page is None or not page.audit or not who.sees(page.progress.district):
            return None
        last = page.audit[-1]
        if (last.action, last.actor, last.reason) != (verdict.value, who.sub, reason):
            return None
        return Answer("OK", (Emitted(last.action, last.district, last.decision_id),),
                      {"task_id": task_id, "replayed": True})

    # ---- the worker's timers -----------------------------------------------------------------------------------

    async def expire_leases(self, limit: int = 500) -> int:
        """Return tasks whose lease ran out to their queues; how many."""
        answer = self._settle(await self._board.expire_leases(limit, self.now_ms()))
        return len(answer.emitted)

    async def escalate_breaches(self, limit: int = 500) -> int:
        """Escalate undecided tasks past their deadline to their region's supervisor queue; how many."""
        answer = self._settle(await self._board.escalate_breaches(limit, self.now_ms()))
        return len(answer.emitted)

    # ---- queries -----------------------------------------------------------------------------------------------

    async def queue(self, who: Staff, keep: QueueFilter, claimed: bool | None = False, offset: int = 0,
                    limit: int = 50) -> Listing:
        """The tasks of one's queues (supervisors: the region's district queues and its escalation queue)."""
        queues = [q for q in await self._views.queue_names() if who.sees_queue(q)]
        if keep.districts is not None:
            wanted = {district_queue(d) for d in keep.districts}
            queues = [q for q in queues if q in wanted or (who.is_supervisor and q.startswith("r:"))]
        return await self._views.listing(queues, keep, claimed, self.now_ms(), offset, limit)

    async def task(self, who: Staff, task_id: str) -> TaskPage:
        """A task in one's scope with its audit trail; TaskNotFound otherwise (ids cannot be probed)."""
        page = await self._views.page(task_id)
        if page is None or not who.sees(page.progress.district):
            self._metrics.refused(TaskNotFound.reason)
            raise TaskNotFound("no such task")
        return page

    async def overview(self, who: Staff) -> Overview:
        """Queue depth by district and priority band in one's region, and the breaches waiting in its supervisor
        queue (escalated and not yet reassigned; at most OVERVIEW_BREACHES queued and as many claimed)."""
        if not who.is_supervisor or who.region is None:
            self._metrics.refused(Forbidden.reason)
            raise Forbidden("the overview is for supervisors")
        queues = sorted(q for q in await self._views.queue_names() if who.sees_queue(q))
        depths = await self._views.depths(queues)
        escalated = region_queue(who.region)
        breaches = [*await self._views.items(escalated, False, OVERVIEW_BREACHES),
                    *await self._views.items(escalated, True, OVERVIEW_BREACHES)]
        by_district: dict[str, int] = {}
        for item in breaches:
            by_district[item.district] = by_district.get(item.district, 0) + 1
        return Overview(region_of(who.region), tuple(depths), tuple(breaches), by_district)

    async def depths(self) -> list[QueueDepth]:
        """Depth of every queue, for the metrics endpoint."""
        return await self._views.depths(sorted(await self._views.queue_names()))

    # ---- answers -----------------------------------------------------------------------------------------------

    def _settle(self, answer: Answer) -> Answer:
        self._metrics.transitioned((e.action, e.district) for e in answer.emitted)
        refusal = _REFUSALS.get(answer.status)
        if refusal is None:
            return answer
        error = refusal(answer)
        self._metrics.refused(error.reason)
        raise error

    def _checked(self, check: Callable[[], str]) -> str:
        try:
            return check()
        except InvalidCommand as exc:
            raise self._invalid(str(exc), "reason") from None

    def _invalid(self, message: str, code: str = "") -> Invalid:
        self._metrics.refused(Invalid.reason)
        return Invalid(message, code)

