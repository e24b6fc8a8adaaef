"""The columnar mirror of the monitored population, kept current household by household.

Households occupy dense rows 0..n-1 (a household leaving is replaced by the last one); their members and their
out-of-pocket expenditures occupy runs of rows in two tables (runs.py). Everything is fixed-width NumPy: codes
for districts and regions, the birth day as one int32 (year*10000 + month*100 + day), ids only in the household
index (index.py) — no Python object per person. Sums that do not depend on the day (monthly income, severely
disabled members, size) are kept per household at each upsert.

Nothing depending on the day is stored: ages, counts by age, 12-month spending and the disaster window are
derived when the facts are read for a day (facts.py), so dates passing need no rebuild.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import numpy as np

from services.matching.domain.household.event_kinds import SPENDING_KINDS
from services.matching.domain.household.facts import SEVERITIES, SPECIAL_HARDSHIP, SUBSISTENCE_ALLOWANCE
from services.matching.domain.household.state import EPOCH, NO_DAY, HouseholdState
from services.matching.domain.population.facts import REGION_CODES, REGION_TABLE, PopulationFacts
from services.matching.domain.population.index import HouseholdIndex
from services.matching.domain.population.runs import Columns, Runs, grown

__all__ = ["REGION_CODES", "REGION_TABLE", "Columns", "PopulationColumns"]

_SEVERITY_CODE = {name: code for code, name in enumerate(SEVERITIES)}
_KIND_CODE = {kind: code for code, kind in enumerate(SPENDING_KINDS)}

_HOUSEHOLD_DTYPES: dict[str, type] = {
    "district": np.int32, "region": np.int32, "urban": np.bool_, "assets": np.int64, "income": np.int64,
    "severe": np.int16, "subsistence": np.bool_, "hardship": np.bool_, "emergency_day": np.int32,
    "severity": np.int8,
}
_MEMBER_DTYPES: dict[str, type] = {"birth": np.int32, "income": np.int64, "grade": np.int8, "phone": np.bool_}
_EXPENDITURE_DTYPES: dict[str, type] = {"day": np.int32, "kind": np.int8, "amount": np.int64}
_GIVEN_HOUSEHOLD = {"id", "district", "region", "urban", "assets", "subsistence", "hardship", "emergency_day",
                    "severity"}
_GIVEN_MEMBER = {"household", "birth_year", "birth_md", "income", "grade", "phone"}
_GIVEN_EXPENDITURE = {"household", "day", "kind", "amount"}


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


def birth_key(day: dt.date) -> int:
    """A birth date as one comparable int: year*10000 + month*100 + day."""
    return day.year * 10000 + day.month * 100 + day.day


class PopulationColumns:
    """NumPy columns of every household.* and member.* fact of the monitored population."""

    def __init__(self, on_date: dt.date, households: int = 1024, persons: int = 4096) -> None:
        self.on_date = on_date
        self._n = 0
        self._index = HouseholdIndex()
        self._codes = _Codes()
        self._h: Columns = {name: np.zeros(households, dtype=t) for name, t in _HOUSEHOLD_DTYPES.items()}
        self._members = Runs(_MEMBER_DTYPES, persons, nobody=households)
        self._spent = Runs(_EXPENDITURE_DTYPES, max(households // 8, 16), nobody=households)
        self._members.reserve_households(households)
        self._spent.reserve_households(households)

    @classmethod
    def build(cls, states: Iterable[HouseholdState], on_date: dt.date) -> PopulationColumns:
        """Columns of `states`, read by default on `on_date`."""
        listed = list(states)
        population = cls(on_date, households=max(len(listed), 16),
                         persons=max(sum(len(s.members) for s in listed), 16))
        for state in listed:
            population.upsert(state, on_date)
        return population

    def __len__(self) -> int:
        return self._n

    @property
    def persons(self) -> int:
        """Number of living members held."""
        return self._members.held

    def row(self, household_id: str) -> int | None:
        """The household row of `household_id` in the facts' household arrays, or None when not held."""
        return self._index.row(household_id)

    def household_id(self, row: int) -> str:
        """The id of the household in `row` (decoded for this row only)."""
        if not 0 <= row < self._n:
            raise IndexError(f"household row {row} is not held (0..{self._n - 1})")
        return self._index.household_id(row)

    def household_ids(self, rows: np.ndarray | None = None) -> list[str]:
        """Ids of the households in `rows` (default: every row, for tests and small populations; the
        re-evaluation asks for the rows that changed)."""
        chosen = np.arange(self._n) if rows is None else np.asarray(rows, dtype=np.int64)
        if len(chosen) and (chosen.min() < 0 or chosen.max() >= self._n):
            raise IndexError(f"household rows must be within 0..{self._n - 1}")
        return self._index.household_ids(chosen)

    def member_rows(self, household_id: str) -> range:
        """The member rows of a household, in the order of its state's members."""
        row = self._index.row(household_id)
        if row is None:
            raise KeyError(household_id)
        first, count = int(self._members.first[row]), int(self._members.count[row])
        return range(first, first + count)

    def birth_keys(self) -> np.ndarray:
        """Birth day of every member row as year*10000 + month*100 + day (0 for freed rows)."""
        keys: np.ndarray = self._members.columns["birth"][: self._members.used]
        return keys

    # ---- changing ----------------------------------------------------------------------------------------------

    def upsert(self, state: HouseholdState, on_date: dt.date | None = None) -> None:
        """Insert or replace one household (`on_date`: the latest day seen, the default day facts are read on)."""
        if on_date is not None:
            self.on_date = max(self.on_date, on_date)
        row = self._index.row(state.household_id)
        if row is None:
            row = self._new_row()
            self._index.add(state.household_id, row)
        members = list(state.members.values())
        incomes = [m.monthly_income_fen for m in members]
        grades = [m.disability_grade or 0 for m in members]
        self._members.write(row, {"birth": [birth_key(m.birth_date) for m in members], "income": incomes,
                                  "grade": grades, "phone": [m.has_phone for m in members]}, len(members))
        spent = [x for x in state.expenditures if x.kind in _KIND_CODE]
        self._spent.write(row, {"day": [(x.on - EPOCH).days for x in spent],
                                "kind": [_KIND_CODE[x.kind] for x in spent],
                                "amount": [x.amount_fen for x in spent]}, len(spent))
        h = self._h
        h["district"][row] = self._codes.code(state.district)
        h["region"][row] = self._codes.code(state.region)
        h["urban"][row] = state.urban
        h["assets"][row] = state.financial_assets_fen
        h["income"][row] = sum(incomes)
        h["severe"][row] = sum(1 for g in grades if g in (1, 2))
        benefits = state.benefits()
        h["subsistence"][row] = SUBSISTENCE_ALLOWANCE in benefits
        h["hardship"][row] = SPECIAL_HARDSHIP in benefits
        em = state.last_emergency
        h["emergency_day"][row] = NO_DAY if em is None else (em.on - EPOCH).days
        h["severity"][row] = 0 if em is None else _SEVERITY_CODE.get(em.severity, 0)

    def remove(self, household_id: str) -> bool:
        """Forget a household (the last household takes its row); False when it was not held."""
        row = self._index.discard(household_id)
        if row is None:
            return False
        last = self._n - 1
        self._members.release(row)
        self._spent.release(row)
        if row != last:
            moved = self._index.household_id(last)
            for column in self._h.values():
                column[row] = column[last]
            self._members.move(last, row)
            self._spent.move(last, row)
            self._index.move(moved, row)
        self._n = last
        return True

    def _new_row(self) -> int:
        row = self._n
        if row >= len(self._h["region"]):
            for name, column in self._h.items():
                self._h[name] = grown(column, row + 1)
            capacity = len(self._h["region"])
            for runs in (self._members, self._spent):
                runs.reserve_households(capacity)
                runs.set_nobody(capacity)
        self._n += 1
        return row

    # ---- reading -----------------------------------------------------------------------------------------------

    def as_columns(self, on_date: dt.date | None = None) -> PopulationFacts:
        """Every household.* fact (arrays over the household rows) and member.* fact (arrays over the member
        rows; member.household is each member's household row) on `on_date` (default: the latest day given to
        build/upsert), computed when first read. Member rows of no household (freed, see runs.py) are in the
        arrays: PopulationFacts.live_members masks them. Valid until the population next changes."""
        n = self._n
        m, x = self._members, self._spent
        return PopulationFacts(
            on_date or self.on_date, {name: column[:n] for name, column in self._h.items()},
            m.count[:n], m.owner[: m.used], {name: column[: m.used] for name, column in m.columns.items()},
            x.owner[: x.used], {name: column[: x.used] for name, column in x.columns.items()},
            self._codes.strings(), (self.household_id if n else None), free_members=m.free)

    def nbytes(self) -> int:
        """Memory held: every array (with its spare capacity) and the id index."""
        return sum(c.nbytes for c in self._h.values()) + self._members.nbytes() + self._spent.nbytes() \
            + self._index.nbytes()

    def nbytes_per_person(self) -> float:
        """nbytes() divided by the number of persons held."""
        return self.nbytes() / max(self.persons, 1)

    @classmethod
    def from_arrays(cls, on_date: dt.date, households: Columns, members: Columns, districts: list[str],
                    expenditures: Columns | None = None) -> PopulationColumns:
        """Columns assembled directly (e.g. bench/synthetic_population.py). `households` holds id (str or
        fixed-width bytes), district and region (indices into `districts`), urban, assets, subsistence,
        hardship, emergency_day, severity; `members` holds household (the household's row; rows grouped by
        household), birth_year, birth_md, income, grade, phone; `expenditures` (optional) holds household
        (grouped likewise), day (days since 1970-01-01), kind (index into SPENDING_KINDS), amount."""
        spent: Columns = expenditures if expenditures is not None else {
            "household": np.zeros(0, np.int32), "day": np.zeros(0, np.int32), "kind": np.zeros(0, np.int8),
            "amount": np.zeros(0, np.int64)}
        wrong = (set(households) ^ _GIVEN_HOUSEHOLD) | (set(members) ^ _GIVEN_MEMBER) \
            | (set(spent) ^ _GIVEN_EXPENDITURE)
        if wrong:
            raise ValueError(f"columns missing or unknown: {', '.join(sorted(wrong))}")
        n_h = len(households["id"])
        population = cls(on_date, households=max(n_h, 16), persons=max(len(members["household"]), 16))
        for value in districts:
            population._codes.code(value)
        for name in _GIVEN_HOUSEHOLD - {"id"}:
            population._h[name][:n_h] = households[name]
        population._n = n_h
        owner = np.asarray(members["household"])
        income = np.asarray(members["income"], dtype=np.int64)
        grade = np.asarray(members["grade"], dtype=np.int8)
        population._h["income"][:n_h] = _sums(owner, income, n_h)
        population._h["severe"][:n_h] = np.bincount(owner[(grade == 1) | (grade == 2)], minlength=n_h)[:n_h]
        birth = np.asarray(members["birth_year"], np.int32) * 10000 + np.asarray(members["birth_md"], np.int32)
        _load_runs(population._members, owner, n_h, {"birth": birth, "income": income, "grade": grade,
                                                     "phone": members["phone"]}, "members")
        _load_runs(population._spent, np.asarray(spent["household"]), n_h,
                   {name: spent[name] for name in _EXPENDITURE_DTYPES}, "expenditures")
        population._index.bulk(np.asarray(households["id"]), np.arange(n_h, dtype=np.int32))
        return population


def _sums(owner: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Exact int64 sums of `values` per owner (bincount's float weights would round past 2**53)."""
    if not len(owner):
        return np.zeros(n, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    out = np.zeros(n, dtype=np.int64)
    out[owner[starts]] = np.add.reduceat(values, starts)
    return out


def _load_runs(runs: Runs, owner: np.ndarray, n_h: int, values: Mapping[str, np.ndarray], what: str) -> None:
    if len(owner) and (bool((np.diff(owner) < 0).any()) or owner.min() < 0 or owner.max() >= n_h):
        raise ValueError(f"{what}: household must index the household rows, grouped in order")
    runs.used = len(owner)
    runs.owner = grown(runs.owner, runs.used, runs.nobody)
    for name, column in runs.columns.items():
        runs.columns[name] = grown(column, runs.used)
        runs.columns[name][: runs.used] = values[name]
    runs.owner[: runs.used] = owner
    count = np.bincount(owner, minlength=n_h)[:n_h]
    runs.count[:n_h] = count
    runs.first[:n_h] = np.cumsum(count) - count
