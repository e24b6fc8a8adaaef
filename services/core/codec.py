"""The one codec of the platform: Avro (fastavro) on Kafka, CloudEvents attributes in ce_* headers,
JSON for HTTP structured mode. Schemas come only from the schemas/ folder.

Decoding an event is strict, because what passes is a fact the platform acts on: every attribute is clean
UTF-8 text within ATTRIBUTE_LIMITS, given once; specversion is 1.0; the time can be expressed in UTC; a
dataschema, when given, is the type's own; the Avro body is consumed to its last byte, is the canonical
encoding of what it decodes to (booleans are 0 or 1, numbers are not over-long) and meets the schema's
minimum/maximum/allowed/pattern constraints. Everything else is a ContractError naming the field.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import fastavro

from services.core.attributes import ATTRIBUTE_LIMITS as ATTRIBUTE_LIMITS
from services.core.attributes import header_texts, text_problem
from services.core.conformance import ContractError, FieldError, conform_timestamp
from services.core.contract import SCHEMA_DIR as SCHEMA_DIR
from services.core.contract import Contract as Contract
from services.core.contract import EventType as EventType
from services.core.contract import load_contract as load_contract

SPECVERSION = "1.0"
AVRO = "application/avro"
ATTRIBUTES = ("id", "source", "type", "specversion", "time", "subject", "dataschema", "datacontenttype")

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True)
class Event:
    """A CloudEvent: context attributes plus `data`, a dict shaped by the event type's Avro schema."""

    id: str
    source: str
    type: str
    time: dt.datetime
    subject: str
    data: dict[str, Any]
    specversion: str = SPECVERSION
    dataschema: str | None = None

    def with_subject(self, subject: str) -> Event:
        return Event(self.id, self.source, self.type, self.time, subject, self.data, self.specversion, self.dataschema)


# ---- records (offers, tasks, decisions, registry, ...) -------------------------------------------------------

def encode_record(contract: Contract, record: str, value: dict[str, Any]) -> bytes:
    """Avro-encode `value` as schemas/records/<record>.avsc; ContractError names every bad field."""
    schema = contract.records[record]
    errors: list[FieldError] = []
    conformed = contract.checks[record](value, "", errors)
    if errors:
        raise ContractError(errors)
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, conformed)
    return buf.getvalue()


def decode_record(contract: Contract, record: str, payload: bytes) -> dict[str, Any]:
    result = fastavro.schemaless_reader(io.BytesIO(payload), contract.records[record], None)
    if not isinstance(result, dict):
        raise ContractError([FieldError(record, "payload is not a record")])
    return result


# ---- events: validation ---------------------------------------------------------------------------------------

def event_from_json(contract: Contract, obj: Any, subject_check: Any = None) -> Event:
    """Build an Event from CloudEvents structured JSON; raises ContractError naming every bad field.

    `subject_check`, when given, is called with the subject and returns a reason string when it is invalid.
    """
    errors: list[FieldError] = []
    if not isinstance(obj, dict):
        raise ContractError([FieldError("", "an event must be a JSON object")])
    attributes = {k: v for k, v in obj.items() if k != "data"}
    attributes.setdefault("datacontenttype", None)
    attributes.setdefault("dataschema", None)
    attrs = contract.checks["envelope"](attributes, "", errors)
    _check_texts(attrs, errors)
    if isinstance(attrs.get("specversion"), str) and attrs["specversion"] != SPECVERSION:
        errors.append(FieldError("specversion", "must be 1.0"))
    if attrs.get("datacontenttype") not in (None, "application/json"):
        errors.append(FieldError("datacontenttype", "must be application/json in structured mode"))
    _check_dataschema(contract, attrs.get("type"), attrs.get("dataschema"), "dataschema", errors)
    time = _event_time(attrs.get("time"), errors)
    _check_subject(attrs.get("subject"), subject_check, errors)
    data = _event_data(contract, attrs.get("type"), obj.get("data"), errors)
    if errors:
        raise ContractError(errors)
    return Event(id=attrs["id"], source=attrs["source"], type=attrs["type"], time=time, subject=attrs["subject"],
                 data=data, dataschema=contract.event_types[attrs["type"]].dataschema)


