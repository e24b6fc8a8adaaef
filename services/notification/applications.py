"""Applications from the citizen page, the service layer: a signed-in resident applies for a programme of the
current catalogue; the application is an application.submitted event on assist.events (its id the application
id), kept in the person's list, where matching's answer appears when it arrives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol

from services.core.application_views import Application, ApplicationStore, ProgrammeSource
from services.core.codec import Event
from services.core.resident_applications import CITIZEN, ApplicationRefused, Programmes, application_event


class ApplicationLog(Protocol):
    async def submit(self, event: Event) -> None:
        """Publish the application event durably; raises ports.Unavailable when the log does not acknowledge it."""


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
        application = Application(event.id, person_id, policy_id, CITIZEN, int(now.timestamp() * 1000))
        await self._store.submitted(application)
        return application

    async def applications(self, person_id: str) -> list[Application]:
        return await self._store.of_person(person_id)


__all__ = ["ApplicationDesk", "ApplicationRefused"]
