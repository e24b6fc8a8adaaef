"""Kafka binary mode refuses what does not fit the contract, naming the header or field, and never crashes."""

from __future__ import annotations

import io
import itertools
import random

import fastavro
import pytest

from services.core.codec import ATTRIBUTE_LIMITS, decode_event, encode_event, event_from_json, load_contract
from services.core.conformance import ContractError
from services.simulator.poison import valid_data
from tests.conftest import discharge, structured_event

CONTRACT = load_contract()


def _binary(structured: dict | None = None) -> tuple[bytes, list[tuple[str, bytes | None]]]:
    value, headers = encode_event(CONTRACT, event_from_json(CONTRACT, structured or discharge()))
    return value, list(headers)


def _with(headers: list[tuple[str, bytes | None]], name: str, value: bytes | None) -> list[tuple[str, bytes | None]]:
    return [(k, value if k == name else v) for k, v in headers]


def _fields(value: bytes | None, headers: list[tuple[str, bytes | None]]) -> set[str]:
    with pytest.raises(ContractError) as caught:
        decode_event(CONTRACT, value, headers)
    return {e.field for e in caught.value.errors}


def test_a_tombstone_is_refused_on_data():
    _, headers = _binary()
    assert _fields(None, headers) == {"data"}


@pytest.mark.parametrize("name", ["ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "ce_subject",
                                  "content-type", "ce_dataschema"])
def test_a_header_without_a_value_is_named(name):
    value, headers = _binary()
    assert name in _fields(value, _with(headers, name, None))


@pytest.mark.parametrize("name", ["ce_id", "ce_source", "ce_subject", "ce_time", "ce_type"])
def test_a_header_that_is_not_utf8_is_named_and_never_rewritten(name):
    value, headers = _binary()
    assert name in _fields(value, _with(headers, name, b"\xff\xfeabc"))


def test_a_header_given_twice_is_named():
    value, headers = _binary()
    assert "ce_id" in _fields(value, [*headers, ("ce_id", b"another-id")])


@pytest.mark.parametrize("time", [b"0001-01-01T00:00:00+01:00", b"9999-12-31T23:59:59-01:00"])
def test_a_time_that_cannot_be_expressed_in_utc_is_named(time):
    value, headers = _binary()
    assert _fields(value, _with(headers, "ce_time", time)) == {"ce_time"}


def test_a_time_that_cannot_be_expressed_in_utc_is_named_in_structured_mode():
    event = discharge()
    event["time"] = "0001-01-01T00:00:00+01:00"
    with pytest.raises(ContractError) as caught:
        event_from_json(CONTRACT, event)
    assert {e.field for e in caught.value.errors} == {"time"}


@pytest.mark.parametrize("version", [b"0.3", b"1.0 ", b"2.0"])
def test_only_spec_version_1_0_is_accepted(version):
    value, headers = _binary()
    assert _fields(value, _with(headers, "ce_specversion", version)) == {"ce_specversion"}


def test_trailing_bytes_after_the_record_are_refused_on_data():
    value, headers = _binary()
    assert _fields(value + b"\x00", headers) == {"data"}


def test_a_boolean_byte_other_than_0_or_1_is_refused_on_data():
    job = structured_event("job.lost", {"lost_on": "2026-11-01", "unemployment_registered": True,
                                        "previous_monthly_income_fen": 500_000}, department="human_resources")
    value, headers = _binary(job)
    assert value[3:4] == b"\x01"  # date (3 bytes), then the boolean
    assert _fields(value[:3] + b"\x05" + value[4:], headers) == {"data"}


def test_an_over_long_number_is_refused_on_data():
    value, headers = _binary()
    assert value[2] < 0x80  # the date is a 3-byte varint; spell it in 4 bytes, as no Avro writer would
    padded = value[:2] + bytes([value[2] | 0x80, 0x00]) + value[3:]
    assert _fields(padded, headers) == {"data"}


def test_avro_of_another_type_with_a_different_shape_is_refused():
    certified = structured_event("disability.certified", {"certified_on": "2026-11-01", "category": "PHYSICAL",
                                                          "grade": 2}, department="disabled_persons_federation")
    foreign, _ = _binary(certified)
    _, headers = _binary()
    assert _fields(foreign, headers)


def test_data_constraints_are_checked_while_decoding():
    certified = structured_event("disability.certified", {"certified_on": "2026-11-01", "category": "PHYSICAL",
                                                          "grade": 2}, department="disabled_persons_federation")
    _, headers = _binary(certified)
    body = io.BytesIO()
    fastavro.schemaless_writer(body, CONTRACT.event_types["disability.certified"].schema,
                               {"certified_on": 20_400, "category": "PHYSICAL", "grade": 9})
    assert _fields(body.getvalue(), headers) == {"data.grade"}