def _check_texts(attrs: dict[str, Any], errors: list[FieldError]) -> None:
    named = {e.field for e in errors}
    for name in ATTRIBUTE_LIMITS:
        value = attrs.get(name)
        if isinstance(value, str) and name not in named:
            problem = text_problem(name, value)
            if problem:
                errors.append(FieldError(name, problem))


def _check_dataschema(contract: Contract, type_: Any, dataschema: Any, field_name: str,
                      errors: list[FieldError]) -> None:
    known = contract.event_types.get(type_) if isinstance(type_, str) else None
    if known is not None and isinstance(dataschema, str) and dataschema != known.dataschema:
        errors.append(FieldError(field_name, f"must be {known.dataschema} for {known.name}"))


def _event_time(value: Any, errors: list[FieldError]) -> dt.datetime:
    if not isinstance(value, str):
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    fixed: list[FieldError] = []
    parsed = conform_timestamp(value, "time", fixed)
    errors.extend(fixed)
    return parsed if isinstance(parsed, dt.datetime) else dt.datetime.min.replace(tzinfo=dt.UTC)


def _check_subject(subject: Any, subject_check: Any, errors: list[FieldError]) -> None:
    if subject_check is not None and isinstance(subject, str):
        reason = subject_check(subject)
        if reason:
            errors.append(FieldError("subject", reason))


def _event_data(contract: Contract, type_: Any, data: Any, errors: list[FieldError]) -> dict[str, Any]:
    if not isinstance(type_, str):
        return {}
    if type_ not in contract.event_types:
        errors.append(FieldError("type", "is not a known event type (see schemas/events)"))
        return {}
    if data is None:
        errors.append(FieldError("data", "is required"))
        return {}
    before = len(errors)
    result = contract.checks[type_](data, "data", errors)
    return result if len(errors) == before else {}


def check_event(contract: Contract, event: Event) -> None:
    """Validate an already-decoded Event's data (constraints beyond Avro types); raises ContractError."""
    if event.type not in contract.event_types:
        raise ContractError([FieldError("type", "is not a known event type (see schemas/events)")])
    errors: list[FieldError] = []
    contract.checks[event.type](event.data, "data", errors)
    if errors:
        raise ContractError(errors)


# ---- events: Kafka binary binding ----------------------------------------------------------------------------

def encode_event(contract: Contract, event: Event) -> tuple[bytes, Headers]:
    """Avro body of `data` and the CloudEvents Kafka binary-mode headers."""
    schema = contract.event_types[event.type].schema
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, event.data)
    headers: Headers = [
        ("ce_id", event.id.encode()), ("ce_source", event.source.encode()), ("ce_type", event.type.encode()),
        ("ce_specversion", event.specversion.encode()), ("ce_time", _rfc3339(event.time).encode()),
        ("ce_subject", event.subject.encode()), ("content-type", AVRO.encode()),
    ]
    if event.dataschema:
        headers.append(("ce_dataschema", event.dataschema.encode()))
    return buf.getvalue(), headers


