"""The vault's use cases: take in the registry's identity details sealed, disclose them by the rules, re-seal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.vault.domain.disclosure import (
    Disclosure,
    DisclosureRequest,
    Refused,
    StaffFigures,
    decide,
    staff_figures,
)
from services.vault.domain.sealing import Keyring
from services.vault.ports import AuditLog, DisclosureTally, SealedStore

SEALED_FIELDS = ("name", "address", "phone")


def context(person_id: str, field: str) -> str:
    """What a sealed value is bound to: its person and field."""
    return f"{person_id}/{field}"


@dataclass(frozen=True)
class Revealed:
    """What a disclosure shows: person id → field → text, and the record already made of it."""

    disclosure: Disclosure
    persons: dict[str, dict[str, str]]


class Vault:
    def __init__(self, store: SealedStore, audit: AuditLog, tally: DisclosureTally, keyring: Keyring,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self._store, self._audit, self._tally, self._keyring, self._clock = store, audit, tally, keyring, clock

    async def take_in(self, identity: Mapping[str, Any]) -> bool:
        """Seal and store a PersonIdentity record; False when a newer version is already stored."""
        person_id = str(identity["person_id"])
        sealed = {f: self._keyring.seal(str(identity[f]), context(person_id, f))
                  for f in SEALED_FIELDS if identity.get(f) is not None}
        updated: dt.datetime = identity["updated_at"]
        return await self._store.put(person_id, str(identity["household_id"]), sealed,
                                     int(updated.timestamp() * 1000))

    async def forget(self, person_id: str) -> None:
        await self._store.erase(person_id)

    async def disclose(self, request: DisclosureRequest) -> Revealed | Refused:
        """The details `request` may see, recorded on the audit log first; or why not (nothing recorded)."""
        members = await self._store.members(request.task.household_id) if request.task else []
        decided = decide(request, members, self._clock())
        if isinstance(decided, Refused):
            return decided
        await self._audit.record(decided)
        await self._tally.note(decided)
        sealed = await self._store.sealed(decided.person_ids, decided.fields)
        return Revealed(decided, {person_id: {f: self._keyring.open(value, context(person_id, f))
                                              for f, value in fields.items()}
                                  for person_id, fields in sealed.items()})

    async def figures(self, days: int = 30, actors: Iterable[str] | None = None) -> dict[str, StaffFigures]:
        """Per member of staff (of `actors`, or everyone), what they were shown in the last `days` days."""
        since = self._clock() - dt.timedelta(days=days)
        return staff_figures(await self._tally.since(int(since.timestamp() * 1000), actors))

    async def reseal(self, batch: int = 500) -> int:
        """Re-seal every value sealed by an older key with the sealing key; the number of persons re-sealed."""
        resealed = 0
        async for person_ids in self._store.person_ids(batch):
            for person_id, fields in (await self._store.sealed(person_ids, ("household_id", "updated_at_ms",
                                                                            *SEALED_FIELDS))).items():
                stale = {f: v for f, v in fields.items() if f in SEALED_FIELDS and self._keyring.needs_resealing(v)}
                if not stale:
                    continue
                fresh = {f: (self._keyring.seal(self._keyring.open(v, context(person_id, f)), context(person_id, f))
                             if f in stale else v) for f, v in fields.items() if f in SEALED_FIELDS}
                if await self._store.put(person_id, fields["household_id"], fresh, int(fields["updated_at_ms"])):
                    resealed += 1
        return resealed
