"""The state stores matching's service needs, as ports. The worker passes faust tables in
(adapters/faust_stores.py); unit tests pass the in-memory ones. Keys are the raw ids the topics are keyed by."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

Headers = list[tuple[str, bytes]]


class HouseholdStore(Protocol):
    """Each household's stored form (adapters/stored.py: its state and what its last messages sent), by household
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

    def release(self, person_id: bytes) -> list[tuple[bytes, Headers]]:
        """The person's held events in arrival order, forgotten by the store."""