def test_a_dataschema_header_must_name_the_types_schema():
    value, headers = _binary()
    assert _fields(value, _with(headers, "ce_dataschema", b"schemas/events/job_lost.avsc")) == {"ce_dataschema"}


def test_content_type_must_be_avro():
    value, headers = _binary()
    assert _fields(value, _with(headers, "content-type", b"application/json")) == {"content-type"}


@pytest.mark.parametrize("attribute", sorted(ATTRIBUTE_LIMITS))
def test_every_attribute_has_a_length_limit_named_in_the_error(attribute):
    value, headers = _binary()
    name = "content-type" if attribute == "datacontenttype" else f"ce_{attribute}"
    oversize = b"a" * (ATTRIBUTE_LIMITS[attribute] + 1)
    present = [(k, v) for k, v in headers if k != name] + [(name, oversize)]
    assert name in _fields(value, present)


def test_limits_are_sane_for_what_departments_send():
    assert ATTRIBUTE_LIMITS["id"] == 256
    assert ATTRIBUTE_LIMITS["source"] == 512
    value, headers = _binary()
    longest = b"i" * ATTRIBUTE_LIMITS["id"]
    assert decode_event(CONTRACT, value, _with(headers, "ce_id", longest)).id == longest.decode()


def test_an_attribute_of_a_megabyte_is_refused_in_structured_mode_naming_it():
    event = discharge()
    event["id"] = "x" * 1_000_000
    with pytest.raises(ContractError) as caught:
        event_from_json(CONTRACT, event)
    assert {e.field for e in caught.value.errors} == {"id"}


@pytest.mark.parametrize("text", ["\ud800", "a\x00b", "line\nbreak"])
def test_attributes_must_be_clean_text(text):
    event = discharge()
    event["id"] = text
    with pytest.raises(ContractError) as caught:
        event_from_json(CONTRACT, event)
    assert {e.field for e in caught.value.errors} == {"id"}
    value, headers = _binary()
    assert "ce_id" in _fields(value, _with(headers, "ce_id", text.encode("utf-8", "surrogatepass")))


def test_json_nested_a_thousand_deep_is_a_contract_error():
    deep: object = "leaf"
    for _ in range(1_000):
        deep = {"x": deep}
    for where in ("data", "id"):
        event = discharge()
        if where == "data":
            event["data"] = {**event["data"], "discharged_on": deep}
        else:
            event["id"] = deep
        with pytest.raises(ContractError):
            event_from_json(CONTRACT, event)
    deep_list: object = []
    for _ in range(1_000):
        deep_list = [deep_list]
    with pytest.raises(ContractError):
        event_from_json(CONTRACT, {**discharge(), "data": deep_list})


def test_hyphen_spelled_headers_are_not_attributes_on_kafka():
    value, headers = _binary()
    hyphen = [(k.replace("ce_", "ce-") if k == "ce_subject" else k, v) for k, v in headers]
    assert _fields(value, hyphen) == {"ce_subject"}


def test_a_valid_record_still_round_trips_with_headers_in_any_order():
    event = event_from_json(CONTRACT, discharge())
    value, headers = encode_event(CONTRACT, event)
    assert decode_event(CONTRACT, value, [*reversed(headers), ("traceparent", None)]) == event


def _values_in_body(type_: str) -> int | None:
    kinds = [spec["type"] for spec in CONTRACT.event_types[type_].schema["fields"]]
    return None if "string" in kinds else len(kinds)


def test_a_body_of_a_type_with_another_number_of_values_is_always_refused():
    # Types of the same shape (hospitalisation.admitted and school.enrolled, say) hold bodies that are genuinely
    # valid records of each other; nothing in Avro's bytes tells them apart but a ce_dataschema header.
    rng = random.Random(3)
    plain = [t for t in sorted(CONTRACT.event_types) if _values_in_body(t) is not None]
    refused = 0
    for body_type, claimed in itertools.permutations(plain, 2):
        if _values_in_body(body_type) == _values_in_body(claimed):
            continue
        for _ in range(20):
            body, _ = _binary(structured_event(body_type, valid_data(CONTRACT, body_type, rng)))
            _, headers = _binary(structured_event(claimed, valid_data(CONTRACT, claimed, rng),
                                                  department=CONTRACT.event_types[claimed].department))
            assert _fields(body, headers) == {"data"}
            refused += 1
    assert refused >= 800
