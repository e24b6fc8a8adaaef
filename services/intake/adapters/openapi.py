"""The OpenAPI 3.1 document of the intake API, served at /openapi.json.

The request schemas are derived from the contract, so the document cannot drift from what intake accepts: one
event schema per type of schemas/events/*.avsc (its `data` from the Avro record, with the schemas' minimum,
maximum, allowed and pattern), attribute lengths from ATTRIBUTE_LIMITS, sources of the owning department.
What JSON Schema cannot say (an identity number's check character, a date that exists) is answered 400.
"""

from __future__ import annotations

import re
from typing import Any

from services.core.attributes import ATTRIBUTE_LIMITS
from services.core.codec import Contract, EventType
from services.core.conformance import Schema

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_PRINTABLE = r"^[^\u0000-\u001f\u007f]*$"
RESIDENT_ID = "resident-id"
"""A string format of this document: GB 11643-1999, a real date of birth and the ISO 7064 MOD 11-2 check character."""


def _text(attribute: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": ATTRIBUTE_LIMITS[attribute], **extra}


def _data_schema(schema: Schema, named: dict[str, Schema]) -> dict[str, Any]:
    """JSON Schema of the JSON form of an Avro schema (dates as YYYY-MM-DD, timestamps as RFC 3339)."""
    if isinstance(schema, list):
        branches = [_data_schema(b, named) for b in schema if b != "null"]
        nullable = "null" in schema
        if len(branches) == 1 and not nullable:
            return branches[0]
        return {"anyOf": branches + ([{"type": "null"}] if nullable else [])}
    if isinstance(schema, str):
        if schema in named:
            return _data_schema(named[schema], named)
        return _primitive(schema)
    logical = schema.get("logicalType")
    if logical == "date":
        return {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
    if logical == "timestamp-millis":
        return {"type": "string", "format": "date-time"}
    kind = schema["type"]
    if kind == "record":
        properties = {f["name"]: _field(f, named) for f in schema["fields"]}
        required = [f["name"] for f in schema["fields"] if "default" not in f]
        return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    if kind == "enum":
        return {"enum": list(schema["symbols"])}
    if kind == "array":
        return {"type": "array", "items": _data_schema(schema["items"], named)}
    if kind == "map":
        return {"type": "object", "additionalProperties": _data_schema(schema["values"], named)}
    return _data_schema(kind, named)


def _primitive(kind: str) -> dict[str, Any]:
    if kind in ("int", "long"):
        low, high = _INT32 if kind == "int" else _INT64
        return {"type": "integer", "minimum": low, "maximum": high}
    return {"float": {"type": "number"}, "double": {"type": "number"}, "string": {"type": "string"},
            "boolean": {"type": "boolean"}, "bytes": {"type": "string"}, "null": {"type": "null"}}[kind]


def _field(spec: dict[str, Any], named: dict[str, Schema]) -> dict[str, Any]:
    result = _data_schema(spec["type"], named)
    constraints: dict[str, Any] = {}
    if "minimum" in spec:
        constraints["minimum"] = max(spec["minimum"], result.get("minimum", spec["minimum"]))
    if "maximum" in spec:
        constraints["maximum"] = min(spec["maximum"], result.get("maximum", spec["maximum"]))
    if "allowed" in spec:
        constraints["enum"] = list(spec["allowed"])
    if "pattern" in spec:
        constraints["pattern"] = f"^(?:{spec['pattern']})$"
    if "anyOf" in result and constraints:  # a nullable constrained field: the constraints apply to the value
        result = {"anyOf": [{**b, **constraints} if b != {"type": "null"} else b for b in result["anyOf"]]}
    else:
        result = {**result, **constraints}
    if "doc" in spec:
        result["description"] = spec["doc"]
    return result


def _event(et: EventType, named: dict[str, Schema]) -> dict[str, Any]:
    source = f"^/departments/{re.escape(et.department)}/[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$"
    return {
        "title": et.name,
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "subject", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": _text("id", pattern=_PRINTABLE,
                        description="Unique per source; a re-sent id is answered as a duplicate."),
            "source": _text("source", pattern=source,
                            description=f"A system of the owning department ({et.department})."),
            "type": {"const": et.name},
            "time": {"type": "string", "format": "date-time", "maxLength": ATTRIBUTE_LIMITS["time"]},
            "subject": {"type": "string", "format": RESIDENT_ID, "minLength": 18, "maxLength": 18,
                        "description": "18-character resident identity number with a valid ISO 7064 MOD 11-2 "
                                       "check character; replaced by a pseudonym before Kafka."},
            "dataschema": {"enum": [et.dataschema, None]},
            "datacontenttype": {"enum": ["application/json", None]},
            "data": _data_schema(et.schema, named),
        },
        "additionalProperties": False,
    }


