"""The OpenAPI 3.1 document of the intake API, served at /openapi.json."""

from __future__ import annotations

from typing import Any

_EVENT = {
    "type": "object",
    "required": ["specversion", "id", "source", "type", "time", "subject", "data"],
    "properties": {
        "specversion": {"const": "1.0"},
        "id": {"type": "string", "description": "Unique per source; a re-sent id is answered as a duplicate."},
        "source": {"type": "string", "example": "/departments/health/his"},
        "type": {"type": "string", "example": "hospitalisation.discharged",
                 "description": "One of the event types of schemas/events/*.avsc (attribute ce_type)."},
        "time": {"type": "string", "format": "date-time"},
        "subject": {"type": "string", "pattern": "^[0-9]{17}[0-9X]$",
                    "description": "18-character resident identity number; replaced by a pseudonym before Kafka."},
        "dataschema": {"type": "string"},
        "datacontenttype": {"const": "application/json"},
        "data": {"type": "object", "description": "Fields of the event type's Avro record; dates as YYYY-MM-DD."},
    },
}
_PROBLEM = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "index": {"type": "integer"}, "id": {"type": ["string", "null"]},
            "field": {"type": "string"}, "reason": {"type": "string"}}}},
    },
}
_RECEIPT = {
    "type": "object",
    "properties": {
        "accepted": {"type": "integer"}, "duplicates": {"type": "integer"},
        "events": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "status": {"enum": ["accepted", "duplicate"]}}}},
    },
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": _PROBLEM}}}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Assist intake", "version": "1.0.0",
             "description": "Departments publish change events. A batch is accepted whole or rejected whole."},
    "components": {"securitySchemes": {"department": {"type": "http", "scheme": "bearer"}}},
    "security": [{"department": []}],
    "paths": {
        "/v1/events": {"post": {
            "summary": "Publish one event (structured or binary mode) or a batch of up to 1,000 events",
            "requestBody": {"required": True, "content": {
                "application/cloudevents+json": {"schema": _EVENT},
                "application/cloudevents-batch+json": {"schema": {"type": "array", "items": _EVENT,
                                                                  "maxItems": 1000}},
                "application/avro": {"schema": {"type": "string", "format": "binary"},
                                     "description": "Binary mode: ce-id, ce-source, ce-type, ce-specversion, "
                                                    "ce-time, ce-subject headers; Avro body of the data record."},
            }},
            "responses": {
                "202": {"description": "Durably written to Kafka (acks=all), or a duplicate of an id already "
                                       "written within the idempotency window.",
                        "content": {"application/json": {"schema": _RECEIPT}}},
                "400": _problem("Invalid events: every bad event, field and reason; nothing accepted."),
                "401": _problem("Missing or unknown bearer token."),
                "403": _problem("The department may not publish an event type of the request; nothing accepted."),
                "409": _problem("An event id is being published by a concurrent request; retry after Retry-After."),
                "413": _problem("Batch larger than 1,000 events."),
                "415": _problem("Unsupported content type."),
                "503": _problem("Kafka unavailable; nothing accepted; retry after Retry-After."),
            },
        }},
        "/healthz": {"get": {"security": [], "responses": {"200": {"description": "Process is serving."}}}},
        "/metrics": {"get": {"security": [], "responses": {"200": {"description": "Prometheus text format."}}}},
    },
}
