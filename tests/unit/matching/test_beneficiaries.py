"""Per person: a member-scope policy is offered, pending, declined and received per (policy, member)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from services.core.settings import PROJECT_ROOT
from services.matching.domain.catalogue.policy_catalogue import load_catalogue
from services.matching.domain.household.benefits import offer_id_of
from services.matching.domain.household.risk import load_risk_model
from services.matching.domain.household.state import from_dict, to_dict
from services.matching.handler import Matcher, Result

CATALOGUE = load_catalogue((PROJECT_ROOT / "policies" / "national-demo.yaml").read_text(), "demo")
MATCHER = Matcher(load_risk_model((PROJECT_ROOT / "policies" / "risk.yaml").read_text()))
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
NURSING = "severe_disability_nursing_subsidy"
HARDSHIP = "special_hardship"


def couple(grade_a: int | None = 1, grade_b: int | None = 1) -> dict[str, Any]:
    """Two members over 60 without income: special hardship for each; nursing subsidy for each grade 1 or 2."""
    return {"household_id": "h-two", "district": "510107", "region": "510000", "urban": True,
            "financial_assets_fen": 0, "current_benefits": [], "as_of": NOW - dt.timedelta(days=30),
            "members": [
                {"person_id": "p-a", "birth_date": dt.date(1950, 3, 1), "monthly_income_fen": 0,
                 "disability_grade": grade_a, "has_phone": True},
                {"person_id": "p-b", "birth_date": dt.date(1952, 8, 9), "monthly_income_fen": 0,
                 "disability_grade": grade_b, "has_phone": True}]}


def offers(result: Result, policy: str) -> list[dict[str, Any]]:
    found = []
    for output in result.outputs:
        offer = output.value.get("offer") if output.record == "caseworker_task" else output.value
        if offer and offer["policy_id"] == policy:
            found.append(offer)
    return found


def decide(result: Result, action: str, offer: dict[str, Any]) -> Result:
    assert result.state is not None
    return MATCHER.on_decision(result.state, {"action": action, "offer_id": offer["offer_id"],
                                              "policy_id": offer["policy_id"], "person_id": offer["person_id"]}, NOW)


def test_two_members_with_grade_one_disability_each_get_the_nursing_subsidy():
    loaded = MATCHER.on_registry(None, couple(), CATALOGUE, NOW)
    nursing = offers(loaded, NURSING)
    assert sorted(o["person_id"] for o in nursing) == ["p-a", "p-b"]
    assert len({o["offer_id"] for o in nursing}) == 2
    assert [o["amount_fen"] for o in nursing] == [20_000, 20_000]


def test_two_members_in_special_hardship_get_one_verification_task_each():
    loaded = MATCHER.on_registry(None, couple(), CATALOGUE, NOW)
    tasks = [o.value for o in loaded.outputs if o.record == "caseworker_task" and o.value["offer"]
             and o.value["offer"]["policy_id"] == HARDSHIP]
    assert sorted(t["person_id"] for t in tasks) == ["p-a", "p-b"]
    assert len({t["task_id"] for t in tasks}) == 2


def test_member_offer_ids_are_deterministic_per_beneficiary():
    first = offers(MATCHER.on_registry(None, couple(), CATALOGUE, NOW), NURSING)
    again = offers(MATCHER.on_registry(None, couple(), CATALOGUE, NOW + dt.timedelta(hours=2)), NURSING)
    assert [o["offer_id"] for o in first] == [o["offer_id"] for o in again]
    assert first[0]["offer_id"] == offer_id_of("p-a", NURSING, "2026-11")


def test_each_members_offer_stays_pending_until_decided_and_is_not_offered_twice():
    loaded = MATCHER.on_registry(None, couple(), CATALOGUE, NOW)
    assert loaded.state is not None
    again = MATCHER.on_reevaluation(loaded.state, CATALOGUE, NOW)
    assert offers(again, NURSING) == []


def test_decisions_are_kept_per_beneficiary():
    loaded = MATCHER.on_registry(None, couple(), CATALOGUE, NOW)
    nurse_a, nurse_b = sorted(offers(loaded, NURSING), key=lambda o: o["person_id"])
    accepted = decide(loaded, "ACCEPTED", nurse_a)
    declined = decide(accepted, "DECLINED", nurse_b)
    state = declined.state
    assert state is not None
    assert f"{NURSING}@p-a" in state.receiving and f"{NURSING}@p-b" not in state.receiving
    assert f"{NURSING}@p-b" in state.declined and NURSING not in state.declined
    assert offers(MATCHER.on_reevaluation(state, CATALOGUE, NOW), NURSING) == []


def test_a_declined_member_offer_comes_back_when_that_members_facts_change():
    loaded = MATCHER.on_registry(None, couple(grade_b=2), CATALOGUE, NOW)
    nurse_b = next(o for o in offers(loaded, NURSING) if o["person_id"] == "p-b")
    declined = decide(loaded, "DECLINED", nurse_b)
    assert declined.state is not None
    recertified = MATCHER.on_registry(declined.state, couple(grade_b=1), CATALOGUE, NOW)
    again = offers(recertified, NURSING)
    assert [(o["person_id"], o["amount_fen"]) for o in again] == [("p-b", 20_000)]


def test_a_decision_seen_twice_does_not_spread_to_the_other_member():
    loaded = MATCHER.on_registry(None, couple(), CATALOGUE, NOW)
    nurse_a = next(o for o in offers(loaded, NURSING) if o["person_id"] == "p-a")
    twice = decide(decide(loaded, "ACCEPTED", nurse_a), "ACCEPTED", nurse_a)
    assert twice.state is not None and twice.state.receiving == {f"{NURSING}@p-a"}


def test_a_state_stored_before_per_person_keys_loads_and_names_the_member_of_its_pending_offer():
    # What the previous version stored: one pending nursing offer (for p-a), keyed by policy id only.
    legacy_offer = offer_id_of("p-a", NURSING, "2026-11")
    stored = {"h": "h-two", "d": "510107", "r": "510000", "u": 1, "a": 0,
              "m": {"p-a": [-7246, 0, 1, 1], "p-b": [-6354, 0, 1, 1]},
              "p": {legacy_offer: NURSING}, "n": {"medical_assistance": "0123456789abcdef"},
              "v": ["old_age_allowance"], "t": (NOW.date() - dt.date(1970, 1, 1)).days - 30}
    state = from_dict(json.loads(json.dumps(stored)))
    assert state.pending_offers == {legacy_offer: f"{NURSING}@p-a"}
    assert state.declined == {"medical_assistance": "0123456789abcdef"}
    assert state.receiving == {"old_age_allowance"}
    result = MATCHER.on_reevaluation(state, CATALOGUE, NOW)
    assert [o["person_id"] for o in offers(result, NURSING)] == ["p-b"]
    assert result.state is not None and from_dict(to_dict(result.state)) == result.state


def test_a_legacy_pending_offer_whose_member_cannot_be_found_still_covers_the_whole_household():
    stored = {"h": "h-two", "d": "510107", "r": "510000", "u": 1, "a": 0,
              "m": {"p-a": [-7246, 0, 1, 1], "p-b": [-6354, 0, 1, 1]}, "p": {"o-unknown": NURSING}}
    state = from_dict(stored)
    assert state.pending_offers == {"o-unknown": NURSING}
    assert offers(MATCHER.on_reevaluation(state, CATALOGUE, NOW), NURSING) == []
