"""In-memory implementations of matching's ports (services/matching/ports.py), for unit tests of the service."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.matching.ports import Headers


class MemoryHouseholds:
    def __init__(self) -> None:
        self.values: dict[bytes, dict[str, Any]] = {}

    def get(self, household_id: bytes) -> dict[str, Any] | None:
        return self.values.get(household_id)

    def put(self, household_id: bytes, stored: dict[str, Any]) -> None:
        self.values[household_id] = stored

    def stored(self) -> Iterable[dict[str, Any]]:
        return list(self.values.values())


class MemoryMemberships:
    def __init__(self) -> None:
        self.values: dict[bytes, bytes] = {}

    def household_of(self, person_id: bytes) -> bytes | None:
        return self.values.get(person_id)

    def put(self, person_id: bytes, household_id: bytes | None) -> None:
        if household_id:
            self.values[person_id] = household_id
        else:
            self.values.pop(person_id, None)


class MemoryWaiting:
    def __init__(self) -> None:
        self.values: dict[bytes, list[tuple[bytes, Headers]]] = {}

    def count(self, person_id: bytes) -> int:
        return len(self.values.get(person_id, []))

    def hold(self, person_id: bytes, value: bytes, headers: Headers) -> None:
        self.values.setdefault(person_id, []).append((value, headers))

    def held(self, person_id: bytes) -> list[tuple[bytes, Headers]]:
        return list(self.values.get(person_id, []))

    def forget(self, person_id: bytes) -> None:
        self.values.pop(person_id, None)
