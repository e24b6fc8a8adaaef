"""The columnar mirror of the monitored population, for re-evaluating every household at once.

Households live in slots (one per household id, reused through a free list); their members occupy one contiguous
run of member rows. Changing a household frees its old run and appends a new one; the member arrays are compacted
when more than half of their rows are free, so an upsert costs amortised O(1).

Facts depending on the day are computed when the columns are read: ages (from the stored birth year and
month-day), everything derived from ages, and the disaster window. Out-of-pocket spending over 12 months is the
value at the household's last upsert.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable

import numpy as np

from services.matching.domain.household.event_kinds import SPENDING_KINDS, spending_fact
from services.matching.domain.household.facts import (
    DISASTER_DAYS,
    ELDERLY_AGE,
    SEVERITIES,
    SPECIAL_HARDSHIP,
    SUBSISTENCE_ALLOWANCE,
    WORKING_AGE,
    spending_12m,
)
from services.matching.domain.household.state import EPOCH, NO_DAY, HouseholdState

Columns = dict[str, np.ndarray]

_SEVERITY_CODE = {name: code for code, name in enumerate(SEVERITIES)}

_HOUSEHOLD_DTYPES: dict[str, type] = {
    "id": object, "alive": np.bool_, "district": np.int32, "region": np.int32, "urban": np.bool_,
    "assets": np.int64, **dict.fromkeys(SPENDING_KINDS, np.int64), "subsistence": np.bool_,
    "hardship": np.bool_, "emergency_day": np.int32, "severity": np.int8, "first": np.int64, "count": np.int32,
}
_MEMBER_DTYPES: dict[str, type] = {
    "id": object, "household": np.int32, "birth_year": np.int16, "birth_md": np.int16, "income": np.int64,
    "grade": np.int8, "phone": np.bool_,
}


def _allocate(dtypes: dict[str, type], capacity: int) -> Columns:
    cols: Columns = {name: np.zeros(capacity, dtype=dtype) for name, dtype in dtypes.items()}
    if "household" in cols:
        cols["household"][:] = -1
    return cols


def _grow(cols: Columns, needed: int) -> None:
    capacity = len(next(iter(cols.values())))
    if needed <= capacity:
        return
    new_capacity = max(needed, 2 * capacity, 16)
    for name, array in cols.items():
        grown = np.zeros(new_capacity, dtype=array.dtype)
        if name == "household":
            grown[:] = -1
        grown[:capacity] = array
        cols[name] = grown


REGION_CODES = "household.region#code"
REGION_TABLE = "household.region#table"


class _Codes:
    """Interns the few distinct district and region strings; arrays hold their int32 codes."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self._values: list[str] = []

    def code(self, value: str) -> int:
        found = self._index.get(value)
        if found is None:
            found = self._index[value] = len(self._values)
            self._values.append(value)
        return found

    def strings(self) -> np.ndarray:
        return np.array(self._values if self._values else [""], dtype=str)


