"""What the vault's service layer needs from the outside world."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Protocol

from services.vault.domain.disclosure import Disclosure


class SealedStore(Protocol):
    """Sealed identity details per person, and the members of each household. Holds only sealed text."""

    async def put(self, person_id: str, household_id: str, sealed: Mapping[str, str], updated_at_ms: int) -> bool:
        """Store `sealed` (field → sealed text) for the person unless a newer version is stored (False then);
        a person who moved household leaves the old one."""

    async def erase(self, person_id: str) -> None:
        """Forget the person (a tombstone from the registry)."""

    async def members(self, household_id: str) -> list[str]:
        """Person ids of the household's members the store holds."""

    async def sealed(self, person_ids: Iterable[str], fields: Iterable[str]) -> dict[str, dict[str, str]]:
        """person id → field → sealed text, for the fields the store holds."""

    def person_ids(self, batch: int) -> AsyncIterator[list[str]]:
        """Every stored person id, in batches of about `batch`, without holding them all (re-sealing after a key
        rotation); a person stored meanwhile may be missed or given twice."""


class AuditLog(Protocol):
    """The append-only record of disclosures (assist.disclosures)."""

    async def record(self, disclosure: Disclosure) -> None:
        """Return only once the record is durable: nothing is shown before it is."""


class DisclosureTally(Protocol):
    """Who was shown what lately, for the supervisor's figures (the audit topic stays the record)."""

    async def note(self, disclosure: Disclosure) -> None:
        """Count a disclosure just recorded."""

    async def since(self, at_ms: int, actors: Iterable[str] | None = None) -> list[Disclosure]:
        """Disclosures counted at or after `at_ms` (of `actors`, or everyone's), without their person ids."""
