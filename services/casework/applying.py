"""Applying on a resident's behalf, a service beside Casework: a caseworker who sees a task applies for a programme
of the current catalogue for the resident the task names. The application is an application.submitted event on
assist.events (applied_by the caseworker, source the casework console); matching's answer is kept per resident and
shown on the task page."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Protocol

from services.casework.domain.scope import Staff
from services.casework.service import Casework, CaseworkError, Invalid, TaskNotFound, Unavailable
from services.core.application_views import Application, ApplicationStore, ProgrammeSource
from services.core.codec import Event
from services.core.resident_applications import ApplicationRefused, Programmes, application_event


class ApplicationLog(Protocol):
    async def submit(self, event: Event) -> None:
        """Publish the application durably; service.Unavailable when the log does not acknowledge it."""




_REFUSED: dict[str, Callable[[str], CaseworkError]] = {
    "invalid": lambda text: Invalid(text, "policy"),
    "unknown": lambda text: TaskNotFound(text, "unknown_policy"),
    "unavailable": lambda text: Unavailable(text, "no_catalogue"),
}


class Applying:
    def __init__(self, casework: Casework, programmes: ProgrammeSource, log: ApplicationLog, store: ApplicationStore,
                 clock: Callable[[], float] = time.time):
        self._casework, self._programmes, self._log, self._store = casework, programmes, log, store
        self._clock = clock

    async def programmes(self) -> Programmes | None:
        return await self._programmes.current()

    async def apply(self, who: Staff, task_id: str, policy_id: str) -> Application:
        """Apply for the resident of a task in one's scope (TaskNotFound otherwise); Invalid when the task names no
        resident or the policy id is malformed, TaskNotFound (code unknown_policy) when the catalogue lacks it,
        Unavailable when no catalogue was read or the log does not acknowledge the application."""
        page = await self._casework.task(who, task_id)
        person = page.task.person_id
        if not person:
            raise Invalid("person_id: the task names no resident to apply for (a household task)", "no_person")
        now = self._clock()
        try:
            event = application_event(person, policy_id, await self._programmes.current(), "CASEWORKER", who.sub,
                                      dt.datetime.fromtimestamp(now, dt.UTC))
        except ApplicationRefused as refused:
            raise _REFUSED[refused.kind](str(refused)) from None
        await self._log.submit(event)
        application = Application(event.id, person, policy_id, who.sub, int(now * 1000))
        await self._store.submitted(application)
        return application

    async def of_person(self, person_id: str | None) -> list[Application]:
        return await self._store.of_person(person_id) if person_id else []
