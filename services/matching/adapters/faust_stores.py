"""The ports of services/matching/ports.py on faust tables (RocksDB with compacted changelogs).

Keys are raw bytes (ids); households and waiting hold JSON, memberships raw household ids. Memberships are read
through a bounded in-process cache (read_cache.py) that the index agent, the only writer, keeps current."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import faust

from services.matching.adapters.read_cache import ReadCache
from services.matching.ports import Headers

MEMBERSHIP_CACHE = 500_000


class TableHouseholds:
    def __init__(self, table: faust.types.TableT[Any, Any]):
        self.table = table

    def get(self, household_id: bytes) -> dict[str, Any] | None:
        value = self.table.get(household_id)
        return value if isinstance(value, dict) else None

    def put(self, household_id: bytes, stored: dict[str, Any]) -> None:
        self.table[household_id] = stored

    def stored(self) -> Iterable[dict[str, Any]]:
        return (value for _, value in self.table.items() if value)


class TableMemberships:
    def __init__(self, table: faust.types.TableT[Any, Any], cache_size: int = MEMBERSHIP_CACHE):
        self.table = table
        self._cache: ReadCache[bytes, bytes | None] = ReadCache(cache_size)

    def household_of(self, person_id: bytes) -> bytes | None:
        return self._cache.get(person_id, self.table.get)

    def put(self, person_id: bytes, household_id: bytes | None) -> None:
        self._cache.put(person_id, household_id or None)
        if household_id:
            self.table[person_id] = household_id
        else:
            self.table.pop(person_id, None)

    def forget_cached(self, *args: object, **kwargs: object) -> None:
        """On a rebalance: a partition may come back after another worker changed it."""
        self._cache.clear()


class TableWaiting:
    def __init__(self, table: faust.types.TableT[Any, Any]):
        self.table = table

    def count(self, person_id: bytes) -> int:
        return len(self.table.get(person_id, []))

    def hold(self, person_id: bytes, value: bytes, headers: Headers) -> None:
        self.table[person_id] = [*self.table.get(person_id, []), waiting_entry(value, headers)]

    def release(self, person_id: bytes) -> list[tuple[bytes, Headers]]:
        return unwait(self.table.pop(person_id, []))


def waiting_entry(value: bytes, headers: Iterable[tuple[str, bytes]]) -> list[Any]:
    """An event held until the registry introduces its person, in the table's JSON form."""
    return [_b64(value), [[k, _b64(v)] for k, v in headers]]


def unwait(entries: Iterable[list[Any]]) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    return [(base64.b64decode(v), [(k, base64.b64decode(h)) for k, h in hs]) for v, hs in entries]


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


@dataclass(frozen=True)
class FaustStores:
    households: TableHouseholds
    memberships: TableMemberships
    waiting: TableWaiting

    @classmethod
    def declare(cls, app: faust.App) -> FaustStores:
        """The three tables, declared on `app` (8 partitions, like every topic they follow)."""
        return cls(TableHouseholds(app.Table("households", partitions=8, key_type=bytes)),
                   TableMemberships(app.Table("memberships", partitions=8, key_type=bytes, value_type=bytes)),
                   TableWaiting(app.Table("waiting", partitions=8, key_type=bytes)))
