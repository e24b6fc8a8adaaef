"""Showing a household's contact details on a task, a service beside Casework: the identity vault decides (open task
in the viewer's scope, held by the caseworker or seen by a supervisor of the region, a purpose chosen) and records
the disclosure before anything is shown; this layer builds what the vault needs from casework's own state, turns
a refusal into the error that says why (naming the field), counts disclosures, and gives a supervisor the figures
per member of staff with the households their work explains."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from aiokafka.errors import KafkaError

from services.casework.domain.scope import Staff
from services.casework.domain.tasks import Status
from services.casework.domain.views import TaskPage
from services.casework.metrics import CaseworkMetrics
from services.casework.service import (
    Casework,
    CaseworkError,
    Conflict,
    Forbidden,
    Invalid,
    TaskNotFound,
    Unavailable,
)
from services.vault.domain.disclosure import DisclosureRequest, Purpose, Refused, StaffFigures, TaskInScope
from services.vault.service import Revealed

FIGURES_DAYS = 30


class IdentityVault(Protocol):
    """The vault's use cases casework calls in its own process (services.vault.service.Vault)."""

    async def disclose(self, request: DisclosureRequest) -> Revealed | Refused:
        """The details `request` may see, recorded on the audit log first; or why not (nothing recorded)."""

    async def figures(self, days: int = 30, actors: Iterable[str] | None = None) -> dict[str, StaffFigures]:
        """Per member of staff, what they were shown in the last `days` days."""


class WorkOfStaff(Protocol):
    """Which households a member of staff's casework explains (casework's own state)."""

    async def explained_households(self, actor: str, households: Iterable[str]) -> set[str]:
        """Those of `households` with a task `actor` holds now or decided (approved, rejected, asked information
        on)."""


@dataclass(frozen=True)
class StaffLine:
    """One line of the supervisor's figures: what a member of staff was shown and whether it looks like browsing."""

    actor: str
    role: str
    """CASEWORKER or SUPERVISOR."""
    disclosures: int
    households: int
    """Distinct households whose details they saw."""
    by_purpose: dict[str, int]
    explained: int
    """How many of those households a task they hold or decided explains."""
    browsing: bool


def of_region(supervisor: Staff, roster: Iterable[Staff]) -> list[Staff]:
    """The members of staff working in the supervisor's region: caseworkers of one of its districts, and its
    supervisors."""
    return [m for m in roster if (m.is_supervisor and m.region == supervisor.region)
            or (not m.is_supervisor and any(supervisor.sees(d) for d in m.districts))]


def task_in_scope(page: TaskPage, now_ms: int) -> TaskInScope:
    """What the vault needs of a task: open (not decided, not withdrawn) and who holds an unexpired lease."""
    progress = page.progress
    held = progress.status is Status.CLAIMED and progress.lease_until_ms > now_ms
    return TaskInScope(page.task.task_id, page.task.household_id, progress.district, open=not progress.status.closed,
                       claimed_by=progress.holder if held else None)


def refusal_error(refused: Refused, task: TaskInScope) -> CaseworkError:
    """The error that says why the vault refused, its title the vault's sentence naming the field."""
    title = f"{refused.field}: {refused.reason}"
    if refused.field == "purpose":
        return Invalid(title, "purpose", field="purpose")
    if refused.field == "household_id":
        return TaskNotFound(title, "no_details", field="household_id")
    if not task.open:
        return Conflict(title, "closed", field="task_id")
    return Conflict(title, "not_holder", task.claimed_by or "", field="task_id")


class Disclosing:
    def __init__(self, casework: Casework, vault: IdentityVault, work: WorkOfStaff, metrics: CaseworkMetrics,
                 audit_timeout_seconds: float = 10.0):
        self._casework, self._vault, self._work, self._metrics = casework, vault, work, metrics
        self._timeout = audit_timeout_seconds
        self._browsing: tuple[float, int] = (-1.0, 0)
        """When staff browsing was last counted (monotonic seconds, -1 never) and the count."""

    async def disclose(self, who: Staff, task_id: str, purpose: str) -> Revealed:
        """The details of the task's household members for `purpose`; TaskNotFound outside one's scope, Invalid for
        an unknown purpose, Conflict when the task is closed or held by someone else (or nobody), Unavailable when
        the audit log did not acknowledge the record (then nothing is shown)."""
        page = await self._casework.task(who, task_id)
        task = task_in_scope(page, self._casework.now_ms())
        request = DisclosureRequest(who.sub, "SUPERVISOR" if who.is_supervisor else "CASEWORKER", task, purpose)
        try:
            answer = await asyncio.wait_for(self._vault.disclose(request), self._timeout + 1.0)
        except (TimeoutError, KafkaError):
            self._metrics.refused(Unavailable.reason)
            raise Unavailable("the audit log did not acknowledge the disclosure: nothing was shown; retry shortly",
                              "audit_unavailable") from None
        if isinstance(answer, Refused):
            error = refusal_error(answer, task)
            self._metrics.refused(error.reason)
            raise error
        self._metrics.disclosed(answer.disclosure.purpose.value, request.actor_role)
        return answer

    async def staff_lines(self, who: Staff, roster: Iterable[Staff], days: int = FIGURES_DAYS) -> list[StaffLine]:
        """Per member of staff of the supervisor's region (of `roster`, the staff accounts), what they were shown
        over `days` and whether it looks like browsing; only for supervisors."""
        if not who.is_supervisor:
            self._metrics.refused(Forbidden.reason)
            raise Forbidden("the disclosure figures are for supervisors")
        members = of_region(who, roster)
        figures = await self._vault.figures(days, [m.sub for m in members])
        return [await self._line(m.sub, "SUPERVISOR" if m.is_supervisor else "CASEWORKER", figures.get(m.sub))
                for m in members]

    async def refresh_browsing(self, days: int = FIGURES_DAYS, max_age_seconds: float = 60.0) -> int:
        """Count everyone flagged for browsing into assist_casework_staff_browsing (at most once per
        `max_age_seconds`: a scrape reads the last count); that number."""
        counted_at, flagged = self._browsing
        if time.monotonic() - counted_at >= max_age_seconds or counted_at < 0:
            lines = [await self._line(actor, f.actor_role, f) for actor, f in (await self._vault.figures(days)).items()]
            flagged = sum(line.browsing for line in lines)
            self._browsing = (time.monotonic(), flagged)
            self._metrics.staff_browsing(flagged)
        return flagged

    async def _line(self, actor: str, role: str, figures: StaffFigures | None) -> StaffLine:
        if figures is None:
            return StaffLine(actor, role, 0, 0, {p.value: 0 for p in Purpose}, 0, False)
        explained = await self._work.explained_households(actor, figures.households)
        return StaffLine(actor, figures.actor_role, figures.disclosures, len(figures.households),
                         {p.value: figures.by_purpose.get(p, 0) for p in Purpose},
                         len(explained & figures.households), figures.browsing(explained))
