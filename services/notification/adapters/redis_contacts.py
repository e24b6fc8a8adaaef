"""ContactBook in Redis: one JSON value per person, its phone and e-mail sealed at rest with the contact key ring
(AES-256-GCM, services/vault/domain/sealing.py; ASSIST_CONTACT_KEYS), each bound to its person and field. Only this
service reads it; nothing in it is ever logged or put on a topic.

    <p>:contact:<person>   the contact as notification may use it (withdrawn channels and their details erased)
    <p>:consent:<person>   the person's withdrawal of consent (from assist.consents), kept so that a contact
                           record read later (live, or in a rebuild) is stored without what was withdrawn

A tombstone on assist.contacts erases the contact; a withdrawal erases the withdrawn details."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

from services.core.codec import jsonable
from services.notification.domain.consent import (
    Withdrawal,
    withdrawal_from_record,
    withdrawal_record,
    without_withdrawn,
)
from services.notification.domain.contact import Contact, Language, contact_from_record
from services.vault.domain.sealing import Keyring, SealError

log = logging.getLogger(__name__)
SEALED = ("phone", "email")


class RedisContactBook:
    def __init__(self, redis: Redis, prefix: str, keyring: Keyring):
        self._redis = redis
        self._prefix = prefix
        self._keyring = keyring

    def _key(self, person_id: str) -> str:
        return f"{self._prefix}:contact:{person_id}"

    def _consent_key(self, person_id: str) -> str:
        return f"{self._prefix}:consent:{person_id}"

    async def put(self, contact: Mapping[str, Any]) -> None:
        person_id = str(contact["person_id"])
        usable = without_withdrawn(contact, await self.withdrawal(person_id))
        await self._redis.set(self._key(person_id), json.dumps(self._sealed(person_id, usable)))

    async def forget(self, person_id: str) -> None:
        await self._redis.delete(self._key(person_id))

    async def get(self, person_id: str) -> Contact | None:
        record = await self._record(person_id)
        return contact_from_record(record) if record else None

    async def language(self, person_id: str) -> Language | None:
        contact = await self.get(person_id)
        return contact.language if contact else None

    async def withdrawal(self, person_id: str) -> Withdrawal | None:
        """The person's withdrawal of consent, if they withdrew any."""
        raw = await self._redis.get(self._consent_key(person_id))
        return withdrawal_from_record(json.loads(raw)) if raw else None

    async def withdraw(self, withdrawal: Withdrawal) -> Withdrawal:
        """Keep the withdrawal (with the channels withdrawn before) and erase the withdrawn details from the stored
        contact; the same withdrawal again changes nothing. Returns every channel withdrawn so far."""
        merged = withdrawal.merged(await self.withdrawal(withdrawal.person_id))
        await self._redis.set(self._consent_key(merged.person_id), json.dumps(jsonable(withdrawal_record(merged))))
        record = await self._record(merged.person_id)
        if record is not None:
            usable = without_withdrawn(record, merged)
            await self._redis.set(self._key(merged.person_id), json.dumps(self._sealed(merged.person_id, usable)))
        return merged

    def _sealed(self, person_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
        value: dict[str, Any] = jsonable(dict(record))
        for name in SEALED:
            if value.get(name):
                value[name] = self._keyring.seal(str(value[name]), f"contact:{person_id}:{name}")
        value["sealed"] = True
        return value

    async def _record(self, person_id: str) -> dict[str, Any] | None:
        """The stored contact with its details opened. A detail that does not open (a key dropped from the ring,
        or a value moved from another person) is treated as absent: that channel is then not used."""
        raw = await self._redis.get(self._key(person_id))
        if not raw:
            return None
        value: dict[str, Any] = json.loads(raw)
        if not value.pop("sealed", False):
            return value  # written before details were sealed; sealed when the contact is next stored
        for name in SEALED:
            if value.get(name):
                try:
                    value[name] = self._keyring.open(str(value[name]), f"contact:{person_id}:{name}")
                except SealError as refused:
                    log.error("a stored contact detail (%s) does not open: %s", name, refused)
                    value[name] = None
        return value
