"""The OpenAPI document is derived from the contract: every event type, its data fields and constraints."""

from __future__ import annotations

import jsonschema_rs

from services.core.attributes import ATTRIBUTE_LIMITS
from services.core.codec import load_contract
from services.intake.adapters.openapi import openapi_document
from tests.conftest import discharge, structured_event

CONTRACT = load_contract()
DOCUMENT = openapi_document(CONTRACT, 1000)
POST = DOCUMENT["paths"]["/v1/events"]["post"]
ONE = POST["requestBody"]["content"]["application/cloudevents+json"]["schema"]


def _validator(schema):
    return jsonschema_rs.Draft202012Validator(schema)


def test_there_is_one_event_schema_per_event_type_with_its_own_department_in_the_source():
    by_type = {s["properties"]["type"]["const"]: s for s in ONE["oneOf"]}
    assert set(by_type) == set(CONTRACT.event_types)
    for name, schema in by_type.items():
        assert f"/departments/{CONTRACT.event_types[name].department}/" in schema["properties"]["source"]["pattern"]
        assert schema["properties"]["id"]["maxLength"] == ATTRIBUTE_LIMITS["id"]


def test_valid_events_fit_the_document_and_broken_ones_do_not():
    validator = _validator(ONE)
    assert validator.is_valid(discharge())
    grade = structured_event("disability.certified", {"certified_on": "2026-11-01", "category": "VISUAL",
                                                      "grade": 2}, department="disabled_persons_federation")
    assert validator.is_valid(grade)
    assert not validator.is_valid({**grade, "data": {**grade["data"], "grade": 7}})  # the schema's maximum
    missing = discharge()
    del missing["data"]["out_of_pocket_fen"]
    assert not validator.is_valid(missing)
    assert not validator.is_valid({**discharge(), "source": "/departments/human_resources/jobs"})


def test_every_answer_is_described_with_its_body_and_retry_after_where_it_applies():
    responses = POST["responses"]
    assert set(responses) == {"202", "400", "401", "403", "409", "413", "415", "429", "503"}
    for status in ("409", "429", "503"):
        assert "Retry-After" in responses[status]["headers"]
    batch = POST["requestBody"]["content"]["application/cloudevents-batch+json"]["schema"]
    assert (batch["minItems"], batch["maxItems"]) == (1, 1000)
