"""What matching's service needs from outside, as ports: the state stores (faust tables in the worker,
adapters/faust_stores.py; in-memory ones in unit tests), the reading of change events off the wire
(adapters/messages.py) and the catalogue versions (adapters/catalogue_feed.py). Keys are the raw ids the topics
are keyed by. Dependencies point inwards: adapters implement these, the service layer never imports an adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, Protocol

from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue
from services.matching.messages import Application, ChangeEvent

Headers = list[tuple[str, bytes]]
RawHeaders = Sequence[tuple[str, bytes | None]]
"""Headers as a consumer reads them (a value may be None)."""


class Commits(Protocol):
    """What the worker's consumer group has committed (faust's consumer in the worker)."""

    def committed(self, topic: str, partition: int) -> int | None:
        """The committed offset (the next to read) on the partition, None when not known."""
        ...


class NothingCommitted:
    """Commits where none is known (unit tests, tools): everything stored is kept, up to its bound."""

    def committed(self, topic: str, partition: int) -> int | None:
        return None


class HouseholdStore(Protocol):
    """Each household's stored form (stored.py: its state and what its last messages sent), by household
    id. Only the household agent of the worker that owns the household's partition writes it."""

    def get(self, household_id: bytes) -> dict[str, Any] | None:
        """The stored form, or None for a household never stored."""

    def put(self, household_id: bytes, stored: dict[str, Any]) -> None:
        """Replace the stored form (durably: a restarted worker reads it back)."""

    def stored(self) -> Iterable[dict[str, Any]]:
        """Every stored form this worker holds (the partitions assigned to it), to rebuild the population."""


class Memberships(Protocol):
    """Person id → household id, as the registry last said (assist.matching.membership)."""

    def household_of(self, person_id: bytes) -> bytes | None:
        """The person's household, None for a person the registry has not introduced (or who left)."""

    def put(self, person_id: bytes, household_id: bytes | None) -> None:
        """Record the person's household; None: the person belongs to no household any more."""


class WaitingEvents(Protocol):
    """Events about persons the registry has not introduced yet, held per person in arrival order until it
    does."""

    def count(self, person_id: bytes) -> int:
        """How many events are held for the person."""

    def hold(self, person_id: bytes, value: bytes, headers: Headers) -> None:
        """Hold one more event (its bytes and headers as they arrived)."""

    def held(self, person_id: bytes) -> list[tuple[bytes, Headers]]:
        """The person's held events in arrival order."""

    def forget(self, person_id: bytes) -> None:
        """Forget the person's held events: only once they were delivered to the household. A store's own state
        is written at once and outlives a crash; the records a crash cut off are not, so events forgotten before
        their delivery were lost when the worker died in between."""


class EventReader(Protocol):
    """Change events as they travel on assist.events and the household inbox (CloudEvents binary mode)."""

    def read(self, value: bytes | None, headers: RawHeaders) -> ChangeEvent | Application:
        """The typed message; ContractError naming the field when it is not one."""

    def names_a_request(self, headers: RawHeaders) -> bool:
        """Whether the headers name a request kind (an application), before the body is decoded."""

    def inbox_headers(self, headers: RawHeaders) -> Headers:
        """The headers of a change event re-keyed onto the household inbox."""


class CatalogueSource(Protocol):
    """Every published version of the worker's catalogue, in publication order, for as long as the worker runs
    (refused versions are logged by the source and not yielded)."""

    def versions(self) -> AsyncIterator[PolicyCatalogue]:
        """The versions, one by one."""
