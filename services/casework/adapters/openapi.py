"""The OpenAPI 3.1 document of the caseworker API, served at /openapi.json."""

from __future__ import annotations

from typing import Any

_TIME = {"type": ["string", "null"], "format": "date-time"}
_ITEM = {
    "type": "object",
    "properties": {
        "task_id": {"type": "string"}, "kind": {"enum": ["VERIFY_ELIGIBILITY", "VISIT", "PHONE_CHECK", "REVIEW",
                                                         "DELIVER_IN_PERSON"]},
        "district": {"type": "string"}, "queue": {"type": "string", "description": "d:<district> or r:<region>"},
        "priority": {"type": "integer"}, "band": {"enum": ["urgent", "high", "normal", "low"]}, "due_at": _TIME,
        "sla": {"enum": ["ok", "due-soon", "breached"]}, "status": {"enum": ["QUEUED", "CLAIMED", "APPROVED",
                                                                            "REJECTED"]},
        "holder": {"type": ["string", "null"]}, "assignee": {"type": ["string", "null"]},
        "escalated": {"type": "boolean"}, "information_requested_at": _TIME,
        "policy_id": {"type": ["string", "null"]}, "policy_name": {"type": ["string", "null"]},
        "amount_fen": {"type": ["integer", "null"]}, "reason": {"type": "string"},
    },
}
_AUDIT = {"type": "object", "properties": {
    "seq": {"type": "integer"}, "action": {"type": "string"}, "actor": {"type": "string"}, "at": _TIME,
    "district": {"type": "string"}, "reason": {"type": ["string", "null"]}, "assignee": {"type": ["string", "null"]},
    "lease_until": _TIME, "decision_id": {"type": ["string", "null"]}}}
_TASK = {"type": "object", "description": "A task with its progress, the offer and its explanation (conditions "
         "with values and outcome, amount computation, legal basis), the evidence event ids and the audit trail.",
         "properties": {**_ITEM["properties"], "household_id": {"type": "string"},  # type: ignore[dict-item]
                        "person_id": {"type": ["string", "null"]}, "offer": {"type": ["object", "null"]},
                        "explanation": {"type": ["object", "null"]},
                        "evidence_event_ids": {"type": "array", "items": {"type": "string"}},
                        "audit": {"type": "array", "items": _AUDIT}}}
_TRANSITIONS = {"type": "object", "properties": {
    "task_id": {"type": "string"}, "lease_until": _TIME,
    "transitions": {"type": "array", "description": "Transitions recorded and queued for assist.decisions; a lease "
                    "that had run out shows as LEASE_EXPIRED before the command's own.",
                    "items": {"type": "object", "properties": {"action": {"type": "string"},
                                                               "district": {"type": "string"},
                                                               "decision_id": {"type": "string"}}}}}}
_PROBLEM = {"type": "object", "properties": {"title": {"type": "string"}, "status": {"type": "integer"},
                                             "code": {"type": "string"}, "holder": {"type": "string"}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": _PROBLEM}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}
_REFUSALS = {"401": _problem("No valid staff token."),
             "404": _problem("No such task in your scope (tasks of other districts are not revealed)."),
             "503": _problem("The queues are being rebuilt; retry.")}


def _command(summary: str, body: dict[str, Any] | None, **responses: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "parameters": [_TASK_ID], "responses": {
        "200": _json("Done.", _TRANSITIONS), **_REFUSALS, **responses}}
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return {"post": operation}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Assist casework", "version": "1.0.0", "description": (
        "Caseworker queues per district. A caseworker sees and acts in the districts of their token; a supervisor "
        "across their region. Claim a task to hold its lease, then decide it. Every transition is published to "
        "assist.decisions. Tokens: `python -m services.casework token issue`.")},
    "components": {"securitySchemes": {"staff": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    "security": [{"staff": []}],
    "paths": {
        "/api/v1/me": {"get": {"summary": "Who the token names", "responses": {"200": {"description": "Claims."}}}},
        "/api/v1/tasks": {"get": {
            "summary": "The queue: tasks in your scope, highest priority first, then earliest deadline",
            "parameters": [
                _query("district", "Comma-separated district codes."),
                _query("band", "Priority band.", {"enum": ["urgent", "high", "normal", "low"]}),
                _query("due_before", "A date (China Standard Time) or an RFC 3339 time."),
                _query("sla", "Deadline state.", {"enum": ["ok", "due-soon", "breached"]}),
                _query("policy", "Policy id of the offer."),
                _query("state", "queued (default), claimed or all.", {"enum": ["queued", "claimed", "all"]}),
                _query("offset", "Rows to skip.", {"type": "integer", "minimum": 0}),
                _query("limit", "Rows, at most 200.", {"type": "integer", "minimum": 1, "maximum": 200})],
            "responses": {"200": _json("Rows.", {"type": "object", "properties": {
                "tasks": {"type": "array", "items": _ITEM}, "truncated": {"type": "boolean"}}}),
                "400": _problem("Invalid filter."), "401": _REFUSALS["401"]}}},
        "/api/v1/tasks/next": {"post": {
            "summary": "Claim the first claimable task of your queues (or of one district)",
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"district": {"type": "string"}}}}}},
            "responses": {"200": _json("Claimed.", _TRANSITIONS), "404": _problem("Nothing to claim."),
                          "401": _REFUSALS["401"]}}},
        "/api/v1/tasks/{task_id}": {"get": {"summary": "A task with its explanation, evidence and audit trail",
                                            "parameters": [_TASK_ID],
                                            "responses": {"200": _json("The task.", _TASK), **_REFUSALS}}},
        "/api/v1/tasks/{task_id}/claim": _command(
            "Take the lease on a task", None,
            **{"409": _problem("Claimed by someone (holder named), reserved for another caseworker, escalated, "
                               "or decided.")}),
        "/api/v1/tasks/{task_id}/unclaim": _command(
            "Give the lease back (the holder, or a supervisor)", None, **{"409": _problem("Not the holder.")}),
        "/api/v1/tasks/{task_id}/decide": _command(
            "Approve, reject or request information (the holder only)",
            {"type": "object", "required": ["action"], "properties": {
                "action": {"enum": ["approve", "reject", "request_information"]},
                "reason": {"type": "string", "maxLength": 2000,
                           "description": "Required to reject or request information."}}},
            **{"400": _problem("Invalid action, or no reason."), "409": _problem("Not the holder, or decided.")}),
        "/api/v1/tasks/{task_id}/reassign": _command(
            "Move a task to a district of your region, optionally reserved for a caseworker (supervisors)",
            {"type": "object", "properties": {"district": {"type": "string"}, "caseworker": {"type": "string"},
                                              "reason": {"type": "string"}}},
            **{"400": _problem("Unknown caseworker, or a district outside your region."),
               "403": _problem("Not a supervisor."), "409": _problem("Decided.")}),
        "/api/v1/overview": {"get": {
            "summary": "Queue depth by district and priority band, and escalated tasks, in your region",
            "responses": {"200": {"description": "Overview."}, "403": _problem("Not a supervisor."),
                          "401": _REFUSALS["401"]}}},
        "/healthz": {"get": {"security": [], "responses": {"200": {"description": "Serving; Redis reachable."},
                                                           "503": {"description": "Redis unreachable."}}}},
        "/metrics": {"get": {"security": [], "responses": {"200": {"description": "Prometheus text format."}}}},
    },
}
