"""Household state: registry records, how events and decisions change it, the facts it yields."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from services.matching.domain.household.facts import (
    SPECIAL_HARDSHIP,
    SUBSISTENCE_ALLOWANCE,
    age_on,
    apply_decision,
    apply_event,
    event_day,
    event_facts,
    fingerprint,
    household_facts,
    may_offer,
    member_facts,
    record_offer,
)
from services.matching.domain.household.state import HouseholdState, from_dict, from_registry, to_dict

TODAY = dt.date(2026, 3, 15)
HOUSEHOLD_FACTS = {
    "household.id", "household.district", "household.region", "household.urban", "household.members",
    "household.monthly_income_fen", "household.per_capita_income_fen", "household.annual_income_fen",
    "household.financial_assets_fen", "household.assets_per_capita_fen", "household.earners_working_age",
    "household.elderly_members", "household.children", "household.severe_disability_members",
    "household.medical_12m_fen", "household.education_12m_fen", "household.receives_subsistence_allowance",
    "household.receives_special_hardship", "household.lives_alone", "household.disaster_severity",
}
MEMBER_FACTS = {"member.id", "member.age", "member.monthly_income_fen", "member.disability_grade",
                "member.has_phone", "member.working_age"}


def registry_record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "household_id": "h-1",
        "district": "110105",
        "region": "110000",
        "urban": True,
        "financial_assets_fen": 3_000_000,
        "members": [
            {"person_id": "p-father", "birth_date": dt.date(1980, 5, 1), "monthly_income_fen": 600_000,
             "disability_grade": None, "has_phone": True},
            {"person_id": "p-mother", "birth_date": dt.date(1982, 7, 9), "monthly_income_fen": 300_000,
             "disability_grade": None, "has_phone": True},
            {"person_id": "p-child", "birth_date": dt.date(2015, 2, 1), "monthly_income_fen": 0,
             "disability_grade": None, "has_phone": False},
            {"person_id": "p-grandma", "birth_date": dt.date(1950, 1, 20), "monthly_income_fen": 200_000,
             "disability_grade": 2, "has_phone": False},
        ],
        "current_benefits": [],
        "as_of": dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC),
    }
    record.update(overrides)
    return record


def household(**overrides: Any) -> HouseholdState:
    return from_registry(registry_record(**overrides))


def facts(state: HouseholdState, on: dt.date = TODAY) -> dict[str, Any]:
    return household_facts(state, on)


def discharged(state: HouseholdState, event_id: str, on: dt.date, cost: int, subject: str = "p-father") \
        -> HouseholdState:
    data = {"discharged_on": on, "diagnosis_category": "GENERAL", "total_cost_fen": 3 * cost, "out_of_pocket_fen": cost}
    return apply_event(state, "hospitalisation.discharged", subject, data, event_id, on)


# ---- registry ------------------------------------------------------------------------------------------------

def test_registry_record_becomes_household_state() -> None:
    state = household(current_benefits=[SUBSISTENCE_ALLOWANCE])
    assert state.household_id == "h-1" and state.district == "110105" and state.region == "110000"
    assert state.urban and state.financial_assets_fen == 3_000_000
    assert set(state.members) == {"p-father", "p-mother", "p-child", "p-grandma"}
    assert state.members["p-grandma"].disability_grade == 2
    assert state.members["p-child"].has_phone is False
    assert state.current_benefits == {SUBSISTENCE_ALLOWANCE}
    assert state.registry_as_of == dt.date(2026, 1, 1)


def test_registry_record_with_iso_dates_and_default_phone_is_accepted() -> None:
    state = household(members=[{"person_id": "p-a", "birth_date": "1990-02-03", "monthly_income_fen": 1}])
    member = state.members["p-a"]
    assert member.birth_date == dt.date(1990, 2, 3) and member.has_phone and member.disability_grade is None


def test_new_registry_record_replaces_composition_but_keeps_history_and_decisions() -> None:
    state = discharged(household(), "ev-1", dt.date(2026, 2, 1), 50_000)
    state = record_offer(state, "offer-1", "medical_assistance")
    state = apply_decision(state, "ACCEPTED", SUBSISTENCE_ALLOWANCE, None, "fp")
    newer = registry_record(
        district="110108", financial_assets_fen=10,
        members=[{"person_id": "p-mother", "birth_date": dt.date(1982, 7, 9), "monthly_income_fen": 400_000}],
        as_of=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    merged = from_registry(newer, state)
    assert set(merged.members) == {"p-mother"} and merged.district == "110108"
    assert merged.financial_assets_fen == 10
    assert merged.members["p-mother"].monthly_income_fen == 400_000
    assert merged.expenditures == state.expenditures and merged.recent_events == state.recent_events
    assert merged.pending_offers == {"offer-1": "medical_assistance"}
    assert merged.receiving == {SUBSISTENCE_ALLOWANCE}


def test_new_registry_record_keeps_member_changes_of_events_on_or_after_its_day() -> None:
    state = apply_event(household(), "job.lost", "p-father",
                        {"lost_on": dt.date(2026, 3, 2), "unemployment_registered": True,
                         "previous_monthly_income_fen": 600_000}, "ev-job", dt.date(2026, 3, 2))
    republished = from_registry(registry_record(as_of=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)), state)
    assert republished.members["p-father"].monthly_income_fen == 0


def test_new_registry_record_is_trusted_over_events_before_its_day() -> None:
    state = apply_event(household(), "job.lost", "p-father",
                        {"lost_on": dt.date(2026, 1, 10), "unemployment_registered": True,
                         "previous_monthly_income_fen": 600_000}, "ev-job", dt.date(2026, 1, 10))
    reemployed = from_registry(registry_record(as_of=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)), state)
    assert reemployed.members["p-father"].monthly_income_fen == 600_000


def test_deceased_member_stays_removed_when_registry_still_lists_them() -> None:
    state = apply_event(household(), "death.registered", "p-grandma", {"died_on": dt.date(2026, 2, 1)},
                        "ev-death", dt.date(2026, 2, 1))
    lagging = from_registry(registry_record(as_of=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)), state)
    assert "p-grandma" not in lagging.members and "p-grandma" in lagging.deceased


def test_state_survives_round_trip_through_json() -> None:
    state = household(current_benefits=[SPECIAL_HARDSHIP])
    state = discharged(state, "ev-1", dt.date(2026, 2, 1), 50_000)
    state = apply_event(state, "emergency.occurred", "p-mother",
                        {"occurred_on": dt.date(2026, 3, 1), "kind": "FLOOD", "severity": "SERIOUS",
                         "place_district": "110112", "home_destroyed": True}, "ev-2", dt.date(2026, 3, 1))
    state = apply_event(state, "death.registered", "p-grandma", {"died_on": dt.date(2026, 3, 2)}, "ev-3",
                        dt.date(2026, 3, 2))
    state = record_offer(state, "offer-1", "temporary_assistance")
    state = apply_decision(state, "DECLINED", "medical_assistance", None, "abc")
    restored = from_dict(json.loads(json.dumps(to_dict(state))))
    assert restored == state


def test_serialised_state_stays_small() -> None:
    state = household()
    for i in range(20):
        state = discharged(state, f"ev-{i}", dt.date(2026, 1, 1) + dt.timedelta(days=i), 10_000 + i)
    assert len(json.dumps(to_dict(state))) < 2000


# ---- events ----------------------------------------------------------------------------------------------------

def test_job_loss_sets_member_income_to_zero() -> None:
    state = apply_event(household(), "job.lost", "p-father",
                        {"lost_on": TODAY, "unemployment_registered": True, "previous_monthly_income_fen": 600_000},
                        "ev-1", TODAY)
    assert state.members["p-father"].monthly_income_fen == 0
    assert facts(state)["household.monthly_income_fen"] == 500_000
    assert facts(state)["household.earners_working_age"] == 1


def test_death_removes_member_and_their_income() -> None:
    state = apply_event(household(), "death.registered", "p-father", {"died_on": TODAY}, "ev-1", TODAY)
    result = facts(state)
    assert "p-father" not in state.members and "p-father" in state.deceased
    assert result["household.members"] == 3 and result["household.monthly_income_fen"] == 500_000
    assert state.recent_events[-1].previous_income_fen == 600_000


def test_income_change_replaces_income() -> None:
    state = apply_event(household(), "income.changed", "p-mother",
                        {"effective_on": TODAY, "monthly_income_fen": 450_000}, "ev-1", TODAY)
    assert state.members["p-mother"].monthly_income_fen == 450_000
    assert state.recent_events[-1].previous_income_fen == 300_000


def test_income_change_dated_before_an_applied_one_does_not_override_it() -> None:
    state = apply_event(household(), "income.changed", "p-mother",
                        {"effective_on": TODAY, "monthly_income_fen": 450_000}, "ev-new", TODAY)
    late = TODAY - dt.timedelta(days=30)
    state = apply_event(state, "income.changed", "p-mother", {"effective_on": late, "monthly_income_fen": 1},
                        "ev-old", late)
    assert state.members["p-mother"].monthly_income_fen == 450_000
    assert "ev-old" in state.applied_event_ids()


def test_an_income_change_s_previous_income_follows_the_dated_history_whatever_order_the_reports_came_in() -> None:
    lost_on, cut_on = TODAY - dt.timedelta(days=10), TODAY
    loss = ("job.lost", "p-mother", {"lost_on": lost_on, "unemployment_registered": True,
                                     "previous_monthly_income_fen": 300_000}, "ev-lost", lost_on)
    cut = ("income.changed", "p-mother", {"effective_on": cut_on, "monthly_income_fen": 0}, "ev-cut", cut_on)

    def previous(*reports: tuple[Any, ...]) -> dict[str, int]:
        state = household()
        for report in reports:
            state = apply_event(state, *report)
        return {e.event_id: e.previous_income_fen for e in state.recent_events}

    # The job loss came first in its days: the later cut to nothing is no drop, in either order of arrival.
    assert previous(loss, cut) == previous(cut, loss) == {"ev-lost": 300_000, "ev-cut": 0}


def test_disability_certification_sets_grade() -> None:
    state = apply_event(household(), "disability.certified", "p-mother",
                        {"certified_on": TODAY, "category": "PHYSICAL", "grade": 1}, "ev-1", TODAY)
    assert state.members["p-mother"].disability_grade == 1
    assert facts(state)["household.severe_disability_members"] == 2


def test_hospital_discharge_and_settlement_add_out_of_pocket_to_medical_spending() -> None:
    state = discharged(household(), "ev-1", TODAY, 80_000)
    state = apply_event(state, "medical_expense.settled", "p-grandma",
                        {"settled_on": TODAY, "total_cost_fen": 900_000, "out_of_pocket_fen": 120_000}, "ev-2", TODAY)
    assert facts(state)["household.medical_12m_fen"] == 200_000


def test_hospital_admission_only_records_the_event() -> None:
    before = household()
    state = apply_event(before, "hospitalisation.admitted", "p-father",
                        {"admitted_on": TODAY, "diagnosis_category": "CRITICAL", "hospital_district": "110105",
                         "estimated_out_of_pocket_fen": 5_000_000}, "ev-1", TODAY)
    assert facts(state) == facts(before)
    assert state.recent_events[-1].amount_fen == 5_000_000


def test_emergency_sets_disaster_severity_for_90_days() -> None:
    struck = TODAY - dt.timedelta(days=10)
    state = apply_event(household(), "emergency.occurred", "p-mother",
                        {"occurred_on": struck, "kind": "EARTHQUAKE", "severity": "CATASTROPHIC",
                         "place_district": "510122", "home_destroyed": True}, "ev-1", struck)
    assert state.last_emergency is not None and state.last_emergency.place_district == "510122"
    assert state.last_emergency.home_destroyed
    assert facts(state)["household.disaster_severity"] == "CATASTROPHIC"
    assert facts(state, struck + dt.timedelta(days=90))["household.disaster_severity"] == "CATASTROPHIC"
    assert facts(state, struck + dt.timedelta(days=91))["household.disaster_severity"] == "NONE"


def test_emergency_dated_before_the_latest_does_not_replace_it() -> None:
    data = {"kind": "FLOOD", "place_district": "110112", "home_destroyed": False}
    state = apply_event(household(), "emergency.occurred", "p-mother",
                        {**data, "occurred_on": TODAY, "severity": "MINOR"}, "ev-new", TODAY)
    earlier = TODAY - dt.timedelta(days=5)
    state = apply_event(state, "emergency.occurred", "p-mother",
                        {**data, "occurred_on": earlier, "severity": "SERIOUS"}, "ev-old", earlier)
    assert facts(state)["household.disaster_severity"] == "MINOR"


def test_school_enrolment_adds_term_fees_to_education_spending() -> None:
    state = apply_event(household(), "school.enrolled", "p-child",
                        {"enrolled_on": TODAY, "level": "PRIMARY", "school_district": "110105",
                         "term_fees_fen": 250_000}, "ev-1", TODAY)
    assert facts(state)["household.education_12m_fen"] == 250_000
    assert facts(state)["household.medical_12m_fen"] == 0


@pytest.mark.parametrize(("event_type", "data", "detail"), [
    ("housing.lost", {"lost_on": TODAY, "reason": "EVICTION"}, "EVICTION"),
    ("age.milestone_reached", {"reached_on": TODAY, "age": 60}, "60"),
])
def test_housing_loss_and_age_milestone_are_recorded_without_changing_facts(event_type: str, data: dict[str, Any],
                                                                          detail: str) -> None:
    before = household()
    state = apply_event(before, event_type, "p-grandma", data, "ev-1", TODAY)
    assert facts(state) == facts(before)
    recorded = state.recent_events[-1]
    assert (recorded.type, recorded.member, recorded.detail, recorded.on) == (event_type, True, detail, TODAY)


def test_event_about_a_person_outside_the_household_only_records_the_event() -> None:
    before = household()
    state = apply_event(before, "job.lost", "p-stranger",
                        {"lost_on": TODAY, "unemployment_registered": False, "previous_monthly_income_fen": 1},
                        "ev-1", TODAY)
    state = discharged(state, "ev-2", TODAY, 99_000, subject="p-stranger")
    assert facts(state) == facts(before) and state.members == before.members
    assert [(e.event_id, e.member) for e in state.recent_events] == [("ev-1", False), ("ev-2", False)]


def test_reapplied_event_id_does_not_double_count_expenditure() -> None:
    once = discharged(household(), "ev-1", TODAY, 70_000)
    twice = discharged(once, "ev-1", TODAY, 70_000)
    assert twice is once
    assert facts(twice)["household.medical_12m_fen"] == 70_000


def test_expense_400_days_old_no_longer_counts() -> None:
    state = discharged(household(), "ev-old", TODAY - dt.timedelta(days=400), 100_000)
    state = discharged(state, "ev-edge", TODAY - dt.timedelta(days=364), 20_000)
    state = discharged(state, "ev-year", TODAY - dt.timedelta(days=365), 4_000)
    state = discharged(state, "ev-new", TODAY, 3_000)
    assert facts(state)["household.medical_12m_fen"] == 23_000


def test_history_older_than_400_days_before_the_newest_event_is_dropped() -> None:
    state = discharged(household(), "ev-old", TODAY - dt.timedelta(days=401), 100_000)
    state = discharged(state, "ev-new", TODAY, 3_000)
    assert [e.event_id for e in state.recent_events] == ["ev-new"]
    assert [x.event_id for x in state.expenditures] == ["ev-new"]


def test_event_older_than_the_kept_history_is_ignored() -> None:
    state = discharged(household(), "ev-new", TODAY, 3_000)
    stale = TODAY - dt.timedelta(days=500)
    after = apply_event(state, "income.changed", "p-father", {"effective_on": stale, "monthly_income_fen": 1},
                        "ev-stale", stale)
    assert after is state


def test_event_day_reads_the_events_own_date_field() -> None:
    assert event_day("job.lost", {"lost_on": dt.date(2026, 1, 2)}, TODAY) == dt.date(2026, 1, 2)
    assert event_day("death.registered", {"died_on": "2026-01-03"}, TODAY) == dt.date(2026, 1, 3)
    assert event_day("unknown.type", {}, TODAY) == TODAY


# ---- decisions -------------------------------------------------------------------------------------------------

def test_accepted_offer_makes_household_receive_the_policy() -> None:
    state = record_offer(household(), "offer-1", SUBSISTENCE_ALLOWANCE)
    state = apply_decision(state, "ACCEPTED", None, "offer-1", "fp-1")
    assert SUBSISTENCE_ALLOWANCE in state.receiving and state.pending_offers == {}
    assert facts(state)["household.receives_subsistence_allowance"] is True


def test_caseworker_approval_makes_household_receive_the_policy() -> None:
    state = apply_decision(household(), "APPROVED", SPECIAL_HARDSHIP, "offer-2", "fp-1")
    assert facts(state)["household.receives_special_hardship"] is True


def test_declined_policy_is_not_offered_again_until_the_facts_change() -> None:
    state = record_offer(household(), "offer-1", "medical_assistance")
    declined_with = fingerprint(facts(state))
    state = apply_decision(state, "DECLINED", "medical_assistance", "offer-1", declined_with)
    assert state.pending_offers == {} and state.declined == {"medical_assistance": declined_with}
    assert not may_offer(state, "medical_assistance", fingerprint(facts(state)))
    changed = discharged(state, "ev-1", TODAY, 500_000)
    assert may_offer(changed, "medical_assistance", fingerprint(facts(changed)))


def test_rejected_verification_counts_as_a_decline() -> None:
    state = apply_decision(household(), "REJECTED", "medical_assistance", None, "fp-1")
    assert not may_offer(state, "medical_assistance", "fp-1")


def test_policy_already_received_is_not_offered() -> None:
    state = household(current_benefits=[SUBSISTENCE_ALLOWANCE])
    assert not may_offer(state, SUBSISTENCE_ALLOWANCE, "any")
    assert may_offer(state, "medical_assistance", "any")


@pytest.mark.parametrize("action", ["CLAIMED", "UNCLAIMED", "LEASE_EXPIRED", "INFORMATION_REQUESTED",
                                    "REASSIGNED", "ESCALATED"])
def test_casework_transitions_do_not_change_the_household(action: str) -> None:
    state = record_offer(household(), "offer-1", "medical_assistance")
    assert apply_decision(state, action, "medical_assistance", "offer-1", "fp") is state


def test_recording_the_same_offer_twice_changes_nothing() -> None:
    state = record_offer(household(), "offer-1", "medical_assistance")
    assert record_offer(state, "offer-1", "medical_assistance") is state


# ---- facts -----------------------------------------------------------------------------------------------------

def test_household_facts_have_exactly_the_vocabulary_names() -> None:
    assert set(facts(household())) == HOUSEHOLD_FACTS


def test_household_facts_count_members_by_age_income_and_disability() -> None:
    result = facts(household())
    assert result["household.members"] == 4
    assert result["household.monthly_income_fen"] == 1_100_000
    assert result["household.per_capita_income_fen"] == 275_000.0
    assert result["household.annual_income_fen"] == 13_200_000
    assert result["household.assets_per_capita_fen"] == 750_000.0
    assert result["household.earners_working_age"] == 2
    assert result["household.elderly_members"] == 1
    assert result["household.children"] == 1
    assert result["household.severe_disability_members"] == 1
    assert result["household.lives_alone"] is False
    assert result["household.disaster_severity"] == "NONE"
    assert result["household.receives_subsistence_allowance"] is False


def test_working_age_runs_from_16_to_59() -> None:
    members = [
        {"person_id": f"p-{age}", "birth_date": dt.date(TODAY.year - age, 1, 1), "monthly_income_fen": 1}
        for age in (15, 16, 59, 60)
    ]
    state = household(members=members)
    result = facts(state)
    assert (result["household.children"], result["household.earners_working_age"],
            result["household.elderly_members"]) == (1, 2, 1)
    working = {pid: f["member.working_age"] for pid, f in member_facts(state, TODAY).items()}
    assert working == {"p-15": False, "p-16": True, "p-59": True, "p-60": False}


def test_age_counts_whole_years_and_29_february_birthdays_from_1_march() -> None:
    assert age_on(dt.date(1966, 3, 15), TODAY) == 60
    assert age_on(dt.date(1966, 3, 16), TODAY) == 59
    assert age_on(dt.date(2008, 2, 29), dt.date(2026, 2, 28)) == 17
    assert age_on(dt.date(2008, 2, 29), dt.date(2026, 3, 1)) == 18


def test_household_without_living_members_has_zero_per_capita_values() -> None:
    state = household(members=[{"person_id": "p-a", "birth_date": dt.date(1940, 1, 1), "monthly_income_fen": 9}])
    state = apply_event(state, "death.registered", "p-a", {"died_on": TODAY}, "ev-1", TODAY)
    result = facts(state)
    assert result["household.members"] == 0
    assert result["household.per_capita_income_fen"] == 0.0 and result["household.assets_per_capita_fen"] == 0.0


def test_single_member_household_lives_alone() -> None:
    state = household(members=[{"person_id": "p-a", "birth_date": dt.date(1940, 1, 1), "monthly_income_fen": 9}])
    assert facts(state)["household.lives_alone"] is True


def test_member_facts_per_living_member() -> None:
    result = member_facts(household(), TODAY)
    assert set(result) == {"p-father", "p-mother", "p-child", "p-grandma"}
    assert all(set(f) == MEMBER_FACTS for f in result.values())
    assert result["p-grandma"] == {"member.id": "p-grandma", "member.age": 76, "member.monthly_income_fen": 200_000,
                                   "member.disability_grade": 2, "member.has_phone": False,
                                   "member.working_age": False}
    assert result["p-child"]["member.disability_grade"] == 0


def test_event_facts_expose_each_data_field_with_dates_as_iso_strings() -> None:
    data = {"occurred_on": dt.date(2026, 3, 1), "kind": "FLOOD", "severity": "SERIOUS",
            "place_district": "110112", "home_destroyed": True}
    assert event_facts("emergency.occurred", "ev-1", "p-mother", data) == {
        "event.type": "emergency.occurred", "event.id": "ev-1", "event.subject": "p-mother",
        "event.occurred_on": "2026-03-01", "event.kind": "FLOOD", "event.severity": "SERIOUS",
        "event.place_district": "110112", "event.home_destroyed": True,
    }


def test_fingerprint_is_stable_and_changes_only_with_eligibility_facts() -> None:
    base = facts(household())
    assert fingerprint(base) == fingerprint(dict(reversed(list(base.items()))))
    assert fingerprint(base) == fingerprint({**base, "household.id": "another"})
    assert fingerprint(base) != fingerprint({**base, "household.monthly_income_fen": 1})
