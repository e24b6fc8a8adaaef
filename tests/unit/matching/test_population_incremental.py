"""The population mirror kept current household by household equals a fresh build of the same states: after a
household changes, moves members, leaves, and after days pass (ages, 12-month spending, the disaster window)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from typing import Any

import numpy as np

from bench.catalogues import CATALOGUE as CATALOGUE_PATH
from services.matching.domain.catalogue.policy_catalogue import load_catalogue
from services.matching.domain.household.facts import apply_event
from services.matching.domain.household.parts import Member
from services.matching.domain.household.state import HouseholdState, from_registry
from services.matching.domain.household.vocabulary import REEVALUATION
from services.matching.domain.population.columns import PopulationColumns
from services.matching.domain.population.evaluation import evaluate_population
from tests.unit.matching.test_population import TODAY, assert_columns_match_scalar_facts, random_household

CATALOGUE = load_catalogue(CATALOGUE_PATH.read_text(encoding="utf-8"), "demo")
POLICIES = [p.id for p in CATALOGUE.policies_for(REEVALUATION)]


def facts_by_household(population: PopulationColumns, on: dt.date) -> dict[str, Any]:
    """Every fact of every household and its members, keyed by household id (row order does not matter)."""
    columns = population.as_columns(on)
    names = [n for n in columns if n.startswith("household.") and n != "household.id" and "#" not in n]
    member_names = [n for n in columns if n.startswith("member.") and n != "member.household"]
    out: dict[str, Any] = {}
    for household_id in population.household_ids():
        row = population.row(household_id)
        assert row is not None and population.household_id(row) == household_id
        members = [tuple(columns[n][r].item() for n in member_names) for r in population.member_rows(household_id)]
        assert all(columns["member.household"][r] == row for r in population.member_rows(household_id))
        out[household_id] = (tuple(columns[n][row].item() for n in names), members)
    return out


def outcomes_by_beneficiary(population: PopulationColumns, on: dt.date) -> dict[tuple[str, str, int], Any]:
    """(policy, household id, member position) → (eligible, amount) for every eligible beneficiary."""
    columns = population.as_columns(on)
    found: dict[tuple[str, str, int], Any] = {}
    for policy_id, outcome in evaluate_population(CATALOGUE, columns, on, POLICIES).items():
        for household_id in population.household_ids():
            rows = [population.row(household_id)] if outcome.scope.value == "household" \
                else list(population.member_rows(household_id))
            for position, row in enumerate(rows):
                found[(policy_id, household_id, position)] = (bool(outcome.eligible[row]),
                                                              int(outcome.amount_fen[row]))
        held = np.zeros(len(outcome.eligible), dtype=bool)
        for household_id in population.household_ids():
            rows = [population.row(household_id)] if outcome.scope.value == "household" \
                else list(population.member_rows(household_id))
            held[rows] = True
        assert not outcome.eligible[~held].any(), f"{policy_id}: a row of no household is eligible"
    return found


def assert_same_as_fresh(population: PopulationColumns, states: dict[str, HouseholdState], on: dt.date) -> None:
    fresh = PopulationColumns.build(states.values(), on)
    assert facts_by_household(population, on) == facts_by_household(fresh, on)
    assert outcomes_by_beneficiary(population, on) == outcomes_by_beneficiary(fresh, on)
    assert population.persons == fresh.persons and len(population) == len(fresh)
    assert_columns_match_scalar_facts(population, states, on)


def poor_family(household_id: str, incomes: tuple[int, ...], born: dt.date = dt.date(1980, 5, 1)) -> HouseholdState:
    return from_registry({
        "household_id": household_id, "district": "510107", "region": "510000", "urban": True,
        "financial_assets_fen": 0, "current_benefits": [],
        "members": [{"person_id": f"{household_id}-p{i}", "birth_date": born + dt.timedelta(days=400 * i),
                     "monthly_income_fen": income, "disability_grade": None, "has_phone": True}
                    for i, income in enumerate(incomes)],
    })


def test_a_household_changing_its_incomes_equals_a_fresh_build() -> None:
    rng = random.Random(11)
    states = {f"h{i}": random_household(rng, f"h{i}") for i in range(40)}
    states["poor"] = poor_family("poor", (900_000, 0))
    population = PopulationColumns.build(states.values(), TODAY)
    members = {pid: replace(m, monthly_income_fen=10_000) for pid, m in states["poor"].members.items()}
    states["poor"] = replace(states["poor"], members=members)
    population.upsert(states["poor"], TODAY)
    assert_same_as_fresh(population, states, TODAY)
    row = population.row("poor")
    assert row is not None
    after = evaluate_population(CATALOGUE, population.as_columns(TODAY), TODAY, ["subsistence_allowance"])
    assert after["subsistence_allowance"].eligible[row]


def test_members_moving_between_households_equal_a_fresh_build() -> None:
    rng = random.Random(12)
    states = {f"h{i}": random_household(rng, f"h{i}") for i in range(30)}
    population = PopulationColumns.build(states.values(), TODAY)
    for step in range(60):
        source, target = rng.sample(sorted(states), 2)
        if len(states[source].members) < 2:
            continue
        person, member = next(iter(states[source].members.items()))
        states[source] = replace(states[source], members={p: m for p, m in states[source].members.items()
                                                          if p != person})
        states[target] = replace(states[target], members={**states[target].members, person: member})
        population.upsert(states[source], TODAY)
        population.upsert(states[target], TODAY)
        if step % 20 == 0:
            assert_same_as_fresh(population, states, TODAY)
    assert_same_as_fresh(population, states, TODAY)


def test_a_household_leaving_hands_its_row_to_the_last_one() -> None:
    states = {f"h{i}": poor_family(f"h{i}", (i * 10_000,) * (1 + i % 3)) for i in range(6)}
    population = PopulationColumns.build(states.values(), TODAY)
    assert population.row("h1") == 1 and population.row("h5") == 5
    assert population.remove("h1") and not population.remove("h1")
    del states["h1"]
    assert population.row("h5") == 1 and population.row("h1") is None and population.household_id(1) == "h5"
    assert_same_as_fresh(population, states, TODAY)
    population.upsert(poor_family("h1", (0,)), TODAY)  # back again, in a new row
    states["h1"] = poor_family("h1", (0,))
    assert population.row("h1") == 5
    assert_same_as_fresh(population, states, TODAY)


def test_days_passing_age_members_and_end_windows_as_a_fresh_build_on_that_day() -> None:
    born = TODAY.replace(year=TODAY.year - 60) + dt.timedelta(days=30)  # turns 60 in a month
    elder = poor_family("elder", (0,), born=born)
    child = poor_family("child", (0, 0), born=TODAY.replace(year=TODAY.year - 16) + dt.timedelta(days=10))
    spent = apply_event(child, "medical_expense.settled", "child-p0",
                        {"settled_on": TODAY - dt.timedelta(days=300), "total_cost_fen": 1,
                         "out_of_pocket_fen": 400_000}, "e-bill", TODAY - dt.timedelta(days=300))
    struck = apply_event(elder, "emergency.occurred", "elder-p0",
                         {"occurred_on": TODAY, "kind": "FLOOD", "severity": "SERIOUS", "place_district": "510107",
                          "home_destroyed": False}, "e-flood", TODAY)
    states = {"elder": struck, "child": spent}
    population = PopulationColumns.build(states.values(), TODAY)
    for days in (0, 15, 31, 66, 91, 120, 400):
        later = TODAY + dt.timedelta(days=days)
        assert_same_as_fresh(population, states, later)
    columns = population.as_columns(TODAY + dt.timedelta(days=70))
    assert columns["household.medical_12m_fen"][population.row("child")] == 0  # the bill left the 12 months
    assert columns["household.disaster_severity"][population.row("elder")] == "SERIOUS"
    assert columns["household.elderly_members"][population.row("elder")] == 1


def test_thousands_of_random_changes_equal_a_fresh_build() -> None:
    """Enough new households to merge the id index and enough freed member rows to compact the tables."""
    rng = random.Random(13)
    states: dict[str, HouseholdState] = {}
    population = PopulationColumns(TODAY, households=16, persons=16)
    for step in range(16_000):
        household_id = f"h{rng.randrange(9000)}"
        if rng.random() < 0.1:
            assert population.remove(household_id) == (household_id in states)
            states.pop(household_id, None)
        elif household_id in states and rng.random() < 0.5:
            state = states[household_id]
            members = {p: Member(m.birth_date, rng.choice([0, 50_000, 2_000_000]), m.disability_grade,
                                 m.has_phone) for p, m in state.members.items()}
            states[household_id] = replace(state, members=members)
            population.upsert(states[household_id], TODAY)
        else:
            states[household_id] = random_household(rng, household_id)
            population.upsert(states[household_id], TODAY)
        if step == 8000:
            assert_same_as_fresh(population, states, TODAY + dt.timedelta(days=200))
    assert_same_as_fresh(population, states, TODAY)
    assert population.as_columns(TODAY).live_members is not None or population.persons == len(
        population.as_columns(TODAY)["member.household"])


def test_ids_of_any_text_are_found_and_decoded_after_merging_the_index() -> None:
    """Chinese ids, an id ending in NUL (which a NUL-padded array cannot hold) and thousands of ids."""
    odd = ["户-成都-0001", "h\x00", "h", "h\x00\x00"]
    ids = odd + [f"h{i:05d}" for i in range(5000)]
    population = PopulationColumns(TODAY, households=16, persons=16)
    for household_id in ids:
        population.upsert(poor_family(household_id, (0,)), TODAY)
    assert [population.row(h) for h in ids] == list(range(len(ids)))
    assert population.household_ids() == ids
    assert population.household_ids(np.array([3, 0, 2, 1])) == [odd[3], odd[0], odd[2], odd[1]]
    assert population.remove("h") and population.row("h") is None and population.row("h\x00") == 1
    assert population.household_id(2) == ids[-1] and population.row(ids[-1]) == 2
