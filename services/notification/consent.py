"""Consent from the citizen page, the service layer: a signed-in resident withdraws consent to SMS and/or e-mail.
The withdrawal is published on assist.consents first (the record a rebuild reads again), then the details are
erased from the contact store at once; the worker applies the same record when it reads it (idempotent)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from services.notification.domain.consent import WITHDRAWABLE, Withdrawal, withdrawal_record, withdrawn_channels
from services.notification.domain.contact import Channel, Contact


class ConsentLog(Protocol):
    async def withdrawn(self, record: dict[str, Any]) -> None:
        """Publish a ConsentWithdrawal record durably; raises ports.Unavailable when the log does not acknowledge."""


class ConsentStore(Protocol):
    """The contact store's side of consent (RedisContactBook)."""

    async def get(self, person_id: str) -> Contact | None: ...

    async def withdrawal(self, person_id: str) -> Withdrawal | None: ...

    async def withdraw(self, withdrawal: Withdrawal) -> Withdrawal: ...


@dataclass(frozen=True)
class ConsentView:
    """What the page shows: for SMS and e-mail whether they may be used (consented and not withdrawn) and whether
    they were withdrawn; when the last withdrawal was."""

    usable: dict[Channel, bool]
    withdrawn: frozenset[Channel]
    withdrawn_at: dt.datetime | None


class ConsentDesk:
    def __init__(self, log: ConsentLog, store: ConsentStore,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self._log, self._store, self._clock = log, store, clock

    async def of_person(self, person_id: str) -> ConsentView:
        contact = await self._store.get(person_id)
        withdrawal = await self._store.withdrawal(person_id)
        usable = contact.usable_channels() if contact else ()
        return ConsentView({c: c in usable for c in WITHDRAWABLE},
                           withdrawal.channels if withdrawal else frozenset(),
                           withdrawal.at if withdrawal else None)

    async def withdraw(self, person_id: str, channels: Iterable[object]) -> ConsentView:
        """Withdraw consent to `channels` ('SMS', 'EMAIL'): ConsentRefused naming the field when they are not
        channels one may withdraw, ports.Unavailable when the withdrawal could not be recorded (nothing erased)."""
        chosen = withdrawn_channels(channels)
        earlier = await self._store.withdrawal(person_id)
        withdrawal = Withdrawal(person_id, chosen, self._clock().replace(microsecond=0)).merged(earlier)
        await self._log.withdrawn(withdrawal_record(withdrawal))
        await self._store.withdraw(withdrawal)
        return await self.of_person(person_id)
