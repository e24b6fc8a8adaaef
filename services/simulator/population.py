"""A seeded synthetic population: households as the registry knows them, residents as departments know them.

Pure and deterministic: the same size, seed and census date give the same households and identity numbers.
Departments know residents by their 18-character identity number; the registry records carry only the
pseudonymous person id, computed by the function passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.simulator.demography import Draws, resident_ids
from services.simulator.districts import DISTRICTS, District

SUBSISTENCE_ALLOWANCE = "subsistence_allowance"


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Completed years of life on `day`."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


@dataclass(frozen=True)
class Person:
    """A resident: the identity number departments use, the pseudonym the registry uses, baseline facts."""

    resident_id: str
    person_id: str
    birth_date: dt.date
    sex: str
    """"F" or "M", as encoded in the parity of the identity number's 17th digit."""
    monthly_income_fen: int
    disability_grade: int | None
    has_phone: bool

    def age_on(self, day: dt.date) -> int:
        return age_on(self.birth_date, day)

    def member_record(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "birth_date": self.birth_date,
                "monthly_income_fen": self.monthly_income_fen, "disability_grade": self.disability_grade,
                "has_phone": self.has_phone}


@dataclass(frozen=True)
class Household:
    """A registered household and its members."""

    household_id: str
    district: District
    financial_assets_fen: int
    members: tuple[Person, ...]
    current_benefits: tuple[str, ...] = ()

    @property
    def per_capita_income_fen(self) -> int:
        return sum(m.monthly_income_fen for m in self.members) // len(self.members)

    def record(self, as_of: dt.datetime) -> dict[str, Any]:
        """The registry record, shaped as schemas/records/household.avsc."""
        return {"household_id": self.household_id, "district": self.district.code, "region": self.district.region,
                "urban": self.district.urban, "financial_assets_fen": self.financial_assets_fen,
                "members": [m.member_record() for m in self.members],
                "current_benefits": list(self.current_benefits), "as_of": as_of}


@dataclass(frozen=True)
class PopulationSummary:
    """Shares that characterise a population (of persons unless named per household)."""

    households: int
    persons: int
    aged_60_plus: float
    aged_80_plus: float
    children: float
    disabled: float
    severely_disabled_of_disabled: float
    """Share of grade 1-2 among the disabled."""
    households_on_subsistence: float
    elderly_living_alone: int
    elderly_alone_without_phone: int

    def lines(self) -> list[str]:
        return [
            f"households                 {self.households:>9,}",
            f"persons                    {self.persons:>9,}  "
            f"({self.persons / max(self.households, 1):.2f} a household)",
            f"aged 60+                   {self.aged_60_plus:>9.1%}  (80+: {self.aged_80_plus:.1%})",
            f"children under 18          {self.children:>9.1%}",
            f"with a disability          {self.disabled:>9.1%}  (grade 1-2: {self.severely_disabled_of_disabled:.0%})",
            f"households on subsistence  {self.households_on_subsistence:>9.1%}",
            f"elderly living alone       {self.elderly_living_alone:>9,}  "
            f"({self.elderly_alone_without_phone:,} without a phone)",
        ]


@dataclass(frozen=True)
class Population:
    seed: int
    census_date: dt.date
    households: tuple[Household, ...]

    def persons(self) -> Iterator[tuple[Household, Person]]:
        for household in self.households:
            for person in household.members:
                yield household, person

    def records(self, as_of: dt.datetime) -> Iterator[dict[str, Any]]:
        return (h.record(as_of) for h in self.households)

    def summary(self) -> PopulationSummary:
        day = self.census_date
        persons = aged60 = aged80 = children = disabled = severe = alone = alone_no_phone = 0
        for household in self.households:
            for p in household.members:
                age = p.age_on(day)
                persons += 1
                aged60 += age >= 60
                aged80 += age >= 80
                children += age < 18
                disabled += p.disability_grade is not None
                severe += p.disability_grade in (1, 2)
            if len(household.members) == 1 and household.members[0].age_on(day) >= 60:
                alone += 1
                alone_no_phone += not household.members[0].has_phone
        dibao = sum(SUBSISTENCE_ALLOWANCE in h.current_benefits for h in self.households)
        n = max(persons, 1)
        return PopulationSummary(len(self.households), persons, aged60 / n, aged80 / n, children / n, disabled / n,
                                 severe / max(disabled, 1), dibao / max(len(self.households), 1), alone,
                                 alone_no_phone)


def generate_population(households: int, seed: int, census_date: dt.date,
                        person_id: Callable[[str], str]) -> Population:
    """`households` synthetic households as of `census_date`; `person_id` pseudonymises an identity number."""
    rng = np.random.default_rng(seed)
    g = Draws(rng, households, census_date)
    ids = resident_ids(rng, g)
    birth = g.birth_ordinal.tolist()
    sexes, incomes, grades, phones = g.male.tolist(), g.income.tolist(), g.grade.tolist(), g.phone.tolist()
    people = [Person(rid, person_id(rid), dt.date.fromordinal(birth[i]), "M" if sexes[i] else "F", incomes[i],
                     grades[i] or None, phones[i]) for i, rid in enumerate(ids)]
    starts, sizes = g.start.tolist(), g.size.tolist()
    assets, dibao, where = g.assets.tolist(), g.dibao.tolist(), g.district.tolist()
    result = tuple(
        Household(f"hh-{seed}-{h:06d}", DISTRICTS[where[h]], assets[h], tuple(people[starts[h]:starts[h] + sizes[h]]),
                  (SUBSISTENCE_ALLOWANCE,) if dibao[h] else ())
        for h in range(households))
    return Population(seed, census_date, result)
