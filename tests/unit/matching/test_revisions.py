"""Revisions and withdrawals: facts change while an offer or task is pending."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.core.codec import Event, decode_record, encode_record, load_contract
from services.core.settings import PROJECT_ROOT
from services.matching.domain.catalogue.policy_catalogue import load_catalogue
from services.matching.domain.household.risk import load_risk_model
from services.matching.domain.household.state import HouseholdState
from services.matching.handler import Matcher, Result

CATALOGUE = load_catalogue((PROJECT_ROOT / "policies" / "national-demo.yaml").read_text(), "demo")
MATCHER = Matcher(load_risk_model((PROJECT_ROOT / "policies" / "risk.yaml").read_text()))
CONTRACT = load_contract()
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
DIBAO = "subsistence_allowance"
NURSING = "severe_disability_nursing_subsidy"


def family(earner_income: int, grade: int | None = None) -> dict[str, Any]:
    """Sichuan urban (standard 80,000 fen): an earner, a spouse and a child."""
    return {"household_id": "h-rev", "district": "510107", "region": "510000", "urban": True,
            "financial_assets_fen": 0, "current_benefits": [], "as_of": NOW - dt.timedelta(days=30),
            "members": [
                {"person_id": "p-earner", "birth_date": dt.date(1985, 4, 2), "monthly_income_fen": earner_income,
                 "disability_grade": None, "has_phone": True},
                {"person_id": "p-spouse", "birth_date": dt.date(1987, 9, 10), "monthly_income_fen": 0,
                 "disability_grade": grade, "has_phone": True},
                {"person_id": "p-child", "birth_date": dt.date(2016, 6, 1), "monthly_income_fen": 0,
                 "disability_grade": None, "has_phone": True}]}


def income_changed(person: str, income: int, event_id: str) -> Event:
    return Event(event_id, "/departments/human_resources/t", "income.changed", NOW, person,
                 {"effective_on": dt.date(2026, 11, 18), "monthly_income_fen": income})


def job_lost(person: str, event_id: str) -> Event:
    return Event(event_id, "/departments/human_resources/t", "job.lost", NOW, person,
                 {"lost_on": dt.date(2026, 11, 17), "unemployment_registered": True,
                  "previous_monthly_income_fen": 168_000})


def certified(person: str, grade: int, event_id: str) -> Event:
    return Event(event_id, "/departments/disabled_persons_federation/t", "disability.certified", NOW, person,
                 {"certified_on": dt.date(2026, 11, 18), "category": "PHYSICAL", "grade": grade})


def died(person: str, event_id: str) -> Event:
    return Event(event_id, "/departments/civil_registry/t", "death.registered", NOW, person,
                 {"died_on": dt.date(2026, 11, 18)})


def tasks_for(result: Result, policy: str) -> list[dict[str, Any]]:
    return [o.value for o in result.outputs if o.record == "caseworker_task" and o.value["offer"]
            and o.value["offer"]["policy_id"] == policy]


def offers_for(result: Result, policy: str) -> list[dict[str, Any]]:
    return [o.value for o in result.outputs if o.record == "offer" and o.value["policy_id"] == policy]


def state_of(result: Result) -> HouseholdState:
    assert result.state is not None
    return result.state


def test_job_loss_while_the_allowance_is_pending_revises_the_task_with_the_new_amount():
    # 1,680 yuan for three is 560 per person: 240 below the standard each, 720 yuan in all (0.9 standard).
    loaded = MATCHER.on_registry(None, family(168_000), CATALOGUE, NOW)
    [first] = tasks_for(loaded, DIBAO)
    assert first["offer"]["amount_fen"] == 72_000
    revised = MATCHER.on_event(state_of(loaded), job_lost("p-earner", "e-job"), CATALOGUE, NOW)
    [task] = tasks_for(revised, DIBAO)
    assert task["task_id"] == first["task_id"] and task["change"] == "REVISED"
    offer = task["offer"]
    assert offer["offer_id"] == first["offer"]["offer_id"] and offer["change"] == "REVISED"
    assert offer["amount_fen"] == 240_000
    revision = offer["revision"]
    assert revision["number"] == 1 and revision["previous_amount_fen"] == 72_000 and not revision["received"]
    assert revision["previous_summary"] == first["offer"]["explanation"]["summary"]
    assert revision["previous_computation"] == first["offer"]["explanation"]["computation"]
    assert "720.00" in revision["reason"] and "2,400.00" in revision["reason"]
    assert "household.per_capita_income_fen 56000 -> 0" in revision["changed_facts"]
    assert "2,400.00" in offer["explanation"]["summary"]
    assert task["due_at"] == first["due_at"] and task["evidence_event_ids"] == ["e-job"]


def test_a_second_revision_counts_up_and_shows_the_previous_revised_amount():
    loaded = MATCHER.on_registry(None, family(168_000), CATALOGUE, NOW)
    once = MATCHER.on_event(state_of(loaded), job_lost("p-earner", "e-job"), CATALOGUE, NOW)
    twice = MATCHER.on_event(state_of(once), income_changed("p-spouse", 60_000, "e-part-time"), CATALOGUE, NOW)
    [task] = tasks_for(twice, DIBAO)
    assert task["offer"]["revision"]["number"] == 2
    assert task["offer"]["revision"]["previous_amount_fen"] == 240_000
    assert task["offer"]["amount_fen"] == 180_000


def test_income_rising_above_the_line_while_pending_withdraws_the_task_with_the_reason():
    loaded = MATCHER.on_registry(None, family(168_000), CATALOGUE, NOW)
    [first] = tasks_for(loaded, DIBAO)
    result = MATCHER.on_event(state_of(loaded), income_changed("p-earner", 600_000, "e-raise"), CATALOGUE, NOW)
    [task] = tasks_for(result, DIBAO)
    assert task["task_id"] == first["task_id"] and task["change"] == "WITHDRAWN"
    assert task["offer"]["change"] == "WITHDRAWN" and task["offer"]["amount_fen"] is None
    assert task["offer"]["revision"]["previous_amount_fen"] == 72_000
    assert "below the local subsistence standard" in task["offer"]["revision"]["reason"]
    assert not task["offer"]["explanation"]["eligible"]
    assert first["offer"]["offer_id"] not in state_of(result).pending_offers
    nothing_more = MATCHER.on_event(state_of(result), income_changed("p-earner", 610_000, "e-raise-2"), CATALOGUE,
                                    NOW)
    assert tasks_for(nothing_more, DIBAO) == []


def test_recertified_grade_revises_the_pending_nursing_offer():
    loaded = MATCHER.on_registry(None, family(600_000, grade=2), CATALOGUE, NOW)
    [first] = offers_for(loaded, NURSING)
    assert first["amount_fen"] == 10_000 and first["change"] == "NEW" and first["revision"] is None
    result = MATCHER.on_event(state_of(loaded), certified("p-spouse", 1, "e-grade"), CATALOGUE, NOW)
    [offer] = offers_for(result, NURSING)
    assert offer["offer_id"] == first["offer_id"] and offer["change"] == "REVISED"
    assert (offer["amount_fen"], offer["revision"]["previous_amount_fen"]) == (20_000, 10_000)
    assert "member.disability_grade 2 -> 1" in offer["revision"]["changed_facts"]


def test_the_beneficiary_dying_withdraws_the_pending_offer():
    loaded = MATCHER.on_registry(None, family(600_000, grade=2), CATALOGUE, NOW)
    [first] = offers_for(loaded, NURSING)
    result = MATCHER.on_event(state_of(loaded), died("p-spouse", "e-death"), CATALOGUE, NOW)
    [offer] = offers_for(result, NURSING)
    assert offer["offer_id"] == first["offer_id"] and offer["change"] == "WITHDRAWN"
    assert "died" in offer["revision"]["reason"]
    assert offer["person_id"] == "p-spouse"


def test_the_same_history_gives_the_same_records():
    def history() -> list[dict[str, Any]]:
        loaded = MATCHER.on_registry(None, family(168_000, grade=2), CATALOGUE, NOW)
        once = MATCHER.on_event(state_of(loaded), job_lost("p-earner", "e-job"), CATALOGUE, NOW)
        twice = MATCHER.on_event(state_of(once), income_changed("p-earner", 900_000, "e-raise"), CATALOGUE, NOW)
        return [o.value for r in (loaded, once, twice) for o in r.outputs]

    assert history() == history()


def test_revisions_and_withdrawals_fit_the_contract():
    loaded = MATCHER.on_registry(None, family(168_000, grade=2), CATALOGUE, NOW)
    once = MATCHER.on_event(state_of(loaded), job_lost("p-earner", "e-job"), CATALOGUE, NOW)
    gone = MATCHER.on_event(state_of(once), died("p-spouse", "e-death"), CATALOGUE, NOW)
    outputs = [o for r in (once, gone) for o in r.outputs]
    assert {o.value.get("change") for o in outputs} >= {"REVISED", "WITHDRAWN"}
    for output in outputs:
        decoded = decode_record(CONTRACT, output.record, encode_record(CONTRACT, output.record, output.value))
        assert decoded["change"] == output.value["change"]


def test_a_decline_no_longer_holds_once_the_offer_was_made_again():
    # Found by the oracle: declined on facts F, offered again on new facts, withdrawn, then back to F.
    loaded = MATCHER.on_registry(None, family(168_000), CATALOGUE, NOW)
    [first] = tasks_for(loaded, DIBAO)
    declined = MATCHER.on_decision(state_of(loaded), {"action": "REJECTED", "task_id": first["task_id"],
                                                      "offer_id": first["offer"]["offer_id"], "policy_id": DIBAO}, NOW)
    again = MATCHER.on_event(state_of(declined), income_changed("p-spouse", 30_000, "e-1"), CATALOGUE, NOW)
    [made_again] = tasks_for(again, DIBAO)
    # A rejection ends its id for good (casework keeps the task decided; a second NEW of a known id is a
    # duplicate to every consumer): the offer made again on new facts is NEW under an id of its own.
    assert made_again["change"] == "NEW"
    assert made_again["task_id"] != first["task_id"]
    assert made_again["offer"]["offer_id"] != first["offer"]["offer_id"]
    above = MATCHER.on_event(state_of(again), income_changed("p-spouse", 300_000, "e-2"), CATALOGUE, NOW)
    assert [t["change"] for t in tasks_for(above, DIBAO)] == ["WITHDRAWN"]
    back = MATCHER.on_event(state_of(above), income_changed("p-spouse", 0, "e-3"), CATALOGUE, NOW)
    [task] = tasks_for(back, DIBAO)
    # Withdrawn, then qualifying again: the same id reinstated with the next revision.
    assert task["change"] == "REVISED" and task["offer"]["amount_fen"] == 72_000
    assert task["task_id"] == made_again["task_id"] and task["offer"]["offer_id"] == made_again["offer"]["offer_id"]
    assert task["offer"]["revision"]["number"] == 2


def medical_bill(person: str, event_id: str, on: dt.date) -> Event:
    return Event(event_id, "/departments/healthcare_security/t", "medical_expense.settled", NOW, person,
                 {"settled_on": on, "total_cost_fen": 600_000, "out_of_pocket_fen": 300_000})


def test_a_declined_need_of_a_member_who_died_since_is_decided_again_without_failing():
    # Found by the oracle (seed 3): deciding the need again looked the dead member's facts up among the living
    # members and raised, so the report that arrived late would have been dead-lettered.
    state = state_of(MATCHER.on_registry(None, family(0), CATALOGUE, NOW))
    billed = MATCHER.on_event(state, medical_bill("p-spouse", "e-bill", dt.date(2026, 11, 10)), CATALOGUE, NOW)
    [offer] = offers_for(billed, "medical_assistance")
    declined = MATCHER.on_decision(state_of(billed), {"action": "DECLINED", "offer_id": offer["offer_id"],
                                                      "policy_id": "medical_assistance"}, NOW, CATALOGUE)
    gone = MATCHER.on_event(state_of(declined), Event("e-death", "/departments/civil_registry/t",
                                                      "death.registered", NOW, "p-spouse",
                                                      {"died_on": dt.date(2026, 11, 15)}), CATALOGUE, NOW)
    late = Event("e-late", "/departments/human_resources/t", "income.changed", NOW, "p-earner",
                 {"effective_on": dt.date(2026, 11, 5), "monthly_income_fen": 10_000})
    again = MATCHER.on_event(state_of(gone), late, CATALOGUE, NOW)
    assert "e-late" in state_of(again).applied_event_ids()
    # The facts the decline was made on changed (a member died, the earner's income as of the bill's day), so
    # the need is offered again, under a new id: the declined one is ended for good.
    [made_again] = offers_for(again, "medical_assistance")
    assert made_again["change"] == "NEW" and made_again["offer_id"] != offer["offer_id"]
