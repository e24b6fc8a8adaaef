"""Exit reviews: a household or member receiving a benefit whose facts show it no longer qualifies gets one
REVIEW task; amounts received follow a rising standard through re-evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from services.core.codec import Event, decode_record, encode_record, load_contract
from services.core.settings import PROJECT_ROOT
from services.matching.domain.catalogue.policy import Scope
from services.matching.domain.catalogue.policy_catalogue import load_catalogue
from services.matching.domain.household.risk import load_risk_model
from services.matching.domain.household.state import HouseholdState
from services.matching.domain.population.columns import PopulationColumns
from services.matching.domain.population.evaluation import PopulationOutcome, changed_households, evaluate_population
from services.matching.handler import Matcher, Result

DEMO_TEXT = (PROJECT_ROOT / "policies" / "national-demo.yaml").read_text()
CATALOGUE = load_catalogue(DEMO_TEXT, "demo")
RAISED = load_catalogue(DEMO_TEXT.replace('version: "2026.1"', 'version: "2026.2"').replace(
    'region: "510000", urban: 80000, rural: 65000}', 'region: "510000", urban: 90000, rural: 65000}'), "raised")
MATCHER = Matcher(load_risk_model((PROJECT_ROOT / "policies" / "risk.yaml").read_text()))
CONTRACT = load_contract()
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
DIBAO = "subsistence_allowance"
NURSING = "severe_disability_nursing_subsidy"
HARDSHIP = "special_hardship"


def household(incomes: tuple[int, ...] = (0, 0), benefits: tuple[str, ...] = (DIBAO,), region: str = "510000",
              grades: tuple[int | None, ...] = (None, None), births: tuple[dt.date, ...] | None = None,
              household_id: str = "h-exit") -> dict[str, Any]:
    born = births or tuple(dt.date(1980 + i, 5, 1) for i in range(len(incomes)))
    return {"household_id": household_id, "district": region[:2] + "0107", "region": region, "urban": True,
            "financial_assets_fen": 0, "current_benefits": list(benefits), "as_of": NOW - dt.timedelta(days=30),
            "members": [{"person_id": f"p{i}", "birth_date": born[i], "monthly_income_fen": income,
                         "disability_grade": grades[i], "has_phone": True} for i, income in enumerate(incomes)]}


def income_changed(person: str, income: int, event_id: str) -> Event:
    return Event(event_id, "/departments/human_resources/t", "income.changed", NOW, person,
                 {"effective_on": dt.date(2026, 11, 18), "monthly_income_fen": income})


def died(person: str, event_id: str) -> Event:
    return Event(event_id, "/departments/civil_registry/t", "death.registered", NOW, person,
                 {"died_on": dt.date(2026, 11, 18)})


def reviews(result: Result) -> list[dict[str, Any]]:
    return [o.value for o in result.outputs if o.record == "caseworker_task" and o.value["kind"] == "REVIEW"]


def state_of(result: Result) -> HouseholdState:
    assert result.state is not None
    return result.state


def test_income_far_above_the_line_raises_one_review_with_what_changed_and_no_automatic_stop():
    loaded = MATCHER.on_registry(None, household(), CATALOGUE, NOW)
    assert reviews(loaded) == []
    raised = MATCHER.on_event(state_of(loaded), income_changed("p0", 400_000, "e-job"), CATALOGUE, NOW)
    [task] = reviews(raised)
    assert task["change"] == "NEW" and task["offer"] is None and task["person_id"] is None
    review = task["review"]
    assert review["policy_id"] == DIBAO and review["amount_fen"] == 160_000
    assert not review["explanation"]["eligible"]
    assert any("review threshold is met" in r for r in review["reasons"])
    assert "household.per_capita_income_fen 0 -> 200000" in review["reasons"]
    assert DIBAO in state_of(raised).benefits()  # reviewed, not stopped
    again = MATCHER.on_event(state_of(raised), income_changed("p1", 0, "e-same"), CATALOGUE, NOW)
    assert reviews(again) == []
    assert decode_record(CONTRACT, "caseworker_task", encode_record(CONTRACT, "caseworker_task", task))["review"]


def test_a_rejected_review_is_not_raised_again_for_unchanged_facts_but_is_for_new_ones():
    loaded = MATCHER.on_registry(None, household(), CATALOGUE, NOW)
    raised = MATCHER.on_event(state_of(loaded), income_changed("p0", 400_000, "e-job"), CATALOGUE, NOW)
    [task] = reviews(raised)
    kept = MATCHER.on_decision(state_of(raised), {"action": "REJECTED", "task_id": task["task_id"],
                                                  "offer_id": None, "policy_id": None}, NOW)
    assert DIBAO in state_of(kept).benefits()
    assert reviews(MATCHER.on_reevaluation(state_of(kept), CATALOGUE, NOW)) == []
    higher = MATCHER.on_event(state_of(kept), income_changed("p0", 500_000, "e-raise"), CATALOGUE, NOW)
    [second] = reviews(higher)
    assert second["task_id"] != task["task_id"]


def test_an_approved_review_ends_a_benefit_received_through_a_decision():
    loaded = MATCHER.on_registry(None, household(incomes=(0, 0), benefits=(), grades=(None, 1)), CATALOGUE, NOW)
    [nursing] = [o.value for o in loaded.outputs if o.record == "offer" and o.value["policy_id"] == NURSING]
    accepted = MATCHER.on_decision(state_of(loaded), {"action": "ACCEPTED", "offer_id": nursing["offer_id"],
                                                      "policy_id": NURSING}, NOW)
    gone = MATCHER.on_event(state_of(accepted), died("p1", "e-death"), CATALOGUE, NOW)
    [task] = [t for t in reviews(gone) if t["review"]["policy_id"] == NURSING]
    assert task["person_id"] == "p1" and "died" in " ".join(task["review"]["reasons"])
    assert task["review"]["amount_fen"] == 20_000
    ended = MATCHER.on_decision(state_of(gone), {"action": "APPROVED", "task_id": task["task_id"]}, NOW)
    assert f"{NURSING}@p1" not in state_of(ended).receiving
    assert reviews(MATCHER.on_reevaluation(state_of(ended), CATALOGUE, NOW)) == []


def test_a_member_moving_out_is_reviewed_once():
    loaded = MATCHER.on_registry(None, household(incomes=(0, 0), benefits=(), grades=(None, 1)), CATALOGUE, NOW)
    [nursing] = [o.value for o in loaded.outputs if o.record == "offer" and o.value["policy_id"] == NURSING]
    accepted = MATCHER.on_decision(state_of(loaded), {"action": "ACCEPTED", "offer_id": nursing["offer_id"]}, NOW)
    moved = household(incomes=(0,), benefits=(), grades=(None,))
    result = MATCHER.on_registry(state_of(accepted), moved, CATALOGUE, NOW)
    [task] = [t for t in reviews(result) if t["review"]["policy_id"] == NURSING]
    assert "no longer a member of the household" in " ".join(task["review"]["reasons"])
    assert [t for t in reviews(MATCHER.on_registry(state_of(result), moved, CATALOGUE, NOW))
            if t["review"]["policy_id"] == NURSING] == []


def test_moving_to_a_region_with_a_lower_standard_reviews_the_allowance():
    # 1,400 yuan per person is below Shanghai's 1,510 standard and far above Sichuan's 800.
    loaded = MATCHER.on_registry(None, household(incomes=(280_000, 0), region="310000"), CATALOGUE, NOW)
    assert reviews(loaded) == []
    moved = MATCHER.on_registry(state_of(loaded), household(incomes=(280_000, 0), region="510000"), CATALOGUE, NOW)
    assert [t["review"]["policy_id"] for t in reviews(moved)] == [DIBAO]


def test_a_child_turning_sixteen_is_reviewed_for_special_hardship_by_reevaluation():
    births = (dt.date(2010, 11, 25), dt.date(1950, 1, 1))
    loaded = MATCHER.on_registry(None, household(benefits=(), births=births), CATALOGUE, NOW)
    task = next(o.value for o in loaded.outputs if o.record == "caseworker_task" and o.value["offer"]
                and o.value["offer"]["policy_id"] == HARDSHIP and o.value["person_id"] == "p0")
    approved = MATCHER.on_decision(state_of(loaded), {"action": "APPROVED", "task_id": task["task_id"],
                                                      "offer_id": task["offer"]["offer_id"],
                                                      "policy_id": HARDSHIP}, NOW)
    birthday = NOW + dt.timedelta(days=5)
    result = MATCHER.on_reevaluation(state_of(approved), CATALOGUE, birthday)
    [review] = [t for t in reviews(result) if t["review"]["policy_id"] == HARDSHIP]
    assert review["person_id"] == "p0" and "member.age 15 -> 16" in review["review"]["reasons"]


def test_a_review_is_withdrawn_when_the_household_qualifies_again():
    loaded = MATCHER.on_registry(None, household(), CATALOGUE, NOW)
    raised = MATCHER.on_event(state_of(loaded), income_changed("p0", 400_000, "e-job"), CATALOGUE, NOW)
    [task] = reviews(raised)
    back = MATCHER.on_event(state_of(raised), income_changed("p0", 0, "e-lost"), CATALOGUE, NOW)
    [withdrawn] = reviews(back)
    assert withdrawn["task_id"] == task["task_id"] and withdrawn["change"] == "WITHDRAWN"
    assert not state_of(back).reviews[DIBAO].open


def test_a_review_raised_again_after_its_withdrawal_is_a_new_task():
    # The same facts again gave the withdrawn task's id, and casework keeps a withdrawn task withdrawn: nobody
    # would have reviewed the household.
    loaded = MATCHER.on_registry(None, household(), CATALOGUE, NOW)
    raised = MATCHER.on_event(state_of(loaded), income_changed("p0", 400_000, "e-job"), CATALOGUE, NOW)
    [task] = reviews(raised)
    back = MATCHER.on_event(state_of(raised), income_changed("p0", 0, "e-lost"), CATALOGUE, NOW)
    rises = Event("e-job-again", "/departments/human_resources/t", "income.changed", NOW, "p0",
                  {"effective_on": dt.date(2026, 11, 19), "monthly_income_fen": 400_000})
    [again] = reviews(MATCHER.on_event(state_of(back), rises, CATALOGUE, NOW))
    assert again["change"] == "NEW" and again["task_id"] != task["task_id"]


def test_a_rising_standard_revises_the_amount_received_through_the_reevaluation_path():
    loaded = MATCHER.on_registry(None, household(incomes=(60_000, 0)), CATALOGUE, NOW)
    other = MATCHER.on_registry(None, household(incomes=(900_000, 0), benefits=(), household_id="h-rich"),
                                CATALOGUE, NOW)
    states = [state_of(loaded), state_of(other)]
    population = PopulationColumns.build(states, NOW.date())
    columns = population.as_columns(NOW.date())
    before = evaluate_population(CATALOGUE, columns, NOW.date(), [DIBAO])
    after = evaluate_population(RAISED, columns, NOW.date(), [DIBAO])
    rows = changed_households(before[DIBAO], after[DIBAO], columns.get("member.household"))
    assert [str(population.household_ids()[r]) for r in rows] == ["h-exit"]
    result = MATCHER.on_reevaluation(states[0], RAISED, NOW)
    [offer] = [o.value for o in result.outputs if o.record == "offer" and o.value["policy_id"] == DIBAO]
    assert offer["change"] == "REVISED" and offer["revision"]["received"]
    assert (offer["revision"]["previous_amount_fen"], offer["amount_fen"]) == (100_000, 120_000)
    assert "standard 80000 -> 90000" in offer["revision"]["changed_facts"]
    unchanged = MATCHER.on_reevaluation(state_of(result), RAISED, NOW)
    assert [o for o in unchanged.outputs if o.value.get("policy_id") == DIBAO] == []


def test_changed_households_include_newly_eligible_and_exclude_unchanged_member_rows():
    before = PopulationOutcome("m", Scope.MEMBER, np.array([True, False, False, True]), np.array([5, 0, 0, 5]))
    after = PopulationOutcome("m", Scope.MEMBER, np.array([True, True, False, True]), np.array([5, 7, 0, 6]))
    rows = changed_households(before, after, np.array([0, 1, 1, 2], dtype=np.int32))
    assert rows.tolist() == [1, 2]


def certified(person: str, grade: int, event_id: str, on: dt.date = dt.date(2026, 11, 18)) -> Event:
    return Event(event_id, "/departments/disabled_persons_federation/t", "disability.certified", NOW, person,
                 {"certified_on": on, "category": "PHYSICAL", "grade": grade})


def test_a_benefit_ended_by_an_approved_review_is_offered_and_reviewed_again_under_new_ids_when_the_facts_return():
    # Found by the oracle (seed 1): the offer made again took the accepted offer's id, a duplicate NEW that
    # every consumer drops, so the person was never told.
    loaded = MATCHER.on_registry(None, household(incomes=(0, 0), benefits=(), grades=(None, 1)), CATALOGUE, NOW)
    [first] = [o.value for o in loaded.outputs if o.record == "offer" and o.value["policy_id"] == NURSING]
    state = state_of(MATCHER.on_decision(state_of(loaded), {"action": "ACCEPTED", "offer_id": first["offer_id"],
                                                            "policy_id": NURSING}, NOW))
    ids, review_ids = [first["offer_id"]], []
    for round_ in range(2):
        lowered_on, raised_on = dt.date(2026, 11, 2 + 4 * round_), dt.date(2026, 11, 4 + 4 * round_)
        lower = MATCHER.on_event(state, certified("p1", 4, f"e-lower-{round_}", lowered_on), CATALOGUE, NOW)
        [task] = [t for t in reviews(lower) if t["review"]["policy_id"] == NURSING]
        assert task["change"] == "NEW" and task["task_id"] not in review_ids  # a decided task stays decided
        review_ids.append(task["task_id"])
        ended = MATCHER.on_decision(state_of(lower), {"action": "APPROVED", "task_id": task["task_id"]}, NOW)
        assert f"{NURSING}@p1" not in state_of(ended).receiving
        again = MATCHER.on_event(state_of(ended), certified("p1", 1, f"e-higher-{round_}", raised_on), CATALOGUE, NOW)
        [offer] = [o.value for o in again.outputs if o.record == "offer" and o.value["policy_id"] == NURSING]
        assert offer["change"] == "NEW" and offer["offer_id"] not in ids
        ids.append(offer["offer_id"])
        state = state_of(MATCHER.on_decision(state_of(again), {"action": "ACCEPTED", "offer_id": offer["offer_id"],
                                                               "policy_id": NURSING}, NOW))


def test_a_review_raised_again_on_the_facts_of_a_rejected_one_is_a_new_task():
    def income(amount: int, event_id: str, day: int) -> Event:
        return Event(event_id, "/departments/human_resources/t", "income.changed", NOW, "p0",
                     {"effective_on": dt.date(2026, 11, day), "monthly_income_fen": amount})

    state = state_of(MATCHER.on_registry(None, household(), CATALOGUE, NOW))
    seen: list[str] = []
    for amount, event_id, day in ((400_000, "e-1", 10), (500_000, "e-2", 12), (400_000, "e-3", 14)):
        raised = MATCHER.on_event(state, income(amount, event_id, day), CATALOGUE, NOW)
        [task] = reviews(raised)
        assert task["change"] == "NEW" and task["task_id"] not in seen
        seen.append(task["task_id"])
        state = state_of(MATCHER.on_decision(state_of(raised), {"action": "REJECTED", "task_id": task["task_id"]},
                                             NOW))
