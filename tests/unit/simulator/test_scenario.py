"""The department event stream and the demo story."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter

import pytest

from services.core.codec import encode_record, event_from_json, load_contract
from services.core.conformance import ContractError
from services.core.identity import Pseudonymiser, resident_id_problem
from services.simulator.faults import IMPOSSIBLE_GRADE, UNKNOWN_TYPE, WRONG_CHECK_CHARACTER, spoil
from services.simulator.population import SUBSISTENCE_ALLOWANCE, Population, generate_population
from services.simulator.scenario import ScenarioClock, department_events
from services.simulator.story import demo_story

CONTRACT = load_contract()
PSEUDONYMS = Pseudonymiser("test-pseudonym-key")
END = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
COUNT = 4_000
CLOCK = ScenarioClock.ending(END, COUNT, dt.timedelta(days=60))


@pytest.fixture(scope="module")
def population() -> Population:
    return generate_population(3_000, 21, dt.date(2026, 1, 1), PSEUDONYMS.person_id)


@pytest.fixture(scope="module")
def events(population) -> list[dict]:
    return list(itertools.islice(department_events(population, CONTRACT, 4, CLOCK, flood_after=1_000), COUNT))


def _time(event: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(event["time"].replace("Z", "+00:00"))


def _born(event: dict) -> dt.date:
    return dt.date(int(event["subject"][6:10]), int(event["subject"][10:12]), int(event["subject"][12:14]))


def test_every_event_passes_the_contract_with_a_valid_identity_number(events):
    for event in events:
        parsed = event_from_json(CONTRACT, event, resident_id_problem)
        assert parsed.subject == event["subject"]


def test_event_ids_are_unique_and_sources_name_the_owning_department(events):
    assert len({e["id"] for e in events}) == len(events)
    for event in events:
        department = CONTRACT.event_types[event["type"]].department
        assert event["source"].startswith(f"/departments/{department}/")


def test_every_kind_of_change_is_reported(events):
    # Applications are made by residents on the citizen page or through a caseworker, not reported by departments.
    assert set(Counter(e["type"] for e in events)) == set(CONTRACT.event_types) - {"application.submitted"}


def test_same_seed_and_clock_give_the_same_events_and_another_seed_others(population):
    def first(seed: int) -> list[dict]:
        return list(itertools.islice(department_events(population, CONTRACT, seed, CLOCK), 300))

    assert first(9) == first(9)
    assert {e["id"] for e in first(9)}.isdisjoint(e["id"] for e in first(10))


def test_events_happen_within_the_clock_and_never_after_its_end(events):
    times = [_time(e) for e in events]
    assert max(times) <= END
    assert min(times) >= CLOCK.start - dt.timedelta(days=1)


def test_clock_ending_spreads_events_so_the_last_is_at_the_end():
    clock = ScenarioClock.ending(END, 10, dt.timedelta(hours=9))
    assert clock.at(9) == END
    assert clock.at(0) == END - dt.timedelta(hours=9) + dt.timedelta(hours=0.9)


def test_flood_hits_one_district_destroys_a_few_homes_and_reaches_people_registered_elsewhere(events):
    floods = [e for e in events if e["type"] == "emergency.occurred" and e["data"]["kind"] == "FLOOD"]
    assert len(floods) >= 10
    places = {e["data"]["place_district"] for e in floods}
    assert len(places) == 1
    destroyed = [e for e in floods if e["data"]["home_destroyed"]]
    assert 0 < len(destroyed) < 0.25 * len(floods)
    assert all(e["data"]["severity"] == "CATASTROPHIC" for e in destroyed)
    assert any(e["subject"][:6] not in places for e in floods)
    lost = {e["subject"] for e in events if e["type"] == "housing.lost" and e["data"]["reason"] == "DISASTER"}
    assert {e["subject"] for e in destroyed} <= lost


def test_discharges_follow_admissions_of_the_same_person(events):
    admitted: dict[str, str] = {}
    discharges = 0
    for event in events:
        if event["type"] == "hospitalisation.admitted":
            admitted[event["subject"]] = event["data"]["admitted_on"]
        elif event["type"] == "hospitalisation.discharged":
            discharges += 1
            assert event["subject"] in admitted
            assert event["data"]["discharged_on"] >= admitted[event["subject"]]
            assert event["data"]["out_of_pocket_fen"] <= event["data"]["total_cost_fen"]
    assert discharges > 50


def test_nobody_is_reported_on_after_their_death(events):
    dead: set[str] = set()
    for event in events:
        assert event["subject"] not in dead
        if event["type"] == "death.registered":
            dead.add(event["subject"])
    assert dead


def test_jobs_are_lost_by_working_age_earners(population, events):
    income = {p.resident_id: p.monthly_income_fen for _, p in population.persons()}
    for event in events:
        if event["type"] == "income.changed":
            income[event["subject"]] = event["data"]["monthly_income_fen"]
        elif event["type"] == "job.lost":
            age = (_time(event).date() - _born(event)).days / 365.25
            assert 17.9 < age < 60.1
            assert event["data"]["previous_monthly_income_fen"] == income[event["subject"]] > 0
            income[event["subject"]] = 0


def test_age_milestones_fall_on_the_sixtieth_and_eightieth_birthdays(events):
    milestones = [e for e in events if e["type"] == "age.milestone_reached"]
    assert milestones
    for event in milestones:
        born, age = _born(event), event["data"]["age"]
        assert age in (60, 80)
        assert event["data"]["reached_on"] == born.replace(year=born.year + age).isoformat()


def test_children_are_enrolled_at_the_level_their_age_fits(events):
    entry = {"PRIMARY": 6, "JUNIOR_SECONDARY": 12, "SENIOR_SECONDARY": 15, "VOCATIONAL": 15, "HIGHER": 18}
    for event in (e for e in events if e["type"] == "school.enrolled"):
        age = (CLOCK.start.date() - _born(event)).days // 365.25
        assert entry[event["data"]["level"]] <= age + 1 and age <= entry[event["data"]["level"]] + 1


def test_bad_fraction_breaks_about_that_share_in_every_way(population):
    stream = department_events(population, CONTRACT, 4, CLOCK, bad_fraction=0.2)
    reasons: Counter[str] = Counter()
    for event in itertools.islice(stream, 1_000):
        try:
            event_from_json(CONTRACT, event, resident_id_problem)
        except ContractError as exc:
            reasons.update({e.field for e in exc.errors})
    assert 150 < sum(reasons.values()) < 250
    assert {"subject", "type", "data.grade"} <= set(reasons)


@pytest.mark.parametrize(("fault", "field"), [(WRONG_CHECK_CHARACTER, "subject"), (UNKNOWN_TYPE, "type"),
                                              (IMPOSSIBLE_GRADE, "data.grade")])
def test_each_fault_is_rejected_naming_its_field(events, fault, field):
    broken = spoil(events[0], random.Random(3), fault)
    with pytest.raises(ContractError) as raised:
        event_from_json(CONTRACT, broken, resident_id_problem)
    assert [e.field for e in raised.value.errors] == [field]
    assert broken["id"] == events[0]["id"]


def test_demo_story_households_encode_and_their_events_pass_the_contract():
    now = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    stories = demo_story(CONTRACT, PSEUDONYMS.person_id, now)
    assert len(stories) >= 5
    for story in stories:
        encode_record(CONTRACT, "household", story.household.record(now))
        assert story.events and story.expected_offers and story.narrative
        members = {m.resident_id for m in story.household.members}
        for event in story.events:
            event_from_json(CONTRACT, event, resident_id_problem)
            assert event["subject"] in members
            assert _time(event) <= now
    assert len({e["id"] for s in stories for e in s.events}) == sum(len(s.events) for s in stories)
    later = demo_story(CONTRACT, PSEUDONYMS.person_id, now + dt.timedelta(minutes=1))
    assert {e["id"] for s in later for e in s.events}.isdisjoint(e["id"] for s in stories for e in s.events)


def test_demo_story_tells_the_situations_that_should_lead_to_offers():
    now = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    today = now.date()
    yang, chen, zhou, wu, huang = demo_story(CONTRACT, PSEUDONYMS.person_id, now)

    line = yang.household.district.subsistence_line_fen
    [lost] = yang.events
    earner = next(m for m in yang.household.members if m.resident_id == lost["subject"])
    after = (sum(m.monthly_income_fen for m in yang.household.members) - earner.monthly_income_fen)
    assert not yang.household.district.urban
    assert yang.household.per_capita_income_fen > line > after // len(yang.household.members)

    [death] = chen.events
    [widow] = [m for m in chen.household.members if m.resident_id != death["subject"]]
    assert death["type"] == "death.registered" and len(chen.household.members) == 2
    assert widow.age_on(today) == 82 and not widow.has_phone
    assert widow.monthly_income_fen < chen.household.district.subsistence_line_fen

    child = next(m for m in zhou.household.members if m.resident_id == zhou.events[0]["subject"])
    assert SUBSISTENCE_ALLOWANCE in zhou.household.current_benefits and child.age_on(today) == 6
    assert zhou.events[0]["type"] == "school.enrolled"

    flood = wu.events[0]
    assert flood["data"]["home_destroyed"] and flood["data"]["place_district"] != wu.household.district.code

    assert huang.events[0]["type"] == "disability.certified" and huang.events[0]["data"]["grade"] == 1
