"""The columnar population mirror agrees with the scalar facts and stays small."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from bench.synthetic_population import SYNTHETIC_REGIONS, SYNTHETIC_STANDARD_FEN, synthetic_population
from services.matching.domain.household.facts import (
    SUBSISTENCE_ALLOWANCE,
    apply_event,
    household_facts,
    member_facts,
)
from services.matching.domain.household.state import HouseholdState, from_registry
from services.matching.domain.population.columns import PopulationColumns

TODAY = dt.date(2026, 3, 15)


def random_household(rng: random.Random, household_id: str) -> HouseholdState:
    region = rng.choice(list(SYNTHETIC_REGIONS))
    members = [
        {"person_id": f"{household_id}-m{i}",
         "birth_date": dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(0, 33_000)),
         "monthly_income_fen": rng.choice([0, 0, rng.randrange(1, 2_000_000)]),
         "disability_grade": rng.choice([None, None, None, 1, 2, 3, 4]),
         "has_phone": rng.random() < 0.8}
        for i in range(rng.randint(1, 6))
    ]
    state = from_registry({
        "household_id": household_id, "district": rng.choice(SYNTHETIC_REGIONS[region]), "region": region,
        "urban": rng.random() < 0.6, "financial_assets_fen": rng.randrange(0, 50_000_000), "members": members,
        "current_benefits": [SUBSISTENCE_ALLOWANCE] if rng.random() < 0.1 else [], "as_of": None,
    })
    subject = str(members[0]["person_id"])
    for k in range(rng.randint(0, 3)):
        on = TODAY - dt.timedelta(days=rng.randrange(0, 450))
        if rng.random() < 0.5:
            state = apply_event(state, "medical_expense.settled", subject,
                                {"settled_on": on, "total_cost_fen": 1, "out_of_pocket_fen": rng.randrange(1, 10**6)},
                                f"{household_id}-e{k}", on)
        else:
            state = apply_event(state, "emergency.occurred", subject,
                                {"occurred_on": on, "kind": "FLOOD", "severity": rng.choice(["MINOR", "SERIOUS"]),
                                 "place_district": "110101", "home_destroyed": False}, f"{household_id}-e{k}", on)
    return state


def assert_columns_match_scalar_facts(population: PopulationColumns, states: dict[str, HouseholdState],
                                      on: dt.date) -> None:
    columns = population.as_columns(on)
    ids = population.household_ids()
    assert sorted(ids) == sorted(states) and len(population) == len(states)
    assert list(columns["household.id"]) == ids
    for row, household_id in enumerate(ids):
        assert population.row(household_id) == row
        expected = household_facts(states[household_id], on)
        actual = {name: columns[name][row].item() if isinstance(columns[name][row], np.generic)
                  else columns[name][row] for name in expected}
        assert actual == expected, household_id
        assert {n: type(v) for n, v in actual.items()} == {n: type(v) for n, v in expected.items()}, household_id
    owner = columns["member.household"]
    held: set[int] = set()
    for household_id, state in states.items():
        rows = population.member_rows(household_id)
        assert len(rows) == len(state.members), household_id
        for row, (pid, facts) in zip(rows, member_facts(state, on).items(), strict=True):
            member = {name: columns[name][row].item() if isinstance(columns[name][row], np.generic)
                      else columns[name][row] for name in facts if name != "member.id"}
            assert member == {n: v for n, v in facts.items() if n != "member.id"}, pid
            assert {n: type(v) for n, v in member.items()} == {
                n: type(v) for n, v in facts.items() if n != "member.id"}, pid
            assert ids[owner[row]] == household_id, pid
            held.add(row)
    live = columns.live_members
    assert population.persons == len(held) == (len(owner) if live is None else int(live.sum()))
    if live is not None:
        assert set(np.flatnonzero(live)) == held


def test_built_columns_equal_the_scalar_facts_of_every_household() -> None:
    rng = random.Random(1)
    states = {f"h{i}": random_household(rng, f"h{i}") for i in range(200)}
    population = PopulationColumns.build(states.values(), TODAY)
    assert len(population) == 200
    assert population.persons == sum(len(s.members) for s in states.values())
    assert_columns_match_scalar_facts(population, states, TODAY)


def test_upserts_and_removals_keep_columns_equal_to_the_scalar_facts() -> None:
    rng = random.Random(2)
    states = {f"h{i}": random_household(rng, f"h{i}") for i in range(50)}
    population = PopulationColumns.build(states.values(), TODAY)
    for step in range(3000):
        household_id = f"h{rng.randrange(80)}"
        if rng.random() < 0.15:
            assert population.remove(household_id) == (household_id in states)
            states.pop(household_id, None)
        else:
            states[household_id] = random_household(rng, household_id)
            population.upsert(states[household_id], TODAY)
        if step % 500 == 0:
            assert_columns_match_scalar_facts(population, states, TODAY)
    assert_columns_match_scalar_facts(population, states, TODAY)


def test_repeated_upserts_of_one_household_do_not_grow_memory() -> None:
    rng = random.Random(3)
    versions = [random_household(rng, "h") for _ in range(7)]
    population = PopulationColumns(TODAY)
    for i in range(2000):
        population.upsert(versions[i % 7], TODAY)
    settled = population.nbytes()
    for i in range(20_000):
        population.upsert(versions[i % 7], TODAY)
    assert population.nbytes() <= settled * 1.5
    last = versions[(20_000 - 1) % 7]
    assert len(population) == 1 and population.persons == len(last.members)
    assert population.as_columns()["household.members"].tolist() == [len(last.members)]
    assert_columns_match_scalar_facts(population, {"h": last}, TODAY)


def test_reading_on_a_later_day_ages_members_and_ends_the_disaster_window() -> None:
    state = from_registry({
        "household_id": "h1", "district": "110105", "region": "110000", "urban": True, "financial_assets_fen": 0,
        "members": [{"person_id": "p1", "birth_date": dt.date(1966, 4, 1), "monthly_income_fen": 100}],
        "current_benefits": [],
    })
    state = apply_event(state, "emergency.occurred", "p1",
                        {"occurred_on": TODAY, "kind": "FLOOD", "severity": "SERIOUS", "place_district": "110105",
                         "home_destroyed": False}, "e1", TODAY)
    population = PopulationColumns.build([state], TODAY)
    now, later = population.as_columns(), population.as_columns(TODAY + dt.timedelta(days=120))
    assert (now["member.age"][0], later["member.age"][0]) == (59, 60)
    assert (now["household.elderly_members"][0], later["household.elderly_members"][0]) == (0, 1)
    assert (now["household.earners_working_age"][0], later["household.earners_working_age"][0]) == (1, 0)
    assert (now["household.disaster_severity"][0], later["household.disaster_severity"][0]) == ("SERIOUS", "NONE")


def test_codes_compare_equal_to_their_strings_and_members_reach_household_facts() -> None:
    population = synthetic_population(5000, seed=4)
    columns = population.as_columns()
    district, region = columns["household.district"], columns["household.region"]
    assert (district == "110105").any() and set(np.unique(region)) == set(SYNTHETIC_REGIONS)
    assert all(d[:2] == r[:2] for d, r in zip(district, region, strict=True))
    owner = columns["member.household"]
    assert owner.shape == columns["member.age"].shape and owner.max() < len(district)
    assert np.array_equal(np.bincount(owner, minlength=len(district)), columns["household.members"])
    assert (columns["household.id"][owner] == np.array(population.household_ids(), dtype=object)[owner]).all()


def test_synthetic_population_has_the_expected_shape() -> None:
    population = synthetic_population(200_000, seed=5)
    columns = population.as_columns()
    assert population.persons == 200_000 and len(columns["member.household"]) == 200_000
    sizes = columns["household.members"]
    assert sizes.min() == 1 and sizes.max() == 6 and 2.7 < sizes.mean() < 3.1
    assert 0.20 < (columns["member.age"] >= 60).mean() < 0.22
    assert 0.055 < (columns["member.disability_grade"] > 0).mean() < 0.065
    standard = np.array([SYNTHETIC_STANDARD_FEN[(r, bool(u))]
                         for r, u in zip(columns["household.region"], columns["household.urban"], strict=True)])
    assert 0.025 < (columns["household.per_capita_income_fen"] < standard).mean() < 0.035
    assert columns["member.monthly_income_fen"].min() >= 0
    assert columns.live_members is None and len(set(population.household_ids())) == len(population)


def test_synthetic_population_is_reproducible_per_seed() -> None:
    first, again, other = (synthetic_population(3000, seed=s).as_columns() for s in (6, 6, 7))
    assert all(np.array_equal(first[name], again[name]) for name in first)
    assert not np.array_equal(first["member.monthly_income_fen"], other["member.monthly_income_fen"])


def test_a_million_persons_fit_in_well_under_a_kilobyte_each() -> None:
    population = synthetic_population(1_000_000, seed=8)
    assert 300_000 < len(population) < 400_000
    assert population.nbytes_per_person() < 400


def test_assembling_columns_with_a_missing_column_is_refused() -> None:
    with pytest.raises(ValueError, match="phone"):
        PopulationColumns.from_arrays(TODAY, {"id": np.array(["h"], dtype=object)}, {"id": np.array(["p"])}, [])
