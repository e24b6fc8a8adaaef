"""Household id → row of the population columns, without a Python string per household.

The ids live UTF-8 encoded in one sorted fixed-width byte array (searched with np.searchsorted), next to the row
of each. Ids added since the last merge wait in a small dict and are merged in (one O(n) insertion) once there
are more than an eighth of the sorted ones; a removed id leaves a tombstone its return reuses. Reading the id of
a row decodes only that row's bytes: the re-evaluation asks for the households that changed, not for all.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

_NO_ROW = -1


class HouseholdIndex:
    """Which row holds each household id, and which id each row holds."""

    def __init__(self) -> None:
        self._keys = np.zeros(0, dtype="S1")
        """Encoded ids, sorted."""
        self._rows = np.zeros(0, dtype=np.int32)
        """Row of each key; _NO_ROW for a removed household (a tombstone)."""
        self._position = np.zeros(0, dtype=np.int32)
        """Per row: its key's position in _keys, or _NO_ROW while the id waits in _recent."""
        self._recent: dict[str, int] = {}
        self._recent_ids: dict[int, str] = {}

    def __len__(self) -> int:
        return int(np.count_nonzero(self._rows >= 0)) + len(self._recent)

    def row(self, household_id: str) -> int | None:
        """The row holding `household_id`, or None."""
        found = self._recent.get(household_id)
        if found is not None:
            return found
        at = self._find(household_id)
        if at is None:
            return None
        row = int(self._rows[at])
        return None if row == _NO_ROW else row

    def household_id(self, row: int) -> str:
        """The id held in `row`."""
        waiting = self._recent_ids.get(row)
        if waiting is not None:
            return waiting
        at = int(self._position[row]) if row < len(self._position) else _NO_ROW
        if at == _NO_ROW:
            raise KeyError(f"row {row} holds no household")
        return bytes(self._keys[at]).decode()

    def household_ids(self, rows: np.ndarray) -> list[str]:
        """The ids held in `rows`, decoded together."""
        positions = self._position[rows] if len(rows) else np.zeros(0, dtype=np.int32)
        if len(self._keys) and bool((positions != _NO_ROW).all()):
            found = self._keys[positions]
            try:
                ids: list[str] = found.astype(str).tolist()  # ASCII ids decode at once
                return ids
            except UnicodeDecodeError:
                return [k.decode() for k in found.tolist()]
        keys = self._keys[np.maximum(positions, 0)].tolist() if len(self._keys) else [b""] * len(rows)
        return [k.decode() if at != _NO_ROW else self.household_id(int(r))
                for k, at, r in zip(keys, positions.tolist(), np.asarray(rows).tolist(), strict=True)]

    def add(self, household_id: str, row: int) -> None:
        """Record that `row` now holds `household_id` (which no row held)."""
        self._ensure_rows(row + 1)
        at = self._find(household_id)
        if at is not None:
            self._rows[at] = row
            self._position[row] = at
            return
        self._position[row] = _NO_ROW
        self._recent[household_id] = row
        self._recent_ids[row] = household_id
        if len(self._recent) > max(4096, len(self._keys) // 8):
            self._merge()

    def move(self, household_id: str, row: int) -> None:
        """`household_id` left its row for `row` (rows are kept dense when a household leaves)."""
        old = self.row(household_id)
        if old is None:
            raise KeyError(household_id)
        self._ensure_rows(row + 1)
        if household_id in self._recent:
            self._recent[household_id] = row
            del self._recent_ids[old]
            self._recent_ids[row] = household_id
            self._position[row] = _NO_ROW
        else:
            at = int(self._position[old])
            self._rows[at] = row
            self._position[row] = at
        self._position[old] = _NO_ROW

    def discard(self, household_id: str) -> int | None:
        """Forget `household_id`; the row it held, or None."""
        row = self._recent.pop(household_id, None)
        if row is not None:
            del self._recent_ids[row]
            return row
        at = self._find(household_id)
        if at is None or self._rows[at] == _NO_ROW:
            return None
        row = int(self._rows[at])
        self._rows[at] = _NO_ROW
        self._position[row] = _NO_ROW
        return row

    def nbytes(self) -> int:
        """Bytes held by the arrays, plus an estimate for the ids waiting in the dict."""
        waiting = sum(2 * (len(k) + 100) for k in self._recent)
        return self._keys.nbytes + self._rows.nbytes + self._position.nbytes + waiting

    def bulk(self, household_ids: np.ndarray, rows: np.ndarray) -> None:
        """Load many ids at once into an empty index (an array of str, bytes or a fixed-width bytes array)."""
        if len(self._keys) or self._recent:
            raise ValueError("bulk loading needs an empty index")
        keys = household_ids if household_ids.dtype.kind == "S" else _encoded(household_ids)
        order = np.argsort(keys, kind="stable")
        keys, rows = keys[order], np.asarray(rows, dtype=np.int32)[order]
        if len(keys) > 1 and bool((keys[1:] == keys[:-1]).any()):
            raise ValueError("household ids must be unique")
        self._keys, self._rows = keys, rows
        self._ensure_rows(int(rows.max()) + 1 if len(rows) else 0)
        self._position[rows] = np.arange(len(rows), dtype=np.int32)

    # ---- inside --------------------------------------------------------------------------------------------

    def _find(self, household_id: str) -> int | None:
        key = household_id.encode()
        if not len(self._keys) or len(key) > self._keys.dtype.itemsize:
            return None
        at = int(np.searchsorted(self._keys, key))
        return at if at < len(self._keys) and self._keys[at] == key else None

    def _ensure_rows(self, needed: int) -> None:
        if needed > len(self._position):
            grown = np.full(max(needed, len(self._position) + len(self._position) // 4 + 1024), _NO_ROW, np.int32)
            grown[: len(self._position)] = self._position
            self._position = grown

    def _merge(self) -> None:
        # An id whose bytes end in NUL cannot live in a NUL-padded array: it stays in the dict.
        mergeable = [(k, r) for k, r in self._recent.items() if not k.endswith("\x00")]
        keep = self._rows != _NO_ROW
        keys, rows = self._keys[keep], self._rows[keep]
        if mergeable:
            new_keys = _encoded(np.array([k for k, _ in mergeable], dtype=object))
            new_rows = np.array([r for _, r in mergeable], dtype=np.int32)
            order = np.argsort(new_keys, kind="stable")
            new_keys, new_rows = new_keys[order], new_rows[order]
            width = max(keys.dtype.itemsize, new_keys.dtype.itemsize)
            keys, new_keys = keys.astype(f"S{width}"), new_keys.astype(f"S{width}")
            at = np.searchsorted(keys, new_keys)
            keys, rows = np.insert(keys, at, new_keys), np.insert(rows, at, new_rows)
        self._keys, self._rows = keys, rows
        self._position[:] = _NO_ROW
        self._position[rows] = np.arange(len(rows), dtype=np.int32)
        self._recent = {k: r for k, r in self._recent.items() if k.endswith("\x00")}
        self._recent_ids = {r: k for k, r in self._recent.items()}


def _encoded(ids: np.ndarray | Iterable[str]) -> np.ndarray:
    values = [str(i).encode() for i in ids]
    return np.array(values, dtype=f"S{max((len(v) for v in values), default=1) or 1}")
