"""The one codec of the platform: Avro (fastavro) on Kafka, CloudEvents attributes in ce_* headers,
JSON for HTTP structured mode. Schemas come only from the schemas/ folder."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import fastavro

from services.core.conformance import Conformer, ContractError, FieldError, Schema, compile_conformer, conform_timestamp
from services.core.settings import PROJECT_ROOT

SCHEMA_DIR = PROJECT_ROOT / "schemas"
SPECVERSION = "1.0"
AVRO = "application/avro"
ATTRIBUTES = ("id", "source", "type", "specversion", "time", "subject", "dataschema", "datacontenttype")
# Records other records refer to by name are loaded first.
RECORD_ORDER = ("envelope", "explanation", "offer", "caseworker_task", "decision", "notification_status",
                "household", "policy_catalogue", "contact")

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True)
class EventType:
    """One kind of change event: its CloudEvents type, the department that owns it, its Avro schema."""

    name: str
    department: str
    schema: Schema
    dataschema: str


@dataclass(frozen=True)
class Contract:
    """All schemas of schemas/, parsed once."""

    event_types: dict[str, EventType]
    records: dict[str, Schema]
    named: dict[str, Schema] = field(repr=False)
    checks: dict[str, Conformer] = field(repr=False)
    """A compiled Conformer per record name and per event type."""

    @cached_property
    def departments(self) -> dict[str, frozenset[str]]:
        owned: dict[str, set[str]] = {}
        for et in self.event_types.values():
            owned.setdefault(et.department, set()).add(et.name)
        return {d: frozenset(types) for d, types in owned.items()}


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


def load_contract(schema_dir: Path = SCHEMA_DIR) -> Contract:
    """Parse every schema under `schema_dir` (cached per folder)."""
    return _load(schema_dir.resolve())


@cache
def _load(schema_dir: Path) -> Contract:
    named: dict[str, Schema] = {}
    records = {name: fastavro.parse_schema(_read(schema_dir / "records" / f"{name}.avsc"), named)
               for name in RECORD_ORDER}
    event_types: dict[str, EventType] = {}
    for path in sorted((schema_dir / "events").glob("*.avsc")):
        raw = _read(path)
        parsed = fastavro.parse_schema(raw, named)
        event_types[raw["ce_type"]] = EventType(raw["ce_type"], raw["department"], parsed,
                                                f"schemas/events/{path.name}")
    checks = {name: compile_conformer(schema, named) for name, schema in records.items()}
    checks.update({name: compile_conformer(et.schema, named) for name, et in event_types.items()})
    return Contract(event_types, records, named, checks)


def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        result: dict[str, Any] = json.load(f)
    return result


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
    if isinstance(attrs, dict) and attrs.get("specversion") not in (None, SPECVERSION):
        errors.append(FieldError("specversion", "must be 1.0"))
    if attrs.get("datacontenttype") not in (None, "application/json"):
        errors.append(FieldError("datacontenttype", "must be application/json in structured mode"))
    time = _event_time(attrs.get("time"), errors)
    _check_subject(attrs.get("subject"), subject_check, errors)
    data = _event_data(contract, attrs.get("type"), obj.get("data"), errors)
    if errors:
        raise ContractError(errors)
    return Event(id=attrs["id"], source=attrs["source"], type=attrs["type"], time=time, subject=attrs["subject"],
                 data=data, dataschema=contract.event_types[attrs["type"]].dataschema)


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


def decode_event(contract: Contract, value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> Event:
    """Inverse of encode_event; raises ContractError when headers or body do not fit the contract."""
    h = {k: v.decode("utf-8", "replace") for k, v in headers}
    errors = [FieldError(f"ce_{a}", "header is required") for a in ("id", "source", "type", "specversion",
                                                                      "time", "subject") if f"ce_{a}" not in h]
    if errors:
        raise ContractError(errors)
    if h["ce_type"] not in contract.event_types:
        raise ContractError([FieldError("ce_type", "is not a known event type (see schemas/events)")])
    if h.get("content-type", AVRO) != AVRO:
        raise ContractError([FieldError("content-type", f"must be {AVRO}")])
    time = _event_time(h["ce_time"], errors)
    if errors:
        raise ContractError(errors)
    et = contract.event_types[h["ce_type"]]
    try:
        data = fastavro.schemaless_reader(io.BytesIO(value or b""), et.schema, None)
    except Exception as exc:  # fastavro raises several types on truncated or garbled bodies
        raise ContractError([FieldError("data", f"is not Avro of {et.dataschema}: {type(exc).__name__}")]) from None
    if not isinstance(data, dict):
        raise ContractError([FieldError("data", "must be a record")])
    return Event(id=h["ce_id"], source=h["ce_source"], type=h["ce_type"], time=time, subject=h["ce_subject"],
                 data=data, specversion=h["ce_specversion"], dataschema=h.get("ce_dataschema", et.dataschema))


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


def header(headers: Iterable[tuple[str, bytes]], name: str) -> str | None:
    for k, v in headers:
        if k == name:
            return v.decode("utf-8", "replace")
    return None
