"""The facts vocabulary over the population columns for one day, each fact computed when first read.

Ages come from the birth key (year*10000 + month*100 + day): with T the day's key, age = (T - birth) // 10000,
and "at least a years old" is birth <= T - a*10000, so counts by age are one comparison per member. Spending
over 12 months sums the expenditure rows inside the window; the disaster window compares the emergency day.
A policy reading few facts pays for few: re-evaluating the subsistence allowance reads only household arrays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from services.matching.domain.household.event_kinds import SPENDING_KINDS, spending_fact
from services.matching.domain.household.facts import DISASTER_DAYS, ELDERLY_AGE, SEVERITIES, SPENDING_DAYS, WORKING_AGE
from services.matching.domain.household.state import EPOCH

Columns = dict[str, np.ndarray]

REGION_CODES = "household.region#code"
REGION_TABLE = "household.region#table"


class PopulationFacts(Mapping[str, np.ndarray]):
    """Read-only mapping fact name → array (household.* over household rows, member.* over member rows)."""

    def __init__(self, day: dt.date, households: Columns, sizes: np.ndarray, owner: np.ndarray, members: Columns,
                 spent_owner: np.ndarray, spent: Columns, codes: np.ndarray,
                 household_id: Callable[[int], str] | None, free_members: int) -> None:
        self.day = day
        self.households = len(sizes)
        """Number of household rows."""
        self.members = len(owner)
        """Number of member rows (freed rows included)."""
        self._h, self._m, self._x = households, members, spent
        self._sizes, self._owner, self._spent_owner = sizes, owner, spent_owner
        self._codes = codes
        self._household_id = household_id
        self._free = free_members
        self._cache: dict[str, np.ndarray] = {}
        self._today = day.year * 10000 + day.month * 100 + day.day

    @property
    def live_members(self) -> np.ndarray | None:
        """Mask of member rows held by a household; None when every row is."""
        return self._owner < self.households if self._free else None

    def born_by(self, years: int) -> np.ndarray:
        """Mask of members at least `years` old on the day."""
        return self._m["birth"] <= self._today - years * 10000

    def __getitem__(self, name: str) -> np.ndarray:
        found = self._cache.get(name)
        if found is None:
            compute = _FACTS.get(name)
            if compute is None:
                raise KeyError(name)
            found = self._cache[name] = compute(self)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(_FACTS)

    def __len__(self) -> int:
        return len(_FACTS)

    def __contains__(self, name: object) -> bool:
        return name in _FACTS

    def forget(self, names: set[str]) -> None:
        """Drop computed member arrays other than `names` (to bound memory between policies)."""
        for name in [n for n in self._cache if n.startswith("member.") and n not in names]:
            del self._cache[name]

    # ---- the facts -----------------------------------------------------------------------------------------

    def size(self) -> np.ndarray:
        return self._sizes.astype(np.int32)

    def per_household(self, mask: np.ndarray) -> np.ndarray:
        counted = np.bincount(self._owner[mask], minlength=self.households)
        return counted[: self.households].astype(np.int32)

    def per_capita(self, values: np.ndarray) -> np.ndarray:
        size = self["household.members"]
        out: np.ndarray = np.divide(values, size, out=np.zeros(self.households), where=size > 0)
        return out

    def age(self) -> np.ndarray:
        return ((self._today - self._m["birth"]) // 10000).astype(np.int32)

    def working(self) -> np.ndarray:
        birth = self._m["birth"]
        return (birth <= self._today - WORKING_AGE[0] * 10000) & (birth > self._today - (WORKING_AGE[1] + 1) * 10000)

    def spending(self, kind: str) -> np.ndarray:
        day = (self.day - EPOCH).days
        x = self._x
        inside = (x["kind"] == SPENDING_KINDS.index(kind)) & (x["day"] > day - SPENDING_DAYS) & (x["day"] <= day)
        owner = self._spent_owner[inside]
        summed = np.bincount(owner, weights=x["amount"][inside], minlength=self.households)
        return summed[: self.households].round().astype(np.int64)

    def severity(self) -> np.ndarray:
        since = (self.day - EPOCH).days - self._h["emergency_day"].astype(np.int64)
        code = np.where((since >= 0) & (since <= DISASTER_DAYS), self._h["severity"], 0)
        return np.array(SEVERITIES)[code]

    def ids(self) -> np.ndarray:
        read = self._household_id
        return np.array([read(r) if read else "" for r in range(self.households)], dtype=object)


def _household(name: str) -> Callable[[PopulationFacts], np.ndarray]:
    return lambda f: f._h[name]


_FACTS: dict[str, Callable[[PopulationFacts], np.ndarray]] = {
    "household.id": PopulationFacts.ids,
    "household.district": lambda f: f._codes[f._h["district"]],
    "household.region": lambda f: f._codes[f._h["region"]],
    # The regions as small integer codes into the table of code strings: parameters resolve per code.
    REGION_CODES: _household("region"),
    REGION_TABLE: lambda f: f._codes,
    "household.urban": _household("urban"),
    "household.members": PopulationFacts.size,
    "household.monthly_income_fen": _household("income"),
    "household.per_capita_income_fen": lambda f: f.per_capita(f._h["income"]),
    "household.annual_income_fen": lambda f: 12 * f._h["income"],
    "household.financial_assets_fen": _household("assets"),
    "household.assets_per_capita_fen": lambda f: f.per_capita(f._h["assets"]),
    "household.earners_working_age": lambda f: f.per_household(f["member.working_age"] & (f._m["income"] > 0)),
    "household.elderly_members": lambda f: f.per_household(f.born_by(ELDERLY_AGE)),
    "household.children": lambda f: f.per_household(~f.born_by(WORKING_AGE[0])),
    "household.severe_disability_members": lambda f: f._h["severe"].astype(np.int32),
    **{spending_fact(kind): (lambda f, k=kind: f.spending(k)) for kind in SPENDING_KINDS},  # type: ignore[misc]
    "household.receives_subsistence_allowance": _household("subsistence"),
    "household.receives_special_hardship": _household("hardship"),
    "household.lives_alone": lambda f: f["household.members"] == 1,
    "household.disaster_severity": PopulationFacts.severity,
    "member.household": lambda f: f._owner,
    "member.age": PopulationFacts.age,
    "member.monthly_income_fen": lambda f: f._m["income"],
    "member.disability_grade": lambda f: f._m["grade"].astype(np.int32),
    "member.has_phone": lambda f: f._m["phone"],
    "member.working_age": PopulationFacts.working,
}


def facts_of(columns: Mapping[str, Any]) -> PopulationFacts | None:
    """The PopulationFacts behind `columns`, when they are (plain dicts of arrays are accepted too)."""
    return columns if isinstance(columns, PopulationFacts) else None
