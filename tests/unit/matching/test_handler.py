"""The matching service layer: registry, events, decisions and re-evaluation on one household (no Kafka)."""

from __future__ import annotations

import datetime as dt

from services.core.codec import Event, load_contract
from services.core.settings import PROJECT_ROOT
from services.matching.domain.catalogue.policy_catalogue import load_catalogue
from services.matching.domain.household.risk import load_risk_model
from services.matching.handler import Matcher
from services.matching.stored import StoredHousehold

CATALOGUE = load_catalogue((PROJECT_ROOT / "policies" / "national-demo.yaml").read_text(), "demo")
MATCHER = Matcher(load_risk_model((PROJECT_ROOT / "policies" / "risk.yaml").read_text()))
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def registry(income: int = 300_000, benefits: tuple[str, ...] = ()) -> dict:
    return {"household_id": "h1", "district": "510107", "region": "510000", "urban": True,
            "financial_assets_fen": 0, "current_benefits": list(benefits), "as_of": NOW - dt.timedelta(days=60),
            "members": [
                {"person_id": "p1", "birth_date": dt.date(1985, 4, 2), "monthly_income_fen": income,
                 "disability_grade": None, "has_phone": True},
                {"person_id": "p2", "birth_date": dt.date(1987, 9, 10), "monthly_income_fen": 0,
                 "disability_grade": None, "has_phone": True},
                {"person_id": "p3", "birth_date": dt.date(2016, 6, 1), "monthly_income_fen": 0,
                 "disability_grade": None, "has_phone": True}]}


def job_lost(event_id: str = "e1") -> Event:
    return Event(event_id, "/departments/human_resources/t", "job.lost", NOW, "p1",
                 {"lost_on": dt.date(2026, 11, 17), "unemployment_registered": True,
                  "previous_monthly_income_fen": 300_000})


def policies(result) -> list[str]:
    return [(o.value.get("offer") or o.value)["policy_id"] for o in result.outputs if o.value.get("offer")
            or o.record == "offer"]


def test_job_loss_below_line_offers_subsistence_allowance_for_verification():
    state = MATCHER.on_registry(None, registry(), CATALOGUE, NOW).state
    result = MATCHER.on_event(state, job_lost(), CATALOGUE, NOW)
    assert "subsistence_allowance" in policies(result)
    task = next(o for o in result.outputs if o.record == "caseworker_task" and o.value["offer"]
                and o.value["offer"]["policy_id"] == "subsistence_allowance")
    assert task.value["offer"]["amount_fen"] == 240_000
    assert task.value["evidence_event_ids"] == ["e1"]
    assert task.value["offer"]["person_id"] is None  # a household offer...
    assert task.value["offer"]["contact_person_id"] == "p1"  # ...told to the member whose event triggered it


def test_replayed_event_is_recognised_and_offers_nothing_new():
    state = MATCHER.on_registry(None, registry(), CATALOGUE, NOW).state
    first = MATCHER.on_event(state, job_lost(), CATALOGUE, NOW)
    again = MATCHER.on_event(first.state, job_lost(), CATALOGUE, NOW)
    assert again.replayed and again.outputs == ()


def test_pending_offer_is_not_offered_twice_and_a_declined_one_waits_for_new_facts():
    state = MATCHER.on_registry(None, registry(), CATALOGUE, NOW).state
    first = MATCHER.on_event(state, job_lost(), CATALOGUE, NOW)
    second = MATCHER.on_event(first.state, job_lost("e2"), CATALOGUE, NOW)
    assert "subsistence_allowance" not in policies(second)
    task = next(o for o in first.outputs if o.value.get("offer") and
                o.value["offer"]["policy_id"] == "subsistence_allowance")
    declined = MATCHER.on_decision(second.state, {"action": "REJECTED", "policy_id": "subsistence_allowance",
                                                  "offer_id": task.value["offer"]["offer_id"]}, NOW).state
    assert "subsistence_allowance" in declined.declined
    assert "subsistence_allowance" not in policies(MATCHER.on_reevaluation(declined, CATALOGUE, NOW))


def test_household_already_on_dibao_is_not_offered_it_again():
    state = MATCHER.on_registry(None, registry(income=0, benefits=("subsistence_allowance",)), CATALOGUE, NOW).state
    assert "subsistence_allowance" not in policies(MATCHER.on_reevaluation(state, CATALOGUE, NOW))


def test_offer_ids_are_the_same_when_the_same_facts_are_evaluated_again():
    state = MATCHER.on_registry(None, registry(), CATALOGUE, NOW).state
    a = MATCHER.on_event(state, job_lost(), CATALOGUE, NOW)
    b = MATCHER.on_event(state, job_lost(), CATALOGUE, NOW + dt.timedelta(minutes=5))
    assert [o.id for o in a.outputs] == [o.id for o in b.outputs]


class Message:
    def __init__(self, offset: int):
        self.topic, self.partition, self.offset, self.headers = "assist.matching.households", 3, offset, []


def test_stored_household_resends_what_a_replayed_message_sent_the_first_time():
    contract = load_contract()
    state = MATCHER.on_registry(None, registry(), CATALOGUE, NOW).state
    stored = StoredHousehold(state)
    result = MATCHER.on_event(state, job_lost(), CATALOGUE, NOW)
    records = stored.outgoing(contract, result)
    raw = stored.store(result.state, Message(41), records)
    recovered = StoredHousehold.load(raw)
    assert recovered.replayed(Message(41)) == records
    assert recovered.replayed(Message(42)) is None
    assert recovered.state == result.state


def test_offers_and_tasks_say_which_type_of_event_they_are_based_on():
    state = MATCHER.on_registry(None, registry(), CATALOGUE, NOW).state
    result = MATCHER.on_event(state, job_lost(), CATALOGUE, NOW)
    task = next(o for o in result.outputs if o.record == "caseworker_task" and o.value["offer"]
                and o.value["offer"]["policy_id"] == "subsistence_allowance")
    assert task.value["offer"]["trigger_event_type"] == "job.lost"
    assert task.value["evidence_event_types"] == ["job.lost"]
    registry_only = MATCHER.on_registry(None, registry(income=0), CATALOGUE, NOW)
    assert all((o.value.get("offer") or o.value).get("trigger_event_type") is None
               for o in registry_only.outputs if o.record in ("offer", "caseworker_task") and (
                   o.record == "offer" or o.value.get("offer")))
