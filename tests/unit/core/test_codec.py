from __future__ import annotations

import datetime as dt

import pytest

from services.core.codec import (
    decode_event,
    decode_record,
    encode_event,
    encode_record,
    event_from_json,
    event_to_json,
    load_contract,
)
from services.core.conformance import ContractError
from tests.conftest import discharge

CONTRACT = load_contract()


def test_every_event_type_names_an_owning_department_and_its_schema_file():
    assert len(CONTRACT.event_types) >= 11
    for event_type in CONTRACT.event_types.values():
        assert event_type.department
        assert event_type.dataschema.startswith("schemas/events/")


def test_event_survives_kafka_binary_mode_and_json_structured_mode():
    event = event_from_json(CONTRACT, discharge(subject="p123"))
    value, headers = encode_event(CONTRACT, event)
    assert dict(headers)["ce_type"] == b"hospitalisation.discharged"
    assert dict(headers)["content-type"] == b"application/avro"
    assert decode_event(CONTRACT, value, headers) == event
    assert event_from_json(CONTRACT, {k: v for k, v in event_to_json(event).items()}) == event
    assert event.data["discharged_on"] == dt.date(2026, 11, 19)


def test_missing_ce_headers_are_named():
    with pytest.raises(ContractError) as caught:
        decode_event(CONTRACT, b"", [("ce_id", b"1")])
    assert {e.field for e in caught.value.errors} == {"ce_source", "ce_type", "ce_specversion", "ce_time",
                                                      "ce_subject"}


def test_offer_record_round_trips_with_nested_explanation():
    offer = {
        "offer_id": "o1", "household_id": "h1", "person_id": None, "contact_person_id": "p1",
        "policy_id": "subsistence_allowance",
        "policy_name": "Subsistence allowance", "tier": "basic", "benefit_period": "2026-11",
        "amount_fen": 123_400, "amount_period": "MONTHLY", "route": "VERIFICATION", "district": "510107",
        "priority": 70, "created_at": dt.datetime(2026, 11, 20, tzinfo=dt.UTC), "trigger_event_id": "e1",
        "trigger_event_type": "job.lost",
        "change": "NEW", "revision": None,
        "explanation": {"policy_id": "subsistence_allowance", "policy_version": "2026.1", "legal_basis": "art. 9",
                        "eligible": True, "facts": {"household.members": "3"},
                        "conditions": [{"expression": "a < b", "values": "1 < 2", "holds": True,
                                        "label": {"zh-CN": "收入 {a} 低于 {b}", "en": "Income {a} below {b}"},
                                        "unmet": {}, "label_values": [
                                            {"name": "a", "kind": "money", "value": "1", "words": {}},
                                            {"name": "b", "kind": "number", "value": "2", "words": {}}]}],
                        "computation": "(800 - 400) x 3", "summary": "Income below the standard.",
                        "policy_names": {"zh-CN": "最低生活保障", "en": "Subsistence allowance"},
                        "amount_label": {"en": "{amount} a month"},
                        "amount_values": [{"name": "amount", "kind": "money", "value": "123400", "words": {}}]},
    }
    assert decode_record(CONTRACT, "offer", encode_record(CONTRACT, "offer", offer)) == offer


def test_record_errors_name_nested_fields():
    with pytest.raises(ContractError) as caught:
        encode_record(CONTRACT, "decision", {"decision_id": "d", "action": "MAYBE", "household_id": "h",
                                             "district": "1", "actor": "x", "at": "yesterday"})
    assert {e.field for e in caught.value.errors} == {"action", "at"}
