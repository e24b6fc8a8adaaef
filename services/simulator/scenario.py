"""Which change events the departments report about a population as simulated time passes (pure, seeded).

The stream keeps what the departments would know between events: nobody dies twice or is discharged before being
admitted, a job is lost only by someone earning, costs settle after the discharge, milestones fall on birthdays.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from services.core.codec import Contract
from services.simulator.departments import CHINA, department_event, local_day
from services.simulator.districts import REGION_CAPITAL, District
from services.simulator.faults import spoil
from services.simulator.hospital import hospital_stay
from services.simulator.population import Household, Person, Population

StructuredEvent = dict[str, Any]
"""A CloudEvent in structured JSON form, as a department sends it."""

MIX: dict[str, float] = {
    "income.changed": 22, "hospitalisation.admitted": 18, "job.lost": 12, "school.enrolled": 10,
    "disability.certified": 6, "death.registered": 5, "housing.lost": 2, "emergency.occurred": 2,
}
"""Relative frequency of the events that happen by chance; discharges, settlements, milestones and the flood's
events come on top, when they are due."""

# School level: entry age, term fees range (yuan).
_SCHOOL: dict[str, tuple[int, int, int]] = {
    "PRIMARY": (6, 300, 1_200), "JUNIOR_SECONDARY": (12, 500, 1_800), "SENIOR_SECONDARY": (15, 1_200, 4_000),
    "VOCATIONAL": (15, 800, 3_000), "HIGHER": (18, 2_500, 7_000),
}
_DISABILITY = ("PHYSICAL", "VISUAL", "HEARING", "SPEECH", "INTELLECTUAL", "MENTAL", "MULTIPLE")
_DISABILITY_WEIGHTS = (30, 15, 20, 2, 8, 10, 15)


@dataclass(frozen=True)
class ScenarioClock:
    """Simulated time: event number k of a scenario happens at start + k × step."""

    start: dt.datetime
    step: dt.timedelta

    def at(self, index: int) -> dt.datetime:
        return self.start + self.step * index

    @classmethod
    def ending(cls, end: dt.datetime, count: int, span: dt.timedelta) -> ScenarioClock:
        """`count` events spread evenly over `span`, the last one at `end`."""
        step = span / max(count, 1)
        return cls(end - step * (count - 1), step)


def department_events(population: Population, contract: Contract, seed: int, clock: ScenarioClock, *,
                      bad_fraction: float = 0.0, flood_after: int | None = 200) -> Iterator[StructuredEvent]:
    """An endless, seeded stream of structured CloudEvents about `population`.

    The flood strikes one district at event number `flood_after` (None: no flood). A `bad_fraction` of the events
    is deliberately broken (see faults.spoil) for rejection and dead-letter demonstrations.
    """
    stream = _Stream(population, contract, seed, clock)
    faults = random.Random(seed + 1)
    for index in itertools.count():
        if index == flood_after:
            stream.flood(clock.at(index))
        event = stream.next(clock.at(index))
        if bad_fraction > 0 and faults.random() < bad_fraction:
            event = spoil(event, faults)
        yield event


class _Stream:
    def __init__(self, population: Population, contract: Contract, seed: int, clock: ScenarioClock):
        self._contract = contract
        self._rng = random.Random(seed)
        self._members = [(h, p) for h, p in population.persons()]
        self._households = population.households
        today = local_day(clock.start)
        ages = self._age = [p.age_on(today) for _, p in self._members]
        self._income = [p.monthly_income_fen for _, p in self._members]
        self._grade = [p.disability_grade for _, p in self._members]
        self._index = {p.resident_id: i for i, (_, p) in enumerate(self._members)}
        self._dead: set[int] = set()
        self._in_hospital: set[int] = set()
        self._enrolled: set[int] = set()
        self._working = [i for i, a in enumerate(ages) if 18 <= a < 60]
        self._elders = [i for i, a in enumerate(ages) if a >= 60]
        self._children = [i for i, a in enumerate(ages) if a < 18]
        self._mortality = list(itertools.accumulate(2.0 ** ((ages[i] - 60) / 7) for i in self._elders))
        self._school_age = [(i, a) for i, a in enumerate(ages) if a in (6, 12, 15, 18, 19)]
        self._due: list[tuple[dt.datetime, int, int, str, dict[str, Any]]] = []
        self._order = itertools.count()
        self._flood: deque[StructuredEvent] = deque()
        self._makers: dict[str, Callable[[dt.datetime], StructuredEvent | None]] = {
            "income.changed": self._income_changed, "hospitalisation.admitted": self._admitted,
            "job.lost": self._job_lost, "school.enrolled": self._enrolled_at_school,
            "disability.certified": self._disability, "death.registered": self._death,
            "housing.lost": self._housing_lost, "emergency.occurred": self._emergency,
        }
        self._kinds = list(MIX)
        self._cumulative = list(itertools.accumulate(MIX.values()))
        self._milestones(today)

    def next(self, now: dt.datetime) -> StructuredEvent:
        while self._due and self._due[0][0] <= now:
            at, _, person, type_, data = heapq.heappop(self._due)
            if person not in self._dead:
                if type_ == "hospitalisation.discharged":
                    self._in_hospital.discard(person)
                return self._event(type_, at, person, data)
        if self._flood and self._rng.random() < 0.6:
            return self._flood.popleft()
        for _ in range(20):
            kind = self._rng.choices(self._kinds, cum_weights=self._cumulative)[0]
            event = self._makers[kind](now)
            if event is not None:
                return event
        raise ValueError("the population is too small to draw events from")

    def flood(self, now: dt.datetime) -> None:
        """A flood hits one district (rural ones more likely) and destroys a few homes; a few people registered
        elsewhere are there too."""
        districts = sorted({h.district.code: h.district for h in self._households}.values(), key=lambda d: d.code)
        if not districts:
            return
        place = self._rng.choices(districts, weights=[1 if d.urban else 3 for d in districts])[0]
        local = [h for h in self._households if h.district.code == place.code]
        others = [h for h in self._households if h.district.code != place.code]
        hit = self._rng.sample(local, min(len(local), 300, max(1, round(len(local) * 0.06))))
        hit += self._rng.sample(others, min(len(others), max(1, len(hit) // 30)))
        ruined = set(self._rng.sample(range(len(hit)), min(len(hit), max(1, round(len(hit) * 0.06)))))
        for number, household in enumerate(hit):
            person = self._head(household)
            if person is None:
                continue
            destroyed = number in ruined
            severity = "CATASTROPHIC" if destroyed else ("SERIOUS" if self._rng.random() < 0.35 else "MINOR")
            self._flood.append(self._event("emergency.occurred", now, person, {
                "occurred_on": local_day(now), "kind": "FLOOD", "severity": severity,
                "place_district": place.code, "home_destroyed": destroyed}))
            if destroyed:
                self._later(now, self._rng.randint(2, 6), person, "housing.lost",
                            {"lost_on": local_day(now), "reason": "DISASTER"})
        self._rng.shuffle(self._flood)

    # ---- events that happen by chance ----------------------------------------------------------------------

    def _job_lost(self, now: dt.datetime) -> StructuredEvent | None:
        person = self._pick(self._working, lambda i: self._income[i] > 0)
        if person is None:
            return None
        previous, self._income[person] = self._income[person], 0
        return self._event("job.lost", now, person, {"lost_on": local_day(now),
                                                     "unemployment_registered": self._rng.random() < 0.8,
                                                     "previous_monthly_income_fen": previous})

    def _income_changed(self, now: dt.datetime) -> StructuredEvent | None:
        person = self._pick(self._working if self._rng.random() < 0.85 else self._elders, lambda i: True)
        if person is None:
            return None
        old = self._income[person]
        if old == 0:
            new = self._district(person).median_wage_fen * self._rng.lognormvariate(-0.2, 0.4)
        else:
            new = old * (self._rng.uniform(1.02, 1.15) if self._rng.random() < 0.6 else self._rng.uniform(0.4, 0.9))
        self._income[person] = round(new / 100) * 100
        return self._event("income.changed", now, person, {"effective_on": local_day(now),
                                                            "monthly_income_fen": self._income[person]})

    def _admitted(self, now: dt.datetime) -> StructuredEvent | None:
        roll = self._rng.random()
        patient = "elder" if roll < 0.5 else "adult" if roll < 0.85 else "child"
        pool = {"elder": self._elders, "adult": self._working, "child": self._children}[patient]
        person = self._pick(pool, lambda i: i not in self._in_hospital)
        if person is None:
            return None
        stay = hospital_stay(self._rng, self._district(person), patient, self._members[person][1].sex == "F")
        self._in_hospital.add(person)
        discharged = self._later(now, stay.days, person, "hospitalisation.discharged", {
            "diagnosis_category": stay.category, "total_cost_fen": stay.total_cost_fen,
            "out_of_pocket_fen": stay.out_of_pocket_fen})
        if stay.major_expense:
            self._later(discharged, self._rng.randint(7, 30), person, "medical_expense.settled", {
                "total_cost_fen": stay.total_cost_fen,
                "out_of_pocket_fen": round(stay.out_of_pocket_fen * self._rng.uniform(0.5, 0.8))})
        return self._event("hospitalisation.admitted", now, person, {
            "admitted_on": local_day(now), "diagnosis_category": stay.category,
            "hospital_district": stay.hospital_district,
            "estimated_out_of_pocket_fen": round(stay.out_of_pocket_fen * self._rng.uniform(0.8, 1.2))})

    def _disability(self, now: dt.datetime) -> StructuredEvent | None:
        roll = self._rng.random()
        pool = self._elders if roll < 0.5 else self._working if roll < 0.9 else self._children
        person = self._pick(pool, lambda i: self._grade[i] != 1)
        if person is None:
            return None
        worst = (self._grade[person] or 5) - 1
        grade = self._rng.choices(range(1, worst + 1), [12, 21, 31, 36][:worst])[0]
        self._grade[person] = grade
        category = self._rng.choices(_DISABILITY, _DISABILITY_WEIGHTS)[0]
        return self._event("disability.certified", now, person, {"certified_on": local_day(now),
                                                                 "category": category, "grade": grade})

    def _death(self, now: dt.datetime) -> StructuredEvent | None:
        if self._elders and self._rng.random() < 0.88:
            person: int | None = None
            for _ in range(30):
                candidate = self._rng.choices(self._elders, cum_weights=self._mortality)[0]
                if candidate not in self._dead:
                    person = candidate
                    break
        else:
            person = self._pick(self._working, lambda i: True)
        if person is None:
            return None
        self._dead.add(person)
        return self._event("death.registered", now, person, {"died_on": local_day(now)})

    def _enrolled_at_school(self, now: dt.datetime) -> StructuredEvent | None:
        for _ in range(30):
            if not self._school_age:
                return None
            person, age = self._rng.choice(self._school_age)
            if person not in self._enrolled and person not in self._dead:
                break
        else:
            return None
        self._enrolled.add(person)
        levels = [level for level, (entry, _, _) in _SCHOOL.items() if entry == min(age, 18)]
        level = levels[0] if len(levels) == 1 else self._rng.choices(levels, [70, 30])[0]
        _, cheapest, dearest = _SCHOOL[level]
        district = self._district(person)
        school = district.code if self._rng.random() < 0.95 else REGION_CAPITAL.get(district.region, district.code)
        return self._event("school.enrolled", now, person, {
            "enrolled_on": local_day(now), "level": level, "school_district": school,
            "term_fees_fen": self._rng.randint(cheapest, dearest) * 100})

    def _housing_lost(self, now: dt.datetime) -> StructuredEvent | None:
        person = self._head(self._rng.choice(self._households)) if self._households else None
        if person is None:
            return None
        reason = self._rng.choices(["EVICTION", "DEMOLITION", "FORECLOSURE", "OTHER"], [40, 25, 15, 20])[0]
        return self._event("housing.lost", now, person, {"lost_on": local_day(now), "reason": reason})

    def _emergency(self, now: dt.datetime) -> StructuredEvent | None:
        household = self._rng.choice(self._households) if self._households else None
        person = self._head(household) if household else None
        if household is None or person is None:
            return None
        kind = self._rng.choices(["FIRE", "ACCIDENT", "LANDSLIDE", "OTHER"],
                                 [50, 30, 0 if household.district.urban else 10, 10])[0]
        severity = self._rng.choices(["MINOR", "SERIOUS", "CATASTROPHIC"], [60, 30, 10])[0]
        destroyed = kind in ("FIRE", "LANDSLIDE") and severity == "CATASTROPHIC"
        if destroyed:
            self._later(now, self._rng.randint(1, 4), person, "housing.lost",
                        {"lost_on": local_day(now), "reason": "DISASTER"})
        return self._event("emergency.occurred", now, person, {
            "occurred_on": local_day(now), "kind": kind, "severity": severity,
            "place_district": household.district.code, "home_destroyed": destroyed})

    # ---- bookkeeping ------------------------------------------------------------------------------------------

    def _milestones(self, today: dt.date) -> None:
        """Birthdays of 60 and 80 within two years of the start become due events."""
        for i, (_, person) in enumerate(self._members):
            for age in (60, 80):
                birthday = _birthday(person, age)
                if today <= birthday < today + dt.timedelta(days=730):
                    at = dt.datetime.combine(birthday, dt.time(), CHINA)
                    heapq.heappush(self._due, (at, next(self._order), i, "age.milestone_reached",
                                               {"reached_on": birthday, "age": age}))

    def _later(self, now: dt.datetime, days: int, person: int, type_: str, data: dict[str, Any]) -> dt.datetime:
        at = now + dt.timedelta(days=days, minutes=self._rng.randint(0, 600))
        day_field = {"hospitalisation.discharged": "discharged_on", "medical_expense.settled": "settled_on"}
        if type_ in day_field:
            data = {day_field[type_]: local_day(at), **data}
        heapq.heappush(self._due, (at, next(self._order), person, type_, data))
        return at

    def _event(self, type_: str, at: dt.datetime, person: int, data: dict[str, Any]) -> StructuredEvent:
        event_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        return department_event(self._contract, event_id, type_, at, self._members[person][1].resident_id, data)

    def _pick(self, pool: list[int], fits: Callable[[int], bool]) -> int | None:
        for _ in range(30):
            if not pool:
                return None
            candidate = self._rng.choice(pool)
            if candidate not in self._dead and fits(candidate):
                return candidate
        return None

    def _head(self, household: Household) -> int | None:
        adults = (self._index[p.resident_id] for p in household.members)
        return next((i for i in adults if self._age[i] >= 18 and i not in self._dead), None)

    def _district(self, person: int) -> District:
        return self._members[person][0].district


def _birthday(person: Person, age: int) -> dt.date:
    born = person.birth_date
    try:
        return born.replace(year=born.year + age)
    except ValueError:  # born on 29 February: the birthday is kept on 1 March in common years
        return dt.date(born.year + age, 3, 1)
