"""Rows owned by households (members, expenditures), one contiguous run per household.

A household's run is rewritten in place when its length is unchanged (an income change, a new disability
grade), else freed and appended anew. Freed rows belong to `nobody`, an owner past every household row, so
bincounts and gathers over the whole table need no mask; they are compacted away once they exceed an eighth
of the table. Capacity grows by a quarter, so an upsert costs amortised O(its rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

Columns = dict[str, np.ndarray]


def grown(array: np.ndarray, needed: int, fill: int = 0) -> np.ndarray:
    """`array` with room for at least `needed` items (a quarter more than asked, to amortise growth)."""
    if needed <= len(array):
        return array
    bigger = np.full(max(needed, len(array) + len(array) // 4 + 1024), fill, dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


class Runs:
    """A table of rows with an `owner` column (household row), grouped in one run per household."""

    def __init__(self, dtypes: dict[str, type], capacity: int, nobody: int) -> None:
        self.nobody = nobody
        self.owner = np.full(capacity, nobody, dtype=np.int32)
        self.columns: Columns = {name: np.zeros(capacity, dtype=dtype) for name, dtype in dtypes.items()}
        self.first = np.zeros(0, dtype=np.int32)
        """Per household row: where its run starts."""
        self.count = np.zeros(0, dtype=np.int16)
        """Per household row: how many rows its run has."""
        self.used = 0
        self.free = 0

    @property
    def held(self) -> int:
        """Rows owned by a household."""
        return self.used - self.free

    def reserve_households(self, households: int) -> None:
        self.first = grown(self.first, households)
        self.count = grown(self.count, households)

    def set_nobody(self, nobody: int) -> None:
        """Freed rows now belong to `nobody` (the household rows grew past the previous one)."""
        if nobody != self.nobody:
            self.owner[self.owner == self.nobody] = nobody
            self.nobody = nobody

    def write(self, household: int, values: Mapping[str, Sequence[Any]], count: int) -> int:
        """Give `household` a run of `count` rows holding `values` (each a sequence of `count` items), in place
        when its run has that length, else appended. Returns the first row."""
        if int(self.count[household]) == count and count:
            start = int(self.first[household])
        else:
            self.release(household)
            start = self._append(count)
            self.first[household], self.count[household] = start, count
            self.owner[start:start + count] = household
        for name, column in self.columns.items():
            column[start:start + count] = values[name]
        return start

    def release(self, household: int) -> None:
        """Free the run of `household`."""
        count = int(self.count[household])
        if count:
            start = int(self.first[household])
            self.owner[start:start + count] = self.nobody
            self.free += count
            self.count[household] = 0
        if self.free > max(4096, self.used // 8):
            self.compact()

    def move(self, source: int, target: int) -> None:
        """The household in row `source` now lives in row `target` (whose run was released)."""
        count = int(self.count[source])
        self.first[target], self.count[target] = self.first[source], count
        start = int(self.first[source])
        self.owner[start:start + count] = target
        self.count[source] = 0

    def compact(self) -> None:
        """Drop freed rows, keeping runs contiguous and in order."""
        keep = np.flatnonzero(self.owner[: self.used] != self.nobody)
        held = len(keep)
        self.owner[:held] = self.owner[keep]
        self.owner[held: self.used] = self.nobody
        for column in self.columns.values():
            column[:held] = column[keep]
            column[held: self.used] = 0
        self.used, self.free = held, 0
        owners = self.owner[:held]
        if held:
            starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
            self.first[owners[starts]] = starts

    def _append(self, count: int) -> int:
        needed = self.used + count
        if needed > len(self.owner):
            self.owner = grown(self.owner, needed, self.nobody)
            for name, column in self.columns.items():
                self.columns[name] = grown(column, len(self.owner))
        start = self.used
        self.used = needed
        return start

    def nbytes(self) -> int:
        return self.owner.nbytes + self.first.nbytes + self.count.nbytes + sum(
            c.nbytes for c in self.columns.values())
