"""The citizen's data-use log, the service layer: for a signed-in person, the offers and decisions about them with
the department events each was based on, and every disclosure of their contact details to staff (role, district,
purpose, fields, when; never who)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from services.core.application_views import ApplicationStore
from services.notification.domain.answers import OfferView
from services.notification.domain.data_use import ContactUse, EventUse, events_of
from services.notification.ports import CitizenViews, DataUseLog


@dataclass(frozen=True)
class OfferUse:
    """An offer (and the person's or a caseworker's decision on it) with the events it was based on."""

    view: OfferView
    events: tuple[EventUse, ...]


@dataclass(frozen=True)
class DataUse:
    offers: tuple[OfferUse, ...]
    contact_uses: tuple[ContactUse, ...]


class DataUseDesk:
    def __init__(self, views: CitizenViews, log: DataUseLog, applications: ApplicationStore,
                 usable: Callable[[], Awaitable[None]] | None = None, departments: Mapping[str, str] | None = None):
        """`departments`: event type → the department that owns it (schemas/events)."""
        self._views, self._log, self._applications, self._usable = views, log, applications, usable
        self._departments = dict(departments or {})

    async def of_person(self, person_id: str) -> DataUse:
        """The person's data-use log (raises a Redis ConnectionError while the state is being rebuilt)."""
        if self._usable is not None:
            await self._usable()
        views = await self._views.all(person_id)
        evidence = await self._log.evidence_of([v.offer_id for v in views])
        types = await self._log.evidence_types_of([v.offer_id for v in views])
        mine = [a.application_id for a in await self._applications.of_person(person_id)]
        offers = tuple(OfferUse(v, tuple(events_of(v.offer, evidence.get(v.offer_id, ()), mine, types,
                                                   self._departments))) for v in views)
        return DataUse(offers, tuple(await self._log.contact_uses(person_id)))
