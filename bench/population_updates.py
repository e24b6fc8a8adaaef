"""Keeping a large population mirror current: upserts of households that change, gain a member or leave.

Households of the synthetic population (bench.synthetic_population) are given as HouseholdState: an income
change (the run rewritten in place), a birth (the run appended anew), a household leaving and another arriving
in its place. Each kind is timed per upsert on the whole population.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from services.matching.domain.household.parts import Member
from services.matching.domain.household.state import HouseholdState
from services.matching.domain.population.columns import PopulationColumns


def state_of(population: PopulationColumns, columns: Mapping[str, Any], household_id: str) -> HouseholdState:
    """The household as a state, read back from the columns (what the table would hold)."""
    row = population.row(household_id)
    assert row is not None
    births = population.birth_keys()
    members = {}
    for position, r in enumerate(population.member_rows(household_id)):
        birth = int(births[r])
        members[f"{household_id}-p{position}"] = Member(
            dt.date(birth // 10000, birth // 100 % 100, birth % 100), int(columns["member.monthly_income_fen"][r]),
            int(columns["member.disability_grade"][r]) or None, bool(columns["member.has_phone"][r]))
    return HouseholdState(household_id, str(columns["household.district"][row]),
                          str(columns["household.region"][row]), bool(columns["household.urban"][row]),
                          int(columns["household.financial_assets_fen"][row]), members)


def measure_updates(population: PopulationColumns, count: int, seed: int, on: dt.date) -> dict[str, Any]:
    """Seconds per upsert for `count` households of each kind of change (the population is changed)."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(population), size=min(3 * count, len(population)), replace=False)
    ids = [population.household_id(int(r)) for r in rows]
    changing, growing, leaving = ids[:count], ids[count:2 * count], ids[2 * count:]
    columns = population.as_columns(on)
    states = {hid: state_of(population, columns, hid) for hid in ids}
    del columns  # valid until the first upsert
    result: dict[str, Any] = {"update_households_per_kind": count}

    def timed(label: str, apply: Any, subjects: list[str]) -> None:
        started = time.perf_counter()
        for hid in subjects:
            apply(hid)
        result[f"update_{label}_seconds_per_household"] = (time.perf_counter() - started) / max(len(subjects), 1)

    def change_income(hid: str) -> None:
        state = states[hid]
        first = next(iter(state.members))
        members = {**state.members, first: Member(state.members[first].birth_date, 0,
                                                   state.members[first].disability_grade, True)}
        population.upsert(HouseholdState(hid, state.district, state.region, state.urban,
                                         state.financial_assets_fen, members), on)

    def add_member(hid: str) -> None:
        state = states[hid]
        members = {**state.members, f"{hid}-born": Member(on, 0, None, False)}
        population.upsert(HouseholdState(hid, state.district, state.region, state.urban,
                                         state.financial_assets_fen, members), on)

    def leave_and_arrive(hid: str) -> None:
        population.remove(hid)
        arriving = states[hid]
        population.upsert(HouseholdState(f"{hid}-moved", arriving.district, arriving.region, arriving.urban,
                                         arriving.financial_assets_fen, arriving.members), on)

    persons = population.persons
    timed("income_change", change_income, changing)
    timed("member_added", add_member, growing)
    timed("leave_and_arrive", leave_and_arrive, leaving)
    if population.persons != persons + len(growing):
        raise AssertionError(f"{population.persons} persons after the updates, expected {persons + len(growing)}")
    return result