class PopulationColumns:
    """NumPy columns of every household.* and member.* fact of the monitored population."""

    def __init__(self, on_date: dt.date, households: int = 1024, persons: int = 4096) -> None:
        self.on_date = on_date
        self._slot_of: dict[str, int] = {}
        self._free: list[int] = []
        self._h_used = 0
        self._m_used = 0
        self._m_free = 0
        self._codes = _Codes()
        self._h = _allocate(_HOUSEHOLD_DTYPES, households)
        self._m = _allocate(_MEMBER_DTYPES, persons)

    @classmethod
    def build(cls, states: Iterable[HouseholdState], on_date: dt.date) -> PopulationColumns:
        """Columns of `states`, with 12-month spending as of `on_date`."""
        listed = list(states)
        population = cls(on_date, households=max(len(listed), 16),
                         persons=max(sum(len(s.members) for s in listed), 16))
        for state in listed:
            population.upsert(state, on_date)
        return population

    def __len__(self) -> int:
        return len(self._slot_of)

    @property
    def persons(self) -> int:
        """Number of living members held."""
        return self._m_used - self._m_free

    def upsert(self, state: HouseholdState, on_date: dt.date) -> None:
        """Insert or replace one household (12-month spending as of `on_date`)."""
        self.on_date = max(self.on_date, on_date)
        slot = self._slot_of.get(state.household_id)
        if slot is None:
            slot = self._take_slot()
            self._slot_of[state.household_id] = slot
        else:
            self._free_members(slot)
        h = self._h
        h["id"][slot] = state.household_id
        h["alive"][slot] = True
        h["district"][slot] = self._codes.code(state.district)
        h["region"][slot] = self._codes.code(state.region)
        h["urban"][slot] = state.urban
        h["assets"][slot] = state.financial_assets_fen
        for kind in SPENDING_KINDS:
            h[kind][slot] = spending_12m(state, kind, on_date)
        benefits = state.benefits()
        h["subsistence"][slot] = SUBSISTENCE_ALLOWANCE in benefits
        h["hardship"][slot] = SPECIAL_HARDSHIP in benefits
        em = state.last_emergency
        h["emergency_day"][slot] = NO_DAY if em is None else (em.on - EPOCH).days
        h["severity"][slot] = 0 if em is None else _SEVERITY_CODE.get(em.severity, 0)
        self._append_members(slot, state)
        if self._m_free > max(self._m_used // 2, 1024):
            self._compact()

    def remove(self, household_id: str) -> bool:
        """Forget a household; False when it was not held."""
        slot = self._slot_of.pop(household_id, None)
        if slot is None:
            return False
        self._free_members(slot)
        self._h["alive"][slot] = False
        self._h["id"][slot] = None
        self._free.append(slot)
        return True

    def _take_slot(self) -> int:
        if self._free:
            return self._free.pop()
        _grow(self._h, self._h_used + 1)
        self._h_used += 1
        return self._h_used - 1

    def _free_members(self, slot: int) -> None:
        first, count = int(self._h["first"][slot]), int(self._h["count"][slot])
        self._m["household"][first:first + count] = -1
        self._m["id"][first:first + count] = None
        self._m_free += count
        self._h["count"][slot] = 0

    def _append_members(self, slot: int, state: HouseholdState) -> None:
        count = len(state.members)
        _grow(self._m, self._m_used + count)
        m, row = self._m, self._m_used
        for pid, member in state.members.items():
            m["id"][row] = pid
            m["household"][row] = slot
            m["birth_year"][row] = member.birth_date.year
            m["birth_md"][row] = member.birth_date.month * 100 + member.birth_date.day
            m["income"][row] = member.monthly_income_fen
            m["grade"][row] = member.disability_grade or 0
            m["phone"][row] = member.has_phone
            row += 1
        self._h["first"][slot] = self._m_used
        self._h["count"][slot] = count
        self._m_used = row

    def _compact(self) -> None:
        rows = np.flatnonzero(self._m["household"][: self._m_used] >= 0)
        for name, array in self._m.items():
            array[: len(rows)] = array[rows]
            array[len(rows): self._m_used] = -1 if name == "household" else 0
        self._m["id"][len(rows): self._m_used] = None
        self._m_used, self._m_free = len(rows), 0
        owners = self._m["household"][: self._m_used]
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(owners) else np.zeros(0, np.int64)
        self._h["first"][owners[starts]] = starts

    # ---- reading -----------------------------------------------------------------------------------------------

    def household_ids(self) -> np.ndarray:
        """Ids of the held households, in the order of as_columns' household arrays."""
        ids: np.ndarray = self._h["id"][self._live_slots()]
        return ids

    def person_ids(self) -> np.ndarray:
        """Ids of the held persons, in the order of as_columns' member arrays."""
        ids: np.ndarray = self._m["id"][self._live_rows()]
        return ids

    def _live_slots(self) -> np.ndarray:
        return np.flatnonzero(self._h["alive"][: self._h_used])

    def _live_rows(self) -> np.ndarray:
        return np.flatnonzero(self._m["household"][: self._m_used] >= 0)

    def as_columns(self, on_date: dt.date | None = None) -> Columns:
        """Every household.* and member.* fact for the held (live) rows, plus member.household (index into the
        household arrays). Ages and the disaster window are computed for `on_date` (default: the latest date
        given to build/upsert)."""
        day = on_date or self.on_date
        slots, rows = self._live_slots(), self._live_rows()
        h = {name: array[slots] for name, array in self._h.items() if name not in ("alive", "first", "count")}
        m = {name: array[rows] for name, array in self._m.items()}
        index = np.full(self._h_used, -1, dtype=np.int32)
        index[slots] = np.arange(len(slots), dtype=np.int32)
        owner = index[m["household"]]
        return _facts(h, m, owner, len(slots), day, self._codes.strings())

    def nbytes(self) -> int:
        """Memory held: arrays (with spare capacity), id strings and the id index."""
        arrays = sum(a.nbytes for cols in (self._h, self._m) for a in cols.values())
        strings = sum(sys.getsizeof(s) for s in self._h["id"][: self._h_used] if s is not None)
        strings += sum(sys.getsizeof(s) for s in self._m["id"][: self._m_used] if s is not None)
        return arrays + strings + sys.getsizeof(self._slot_of) + 8 * len(self._free)

    def nbytes_per_person(self) -> float:
        """nbytes() divided by the number of persons held."""
        return self.nbytes() / max(self.persons, 1)

    @classmethod
    def from_arrays(cls, on_date: dt.date, households: Columns, members: Columns,
                    districts: list[str]) -> PopulationColumns:
        """Columns assembled directly (e.g. bench/synthetic_population.py). `households` holds id, district and
        region (indices into `districts`), urban, assets, one column per spending kind (medical, education),
        subsistence, hardship, emergency_day, severity; `members` holds id, household (index of the household row;
        rows grouped by household), birth_year, birth_md, income, grade, phone."""
        missing = ({"alive", "first", "count"} | set(households)) ^ set(_HOUSEHOLD_DTYPES)
        missing |= set(members) ^ set(_MEMBER_DTYPES)
        if missing:
            raise ValueError(f"columns missing or unknown: {', '.join(sorted(missing))}")
        n_h, n_m = len(households["id"]), len(members["id"])
        population = cls(on_date, households=max(n_h, 16), persons=max(n_m, 16))
        for value in districts:
            population._codes.code(value)
        for name, array in households.items():
            population._h[name][:n_h] = array
        for name, array in members.items():
            population._m[name][:n_m] = array
        owner = np.asarray(members["household"])
        population._h["alive"][:n_h] = True
        population._h["count"][:n_h] = np.bincount(owner, minlength=n_h)
        population._h["first"][:n_h] = np.r_[0, np.cumsum(population._h["count"][:n_h])[:-1]] if n_h else []
        population._h_used, population._m_used = n_h, n_m
        population._slot_of = {str(hid): i for i, hid in enumerate(households["id"])}
        return population


def ages_on(birth_year: np.ndarray, birth_md: np.ndarray, on_date: dt.date) -> np.ndarray:
    """Whole years at `on_date` of people born in `birth_year` on month*100+day `birth_md`."""
    before_birthday = birth_md > on_date.month * 100 + on_date.day
    return (on_date.year - birth_year.astype(np.int32) - before_birthday).astype(np.int32)


def _facts(h: Columns, m: Columns, owner: np.ndarray, n_h: int, day: dt.date, codes: np.ndarray) -> Columns:
    age = ages_on(m["birth_year"], m["birth_md"], day)
    income = m["income"]
    working = (age >= WORKING_AGE[0]) & (age <= WORKING_AGE[1])

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(owner[mask], minlength=n_h).astype(np.int32)

    size = np.bincount(owner, minlength=n_h).astype(np.int32)
    monthly = np.bincount(owner, weights=income, minlength=n_h).round().astype(np.int64)
    per_capita = np.divide(monthly, size, out=np.zeros(n_h), where=size > 0)
    assets_pc = np.divide(h["assets"], size, out=np.zeros(n_h), where=size > 0)
    since = (day - EPOCH).days - h["emergency_day"].astype(np.int64)
    severity = np.where((since >= 0) & (since <= DISASTER_DAYS), h["severity"], 0)
    return {
        "household.id": h["id"],
        "household.district": codes[h["district"]],
        "household.region": codes[h["region"]],
        # The same regions as small integer codes into the table of code strings: parameters resolve per code.
        REGION_CODES: h["region"],
        REGION_TABLE: codes,
        "household.urban": h["urban"],
        "household.members": size,
        "household.monthly_income_fen": monthly,
        "household.per_capita_income_fen": per_capita,
        "household.annual_income_fen": 12 * monthly,
        "household.financial_assets_fen": h["assets"],
        "household.assets_per_capita_fen": assets_pc,
        "household.earners_working_age": count(working & (income > 0)),
        "household.elderly_members": count(age >= ELDERLY_AGE),
        "household.children": count(age < WORKING_AGE[0]),
        "household.severe_disability_members": count((m["grade"] == 1) | (m["grade"] == 2)),
        **{spending_fact(kind): h[kind] for kind in SPENDING_KINDS},
        "household.receives_subsistence_allowance": h["subsistence"],
        "household.receives_special_hardship": h["hardship"],
        "household.lives_alone": size == 1,
        "household.disaster_severity": np.array(SEVERITIES)[severity],
        "member.id": m["id"],
        "member.household": owner,
        "member.age": age,
        "member.monthly_income_fen": income,
        "member.disability_grade": m["grade"].astype(np.int32),
        "member.has_phone": m["phone"],
        "member.working_age": working,
    }