_PROBLEM = {
    "type": "object",
    "required": ["title", "status"],
    "properties": {
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["index", "id", "field", "reason"],
            "properties": {"index": {"type": "integer", "minimum": 0}, "id": {"type": ["string", "null"]},
                           "field": {"type": "string"}, "reason": {"type": "string"}}}},
    },
}
_RECEIPT = {
    "type": "object",
    "required": ["accepted", "duplicates", "events"],
    "properties": {
        "accepted": {"type": "integer", "minimum": 0}, "duplicates": {"type": "integer", "minimum": 0},
        "events": {"type": "array", "items": {"type": "object", "required": ["id", "status"], "properties": {
            "id": {"type": "string"}, "status": {"enum": ["accepted", "duplicate"]}}}},
    },
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "required": True,
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}


def _problem(description: str, retry: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description,
                              "content": {"application/problem+json": {"schema": _PROBLEM}}}
    if retry:
        answer["headers"] = _RETRY_AFTER
    return answer


def openapi_document(contract: Contract, max_batch: int) -> dict[str, Any]:
    """The document for this contract and batch limit."""
    events = [_event(et, contract.named) for et in contract.event_types.values()]
    one = {"oneOf": events}
    binary = ", ".join(f"ce-{a}" for a in ("id", "source", "type", "specversion", "time", "subject"))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Assist intake", "version": "1.1.0",
                 "description": "Departments publish change events. A batch is accepted whole or rejected whole. "
                                "Limits: " + ", ".join(f"{a} ≤ {n} characters" for a, n in ATTRIBUTE_LIMITS.items())
                                + f"; a batch holds 1 to {max_batch} events."},
        "components": {"securitySchemes": {"department": {"type": "http", "scheme": "bearer"}}},
        "security": [{"department": []}],
        "paths": {
            "/v1/events": {"post": {
                "summary": f"Publish one event (structured or binary mode) or a batch of up to {max_batch} events",
                "requestBody": {"required": True, "content": {
                    "application/cloudevents+json": {"schema": one},
                    "application/cloudevents-batch+json": {"schema": {"type": "array", "items": one,
                                                                      "minItems": 1, "maxItems": max_batch}},
                    "application/avro": {"schema": {"type": "string", "format": "binary"},
                                         "description": f"Binary mode: {binary} headers (ce-dataschema "
                                                        "optional); the body is the Avro binary encoding of the "
                                                        "type's data record, every byte of it."},
                }},
                "responses": {
                    "202": {"description": "Durably written to Kafka (acks=all), or a duplicate of an id already "
                                           "written within the idempotency window.",
                            "content": {"application/json": {"schema": _RECEIPT}}},
                    "400": _problem("Invalid request or events: every bad event, field and reason; nothing "
                                    "accepted."),
                    "401": _problem("Missing or unknown bearer token."),
                    "403": _problem("The department may not publish an event type of the request, or a source is "
                                    "not one of its own; nothing accepted."),
                    "409": _problem("An event id is being published by a concurrent request; retry after "
                                    "Retry-After.", retry=True),
                    "413": _problem(f"Body over 8 MiB, batch over {max_batch} events, or a record the event log "
                                    "refuses as too large; nothing accepted."),
                    "415": _problem("Unsupported content type."),
                    "429": _problem("Too many requests for this token; retry after Retry-After.", retry=True),
                    "503": _problem("Kafka or Redis unavailable; nothing accepted; retry after Retry-After.",
                                    retry=True),
                },
            }},
            "/healthz": {"get": {"security": [], "responses": {"200": {
                "description": "Process is serving.",
                "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/metrics": {"get": {"security": [], "responses": {"200": {
                "description": "Prometheus text format.", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        },
    }
