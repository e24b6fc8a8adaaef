"""The ports of services/matching/ports.py on faust tables (RocksDB with compacted changelogs).

Keys are raw bytes (ids); households and waiting hold JSON, memberships raw household ids. Memberships are read
through a bounded in-process cache (read_cache.py) that the index agent, the only writer, keeps current."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import faust
from faust.streams import current_event
from faust.types import TP

from services.core.topics import HOUSEHOLD_PARTITIONS
from services.matching.adapters.batches import handling
from services.matching.adapters.read_cache import ReadCache
from services.matching.ports import Headers

MEMBERSHIP_CACHE = 500_000
HOUSEHOLD_CACHE = 100_000
"""Stored households kept decoded in memory, most recently used first (about 2 KB each)."""


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


class CachedHouseholds:
    """The households table behind a bounded in-memory cache, written back once per batch.

    The household agent is the only writer of its partitions' households, so the cache holds no stale value while
    the worker owns them; on a rebalance it is emptied. `put` keeps the new form and the message that made it;
    `write_back` (at the end of each batch, before anything is awaited) writes each changed household to the table
    once, under that message, so faust's changelog and store use its partition (batches.handling)."""

    def __init__(self, table: TableHouseholds, cache_size: int = HOUSEHOLD_CACHE):
        self.table = table
        self._cache: ReadCache[bytes, dict[str, Any] | None] = ReadCache(cache_size)
        self._changed: dict[bytes, tuple[dict[str, Any], Any]] = {}

    def get(self, household_id: bytes) -> dict[str, Any] | None:
        changed = self._changed.get(household_id)
        return changed[0] if changed is not None else self._cache.get(household_id, self.table.get)

    def put(self, household_id: bytes, stored: dict[str, Any]) -> None:
        self._changed[household_id] = (stored, current_event())
        self._cache.put(household_id, stored)

    def write_back(self) -> int:
        """Write the households changed since the last call to the table; how many."""
        changed, self._changed = self._changed, {}
        for household_id, (stored, event) in changed.items():
            with handling(event):
                self.table.put(household_id, stored)
        return len(changed)

    def stored(self) -> Iterable[dict[str, Any]]:
        changed = {k: v for k, (v, _) in self._changed.items()}
        for household_id, value in list(self.table.table.items()):
            value = changed.pop(household_id, value)
            if value:
                yield value
        yield from changed.values()

    def forget_cached(self, *args: object, **kwargs: object) -> None:
        """On a rebalance: a partition may come back after another worker changed it."""
        self._cache.clear()


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

    def held(self, person_id: bytes) -> list[tuple[bytes, Headers]]:
        return unwait(self.table.get(person_id, []))

    def forget(self, person_id: bytes) -> None:
        if person_id in self.table:
            del self.table[person_id]


def waiting_entry(value: bytes, headers: Iterable[tuple[str, bytes]]) -> list[Any]:
    """An event held until the registry introduces its person, in the table's JSON form."""
    return [_b64(value), [[k, _b64(v)] for k, v in headers]]


def unwait(entries: Iterable[list[Any]]) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    return [(base64.b64decode(v), [(k, base64.b64decode(h)) for k, h in hs]) for v, hs in entries]


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


class ConsumerCommits:
    """Commits (ports.py) as faust's consumer last committed them for this worker's partitions."""

    def __init__(self, app: faust.App):
        self._app = app

    def committed(self, topic: str, partition: int) -> int | None:
        kept = getattr(self._app.consumer, "_committed_offset", {})  # faust has no public reader for it
        offset = kept.get(TP(topic, partition))
        return None if offset is None else int(offset)


@dataclass(frozen=True)
class FaustStores:
    households: CachedHouseholds
    memberships: TableMemberships
    waiting: TableWaiting

    @classmethod
    def declare(cls, app: faust.App) -> FaustStores:
        """The three tables, declared on `app` (as many partitions as every topic they follow)."""
        partitions = HOUSEHOLD_PARTITIONS
        return cls(CachedHouseholds(TableHouseholds(app.Table("households", partitions=partitions, key_type=bytes))),
                   TableMemberships(app.Table("memberships", partitions=partitions, key_type=bytes,
                                              value_type=bytes)),
                   TableWaiting(app.Table("waiting", partitions=partitions, key_type=bytes)))
