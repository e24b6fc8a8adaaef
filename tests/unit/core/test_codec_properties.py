"""Properties of the contract: whatever bytes, headers or JSON arrive, the codec answers with an Event or a
ContractError naming the field, never another exception; and whatever it accepts can be published.

Profiles (tests/unit/core/conftest.py): a few hundred inputs per property in CI, ASSIST_PROPERTY_EXAMPLES per
property in the long suite.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiokafka import ConsumerRecord
from hypothesis import given
from hypothesis import strategies as st

from services.core.codec import (
    ATTRIBUTE_LIMITS,
    Event,
    decode_event,
    encode_event,
    event_from_json,
    event_to_json,
    load_contract,
)
from services.core.conformance import ContractError
from services.intake.adapters.raw_forwarder import Rejection, judge_raw
from services.intake.domain.submission import judge_structured
from tests.conftest import discharge, resident_id, structured_event
from tests.unit.core.conftest import property_profile

CONTRACT = load_contract()
PROFILE = property_profile()
HEADER_NAMES = ("ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "ce_subject", "ce_dataschema",
                "content-type", "ce-subject", "CE_ID", "traceparent", "", "ce_")
EXAMPLES = [
    discharge(),
    structured_event("disability.certified", {"certified_on": "2026-11-01", "category": "PHYSICAL", "grade": 2},
                     department="disabled_persons_federation"),
    structured_event("emergency.occurred", {"occurred_on": "2026-11-02", "kind": "FLOOD", "severity": "SERIOUS",
                                            "place_district": "510107", "home_destroyed": True},
                     department="emergency_management"),
    structured_event("job.lost", {"lost_on": "2026-11-01", "unemployment_registered": False,
                                  "previous_monthly_income_fen": 420_000}, department="human_resources"),
]
ENCODED = [encode_event(CONTRACT, event_from_json(CONTRACT, e)) for e in EXAMPLES]


def _text_of(length: int) -> st.SearchStrategy[str]:
    return st.text(max_size=length)


header_values = st.one_of(
    st.none(),
    st.binary(max_size=64),
    _text_of(40).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"1.0", b"application/avro", b"hospitalisation.discharged", b"/departments/health/his",
                     b"2026-11-20T08:30:00Z", b"0001-01-01T00:00:00+01:00", b"9999-12-31T23:59:59-01:00",
                     b"schemas/events/hospitalisation_discharged.avsc", resident_id().encode(), b"\xff\xfe"]),
    st.integers(0, 3).map(lambda k: b"x" * (ATTRIBUTE_LIMITS["id"] + k * 1_000)),
    st.just(b"a" * 200_000),
)


@st.composite
def binary_records(draw: st.DrawFn) -> tuple[bytes | None, list[tuple[str, bytes | None]]]:
    """A valid record (or none) taken apart: headers dropped, replaced, duplicated or added; the body kept,
    cut, extended, flipped or replaced by any bytes."""
    value, headers = draw(st.sampled_from(ENCODED))
    kept: list[tuple[str, bytes | None]] = list(headers)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(("drop", "replace", "duplicate", "add")))
        if action == "drop" and kept:
            kept.pop(draw(st.integers(0, len(kept) - 1)))
        elif action == "replace" and kept:
            i = draw(st.integers(0, len(kept) - 1))
            kept[i] = (kept[i][0], draw(header_values))
        elif action == "duplicate" and kept:
            kept.append(kept[draw(st.integers(0, len(kept) - 1))])
        else:
            kept.append((draw(st.sampled_from(HEADER_NAMES) | st.text(max_size=12)), draw(header_values)))
    body = draw(st.one_of(
        st.just(value),
        st.none(),
        st.binary(max_size=64),
        st.integers(0, max(len(value) - 1, 0)).map(lambda n: value[:n]),
        st.binary(min_size=1, max_size=8).map(lambda tail: value + tail),
        st.tuples(st.integers(0, len(value) - 1), st.integers(0, 255)).map(
            lambda at: value[:at[0]] + bytes([at[1]]) + value[at[0] + 1:]),
        st.sampled_from([e for e, _ in ENCODED]),
    ))
    return body, kept


def _names_known_fields(exc: ContractError) -> bool:
    return bool(exc.errors) and all(e.field and (e.field in HEADER_NAMES or e.field == "subject"
                                                  or e.field == "data" or e.field.startswith("data."))
                                    for e in exc.errors)


def _publishable(event: Event) -> None:
    """An accepted event can be encoded, decoded again to itself and shown as JSON."""
    value, headers = encode_event(CONTRACT, event)
    assert decode_event(CONTRACT, value, headers) == event
    assert event_to_json(event)["time"]
    assert event.time.astimezone(dt.UTC)


def _decoded_or_named(value: bytes | None, headers: list[tuple[str, bytes | None]]) -> None:
    try:
        event = decode_event(CONTRACT, value, headers)
    except ContractError as exc:
        assert _names_known_fields(exc), exc.errors
        return
    _publishable(event)


@PROFILE
@given(binary_records())
def test_any_record_decodes_to_an_event_or_a_contract_error_naming_the_field(record):
    _decoded_or_named(*record)


@PROFILE
@given(st.one_of(st.none(), st.binary(max_size=300)),
       st.lists(st.tuples(st.sampled_from(HEADER_NAMES) | st.text(max_size=12), header_values), max_size=12))
def test_any_bytes_and_any_headers_give_an_event_or_a_contract_error(value, headers):
    _decoded_or_named(value, headers)


@PROFILE
@given(binary_records())
def test_judging_a_raw_record_never_raises(record):
    value, headers = record
    judged = judge_raw(CONTRACT, ConsumerRecord("assist.events.raw", 0, 0, 0, 0, None, value, None, 0, 0, headers))
    if isinstance(judged, Rejection):
        assert judged.errors and all(e.field for e in judged.errors)
    else:
        department, event = judged
        assert event.type in CONTRACT.departments[department]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@st.composite
def structured_events(draw: st.DrawFn) -> Any:
    """Any JSON, or a valid event with attributes and data fields replaced by any JSON."""
    if draw(st.booleans()):
        return draw(json_values)
    event = dict(draw(st.sampled_from(EXAMPLES)))
    event["data"] = dict(event["data"])
    for _ in range(draw(st.integers(1, 3))):
        data_fields = event["data"] if isinstance(event["data"], dict) else {}
        where = draw(st.sampled_from([*event, *(f"data.{k}" for k in data_fields), "extra"]))
        replacement = draw(json_values | st.sampled_from(["0001-01-01T00:00:00+01:00", "\ud800", "1.0", "x" * 600]))
        if where.startswith("data.") and isinstance(event["data"], dict):
            event["data"][where[5:]] = replacement
        else:
            event[where] = replacement
    return event


@PROFILE
@given(structured_events())
def test_any_json_gives_an_event_or_a_contract_error_naming_the_field(obj):
    try:
        event = event_from_json(CONTRACT, obj)
    except ContractError as exc:
        assert exc.errors
        # Only a value that is not an object, or a member named "" itself, is answered without a field name.
        data = obj.get("data") if isinstance(obj, dict) else None
        assert all(e.field or not isinstance(obj, dict) or "" in obj or (isinstance(data, dict) and "" in data)
                   for e in exc.errors), exc.errors
        return
    _publishable(event)


@PROFILE
@given(st.lists(structured_events(), min_size=1, max_size=3))
def test_judging_any_structured_batch_never_raises(items):
    verdict = judge_structured(CONTRACT, "health", items, str.upper)
    assert verdict.events or verdict.problems
