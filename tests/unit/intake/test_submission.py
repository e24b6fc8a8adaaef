from __future__ import annotations

from services.core.codec import load_contract
from services.intake.domain.submission import department_of_source, judge_structured, may_publish
from tests.conftest import discharge, resident_id, structured_event

CONTRACT = load_contract()


def pseudonym(number: str) -> str:
    return "p-" + number[::-1]


def test_each_department_publishes_only_the_event_types_it_owns():
    assert may_publish(CONTRACT, "health", "hospitalisation.discharged")
    assert may_publish(CONTRACT, "disabled_persons_federation", "disability.certified")
    assert may_publish(CONTRACT, "emergency_management", "emergency.occurred")
    assert not may_publish(CONTRACT, "health", "disability.certified")
    assert not may_publish(CONTRACT, "education", "job.lost")
    assert not may_publish(CONTRACT, "unknown", "job.lost")


def test_valid_batch_is_accepted_with_subjects_replaced_by_pseudonyms():
    number = resident_id()
    verdict = judge_structured(CONTRACT, "health", [discharge(subject=number)], pseudonym)
    assert verdict.accepted
    assert verdict.events[0].subject == pseudonym(number)


def test_batch_problems_name_index_field_and_reason_for_every_bad_event():
    bad_date = discharge()
    bad_date["data"]["discharged_on"] = "19-11-2026"
    unknown_field = discharge()
    unknown_field["data"]["ward"] = "3B"
    verdict = judge_structured(CONTRACT, "health", [discharge(), bad_date, unknown_field, "not an event"], pseudonym)
    assert not verdict.accepted and not verdict.forbidden
    assert {(p.index, p.field, p.reason) for p in verdict.problems} == {
        (1, "data.discharged_on", "must be a date YYYY-MM-DD"),
        (2, "data.ward", "is not a field of HospitalisationDischarged"),
        (3, "", "an event must be a JSON object"),
    }


def test_foreign_event_type_is_forbidden_not_invalid():
    flood = structured_event("emergency.occurred", {"occurred_on": "2026-11-18", "kind": "FLOOD",
                                                    "severity": "SERIOUS", "place_district": "510107",
                                                    "home_destroyed": True})
    verdict = judge_structured(CONTRACT, "health", [flood], pseudonym)
    assert verdict.forbidden
    assert verdict.problems[0].reason == "department health may not publish emergency.occurred"


def test_missing_attributes_and_unknown_type_are_named():
    event = discharge()
    del event["id"]
    event["type"] = "pension.paid"
    verdict = judge_structured(CONTRACT, "health", [event], pseudonym)
    assert {p.field for p in verdict.problems} == {"id", "type"}


def test_kafka_source_names_the_department():
    assert department_of_source("/departments/health/his") == "health"
    assert department_of_source("/elsewhere/health") is None
