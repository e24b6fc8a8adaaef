"""Applications from the citizen page, the service layer: a signed-in resident applies for a programme of the
current catalogue; the application is an application.submitted event on assist.events (its id the application
id), kept in the person's list, where matching's answer appears when it arrives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from services.core.codec import Event
from services.core.resident_applications import CITIZEN, ApplicationRefused, Programmes, application_event
from services.notification.domain.applications import Application


class ProgrammeSource(Protocol):
    async def current(self) -> Programmes | None:
        """The programmes of the current catalogue version; None when no catalogue was read."""


class ApplicationLog(Protocol):
    async def submit(self, event: Event) -> None:
        """Publish the application event durably; raises ports.Unavailable when the log does not acknowledge it."""


class ApplicationStore(Protocol):
    async def submitted(self, person_id: str, application: Application) -> None:
        """Keep an application made on the citizen page (the same id again changes nothing)."""

    async def answered(self, person_id: str, answer: Mapping[str, Any]) -> None:
        """Keep matching's answer to one of the person's applications (the same answer again changes nothing)."""

    async def all(self, person_id: str) -> list[Application]:
        """The person's applications, newest first."""


class ApplicationDesk:
    def __init__(self, programmes: ProgrammeSource, log: ApplicationLog, store: ApplicationStore,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self._programmes, self._log, self._store, self._clock = programmes, log, store, clock

    async def programmes(self) -> Programmes | None:
        return await self._programmes.current()

    async def apply(self, person_id: str, policy_id: str) -> Application:
        """Apply for `policy_id`; ApplicationRefused naming the field, ports.Unavailable when not recorded."""
        now = self._clock()
        event = application_event(person_id, policy_id, await self._programmes.current(), "CITIZEN_PAGE", CITIZEN,
                                  now)
        await self._log.submit(event)
        application = Application(event.id, policy_id, CITIZEN, now)
        await self._store.submitted(person_id, application)
        return application

    async def applications(self, person_id: str) -> list[Application]:
        return await self._store.all(person_id)


__all__ = ["ApplicationDesk", "ApplicationRefused"]