def decode_event(contract: Contract, value: bytes | None, headers: Sequence[tuple[str, bytes | None]]) -> Event:
    """Inverse of encode_event; raises ContractError naming every header or field that does not fit the contract.

    Never raises anything else, whatever the bytes and headers (None values, duplicates, any length).
    """
    errors: list[FieldError] = []
    h = header_texts(headers, errors)
    named = {e.field for e in errors}
    errors += [FieldError(f"ce_{a}", "header is required") for a in ("id", "source", "type", "specversion",
                                                                     "time", "subject")
               if f"ce_{a}" not in h and f"ce_{a}" not in named]
    if h.get("ce_specversion", SPECVERSION) != SPECVERSION:
        errors.append(FieldError("ce_specversion", "must be 1.0"))
    if h.get("content-type", AVRO) != AVRO:
        errors.append(FieldError("content-type", f"must be {AVRO}"))
    et = contract.event_types.get(h.get("ce_type", ""))
    if "ce_type" in h and et is None:
        errors.append(FieldError("ce_type", "is not a known event type (see schemas/events)"))
    _check_dataschema(contract, h.get("ce_type"), h.get("ce_dataschema"), "ce_dataschema", errors)
    time = _event_time(h["ce_time"], errors) if "ce_time" in h else None
    if errors and (et is None or time is None):
        raise ContractError(_renamed(errors, "time", "ce_time"))
    assert et is not None and time is not None
    data = _event_body(contract, et, value, errors)
    if errors:
        raise ContractError(_renamed(errors, "time", "ce_time"))
    return Event(id=h["ce_id"], source=h["ce_source"], type=et.name, time=time, subject=h["ce_subject"],
                 data=data, specversion=SPECVERSION, dataschema=et.dataschema)


def _renamed(errors: list[FieldError], old: str, new: str) -> list[FieldError]:
    return [FieldError(new, e.reason) if e.field == old else e for e in errors]


def _event_body(contract: Contract, et: EventType, value: object, errors: list[FieldError]) -> dict[str, Any]:
    """The data of a binary-mode body: Avro read to its last byte, canonically encoded, within constraints."""
    if value is None:
        errors.append(FieldError("data", "is required (the record has no value: a tombstone)"))
        return {}
    if not isinstance(value, (bytes, bytearray, memoryview)):
        errors.append(FieldError("data", "must be bytes"))
        return {}
    body = bytes(value)
    buf = io.BytesIO(body)
    try:
        data = fastavro.schemaless_reader(buf, et.schema, None)
    except Exception as exc:  # fastavro raises several types on truncated or garbled bodies
        errors.append(FieldError("data", f"is not Avro of {et.dataschema}: {type(exc).__name__}"))
        return {}
    if not isinstance(data, dict):
        errors.append(FieldError("data", "must be a record"))
        return {}
    if buf.tell() != len(body):
        errors.append(FieldError("data", f"has {len(body) - buf.tell()} bytes after the record of {et.dataschema}"))
        return {}
    again = io.BytesIO()
    try:
        fastavro.schemaless_writer(again, et.schema, data)
    except Exception as exc:  # a value fastavro reads but cannot write back is not Avro of the schema
        errors.append(FieldError("data", f"is not Avro of {et.dataschema}: {type(exc).__name__}"))
        return {}
    if again.getvalue() != body:
        errors.append(FieldError("data", "is not the canonical Avro encoding (a boolean other than 0 or 1, "
                                         "an over-long number)"))
        return {}
    before = len(errors)
    contract.checks[et.name](data, "data", errors)
    return data if len(errors) == before else {}


# ---- events: JSON structured mode ------------------------------------------------------------------------------

def event_to_json(event: Event) -> dict[str, Any]:
    return {"specversion": event.specversion, "id": event.id, "source": event.source, "type": event.type,
            "time": _rfc3339(event.time), "subject": event.subject, "dataschema": event.dataschema,
            "datacontenttype": "application/json", "data": _jsonable(event.data)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return _rfc3339(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def jsonable(value: Any) -> Any:
    """Dates and timestamps of a decoded record as ISO text, for JSON APIs and logs."""
    return _jsonable(value)


def _rfc3339(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def header(headers: Iterable[tuple[str, bytes | None]], name: str) -> str | None:
    """The first header called `name` as text, for reports and routing (None when absent or without a value).
    Lenient: bytes that are not UTF-8 are replaced; decode_event is the strict reader."""
    for k, v in headers:
        if k == name:
            return v.decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else None
    return None
