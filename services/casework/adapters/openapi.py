"""The OpenAPI 3.1 document of the caseworker API, served at /openapi.json. It lists every answer an operation
gives, refusals included: the schemathesis suite holds the service to it."""

from __future__ import annotations

from typing import Any

_TIME = {"type": ["string", "null"], "format": "date-time"}
_NULLABLE_TEXT = {"type": ["string", "null"]}
_ITEM = {
    "type": "object",
    "required": ["task_id", "kind", "district", "queue", "priority", "band", "status"],
    "properties": {
        "task_id": {"type": "string"}, "kind": {"enum": ["VERIFY_ELIGIBILITY", "VISIT", "PHONE_CHECK", "REVIEW",
                                                         "DELIVER_IN_PERSON"]},
        "district": {"type": "string"}, "queue": {"type": "string", "description": "d:<district> or r:<region>"},
        "priority": {"type": "integer"}, "band": {"enum": ["urgent", "high", "normal", "low"]}, "due_at": _TIME,
        "sla": {"enum": ["ok", "due-soon", "breached", "decided", "withdrawn"]},
        "status": {"enum": ["QUEUED", "CLAIMED", "APPROVED", "REJECTED", "WITHDRAWN"]},
        "holder": _NULLABLE_TEXT, "assignee": _NULLABLE_TEXT, "escalated": {"type": "boolean"},
        "information_requested_at": _TIME, "policy_id": _NULLABLE_TEXT, "policy_name": _NULLABLE_TEXT,
        "amount_fen": {"type": ["integer", "null"]}, "reason": {"type": "string"},
    },
}
_REVISION = {"type": "object", "description": "A revision (REVISED: the amount changed while the task waited) or "
             "the withdrawal (WITHDRAWN: no longer eligible) matching published, with both explanations. A REVISED "
             "after a WITHDRAWN is a reinstatement (the household qualifies again, reason 'Offered again: ...', no "
             "previous amount): the task is open again, or stays decided if it was decided before the withdrawal.",
             "required": ["change", "reason"], "properties": {
                 "change": {"enum": ["REVISED", "WITHDRAWN"]}, "number": {"type": ["integer", "null"]}, "at": _TIME,
                 "reason": {"type": "string"}, "previous_amount_fen": {"type": ["integer", "null"]},
                 "amount_fen": {"type": ["integer", "null"]},
                 "changed_facts": {"type": "array", "items": {"type": "string"}},
                 "previous_summary": {"type": "string"}, "previous_computation": _NULLABLE_TEXT,
                 "summary": {"type": "string"}, "computation": _NULLABLE_TEXT,
                 "held_by": {**_NULLABLE_TEXT, "description": "Who had the task claimed when it was withdrawn."}}}
_AUDIT = {"type": "object", "required": ["seq", "action", "actor"], "properties": {
    "seq": {"type": "integer"}, "action": {"type": "string", "description": "RECEIVED, a casework transition, or "
                                           "REVISED / WITHDRAWN (actor matching, with revision)"},
    "actor": {"type": "string"}, "at": _TIME,
    "district": {"type": "string"}, "reason": _NULLABLE_TEXT, "assignee": _NULLABLE_TEXT, "lease_until": _TIME,
    "decision_id": _NULLABLE_TEXT, "revision": _REVISION}}
_APPLICATION = {"type": "object", "required": ["application_id", "person_id", "policy_id", "applied_by", "outcome"],
                "description": "An application for the resident and matching's answer (outcome WAITING until it "
                               "comes; reasons for NOT_ELIGIBLE).",
                "properties": {
                    "application_id": {"type": "string"}, "person_id": {"type": "string"},
                    "policy_id": {"type": "string"}, "applied_by": {"type": "string"},
                    "outcome": {"enum": ["WAITING", "OFFERED", "VERIFICATION_OPENED", "ALREADY_PENDING",
                                         "ALREADY_RECEIVING", "NOT_ELIGIBLE", "UNKNOWN_POLICY", "UNKNOWN_PERSON"]},
                    "reasons": {"type": "array", "items": {"type": "string"}}, "offer_id": _NULLABLE_TEXT,
                    "task_id": _NULLABLE_TEXT, "policy_name": _NULLABLE_TEXT}}
_TASK = {"type": "object", "description": "A task with its progress, the offer and its explanation (conditions "
         "with values and outcome, amount computation, legal basis), the evidence event ids and the audit trail.",
         "required": ["task_id", "kind", "household_id", "status", "audit"],
         "properties": {**_ITEM["properties"], "household_id": {"type": "string"},  # type: ignore[dict-item]
                        "person_id": _NULLABLE_TEXT, "origin_district": {"type": "string"},
                        "created_at": _TIME, "risk_tier": _NULLABLE_TEXT, "lease_until": _TIME,
                        "decided_at": _TIME, "decided_by": _NULLABLE_TEXT, "offer": {"type": ["object", "null"]},
                        "explanation": {"type": ["object", "null"]},
                        "evidence_event_ids": {"type": "array", "items": {"type": "string"}},
                        "change": {"enum": ["NEW", "REVISED", "WITHDRAWN"]},
                        "review": {"type": ["object", "null"], "description": "For a REVIEW task: the benefit "
                                   "received (policy, amount), the evaluation on the current facts and what "
                                   "changed."},
                        "revisions": {"type": "array", "items": _REVISION},
                        "applications": {"type": "array", "items": _APPLICATION,
                                         "description": "The resident's applications and their answers."},
                        "audit": {"type": "array", "items": _AUDIT}}}
_PURPOSES = ["VISIT", "VERIFY", "DELIVER_NOTICE"]
_DISCLOSURE = {"type": "object", "description": "The contact details of the household's members the purpose "
               "shows (VISIT: name, address, phone; VERIFY: name, phone; DELIVER_NOTICE: name, address), after the "
               "disclosure was recorded on assist.disclosures. Never cached (Cache-Control: no-store).",
               "required": ["disclosure_id", "task_id", "household_id", "purpose", "fields", "at", "persons"],
               "properties": {
                   "disclosure_id": {"type": "string"}, "task_id": {"type": "string"},
                   "household_id": {"type": "string"}, "purpose": {"enum": _PURPOSES},
                   "fields": {"type": "array", "items": {"enum": ["name", "address", "phone"]}},
                   "at": {"type": "string", "format": "date-time"},
                   "persons": {"type": "array", "items": {
                       "type": "object", "required": ["person_id"], "additionalProperties": False,
                       "properties": {"person_id": {"type": "string"}, "name": {"type": "string"},
                                      "address": {"type": "string"}, "phone": {"type": "string"}}}}}}
_TRANSITIONS = {"type": "object", "required": ["task_id", "transitions"], "properties": {
    "task_id": {"type": "string"}, "lease_until": _TIME,
    "transitions": {"type": "array", "description": "Transitions recorded and queued for assist.decisions; a lease "
                    "that had run out shows as LEASE_EXPIRED before the command's own. The same decision sent "
                    "again by its caseworker answers the recorded transition (nothing is recorded twice).",
                    "items": {"type": "object", "required": ["action", "district", "decision_id"],
                              "properties": {"action": {"type": "string"}, "district": {"type": "string"},
                                             "decision_id": {"type": "string"}}}}}}
_PROBLEM = {"type": "object", "required": ["title", "status"], "properties": {
    "title": {"type": "string", "description": "What is wrong, in words (for a reject without a reason: which "
              "field and why)."},
    "status": {"type": "integer"},
    "code": {"type": "string", "description": "A word for the console to translate: filter, body, action, reason, "
             "not_found, empty, held, decided, withdrawn, assigned, escalated, not_holder, out_of_scope, "
             "no_caseworker, name_district, caseworker_district, forbidden, too_large, rate_limited, unavailable, "
             "purpose, closed, no_details, audit_unavailable."},
    "holder": {"type": "string", "description": "Who holds the task (409 held / not_holder)."},
    "field": {"type": "string", "description": "The request field at fault (purpose, task_id, household_id)."}}}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "required": True,
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description,
                              "content": {"application/problem+json": {"schema": _PROBLEM}}}
    if headers:
        answer["headers"] = headers
    return answer


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


UNAUTHENTICATED = _problem("No valid staff token (missing, forged, expired, unsigned or for another audience).",
                           {"WWW-Authenticate": {"schema": {"type": "string"}}})
TOO_MANY = _problem("More requests than the member of staff's rate limit (ASSIST_CASEWORK_RATE_PER_SECOND, burst "
                    "ASSIST_CASEWORK_RATE_BURST; all their tokens and sessions together).", _RETRY_AFTER)
UNAVAILABLE = _problem("The queues are being rebuilt, or Redis does not answer (or every connection stayed busy "
                       "past ASSIST_CASEWORK_REDIS_WAIT_SECONDS); for an application, no policy catalogue was read "
                       "yet (code no_catalogue) or the event log did not acknowledge it. Nothing was changed unless "
                       "the title says it may have been; retry after Retry-After.", _RETRY_AFTER)
NO_CSRF = _problem("Authenticated by the console's session cookie without its X-CSRF-Token header.")
NOT_JSON = _problem("The body is not a JSON object, or a field is not text (code body).")
TOO_LARGE = _problem("The body is larger than 256 KiB (code too_large).")
NOT_FOUND = _problem("No such task in your scope (tasks of other districts are not revealed).")
_TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _answers(**by_status: dict[str, Any]) -> dict[str, Any]:
    """The answers of an API operation: its own, then those every API operation may give."""
    return {**by_status, "401": UNAUTHENTICATED, "429": TOO_MANY, "503": UNAVAILABLE}


def _command(summary: str, body: dict[str, Any] | None, **answers: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "parameters": [_TASK_ID], "responses": _answers(
        **{"200": _json("Done.", _TRANSITIONS), "403": NO_CSRF, "404": NOT_FOUND, **answers})}
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return {"post": operation}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string", "pattern": r"\S"}}


_OVERVIEW = {"type": "object", "required": ["region", "queues", "breaches"], "properties": {
    "region": {"type": "string"},
    "queues": {"type": "array", "items": {"type": "object", "properties": {
        "queue": {"type": "string"}, "code": {"type": "string"}, "escalated": {"type": "boolean"},
        "queued": {"type": "object", "additionalProperties": {"type": "integer"}},
        "claimed": {"type": "object", "additionalProperties": {"type": "integer"}}, "total": {"type": "integer"}}}},
    "breaches": {"type": "array", "items": _ITEM},
    "breaches_by_district": {"type": "object", "additionalProperties": {"type": "integer"}},
    "staff": {"type": "array", "description": "Contact details shown over the last 30 days per member of staff of "
              "the region (staff accounts): disclosures, distinct households, by purpose, how many households their "
              "held or decided tasks explain, and browsing (at least 10 households, more than half unexplained). "
              "Present when the identity vault is wired.", "items": {
                  "type": "object", "required": ["actor", "role", "disclosures", "households", "by_purpose",
                                                 "explained_households", "browsing"],
                  "properties": {"actor": {"type": "string"}, "role": {"enum": ["CASEWORKER", "SUPERVISOR"]},
                                 "disclosures": {"type": "integer"}, "households": {"type": "integer"},
                                 "by_purpose": {"type": "object", "additionalProperties": {"type": "integer"}},
                                 "explained_households": {"type": "integer"}, "browsing": {"type": "boolean"}}}},
    "outcomes": {"type": "object", "description": "What the region's work achieved over the last days (offers by "
                 "policy and what became of them, median seconds, warnings raised and confirmed by a visit). Present "
                 "when the API reads the topics' outcome figures.", "required": ["days", "by_policy", "warnings"],
                 "properties": {"days": {"type": "integer"}, "by_policy": {"type": "array", "items": {
                     "type": "object", "required": ["policy_id", "made"], "properties": {
                         "policy_id": {"type": "string"}, "made": {"type": "integer"},
                         "accepted": {"type": "integer"}, "declined": {"type": "integer"},
                         "approved": {"type": "integer"}, "rejected": {"type": "integer"},
                         "withdrawn": {"type": "integer"},
                         "median_event_to_offer_seconds": {"type": ["number", "null"]},
                         "median_offer_to_decision_seconds": {"type": ["number", "null"]}}}},
                     "warnings": {"type": "object", "properties": {
                         "raised": {"type": "integer"}, "confirmed": {"type": "integer"},
                         "rejected": {"type": "integer"}, "confirmed_share": {"type": ["number", "null"]}}}}}}}
_ME = {"type": "object", "required": ["sub", "role"], "properties": {
    "sub": {"type": "string"}, "role": {"enum": ["caseworker", "supervisor"]},
    "districts": {"type": "array", "items": {"type": "string"}}, "region": {"type": "string"}}}
_PLAIN = {"text/plain": {"schema": {"type": "string"}}}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Assist casework", "version": "1.1.0", "description": (
        "Caseworker queues per district. A caseworker sees and acts in the districts of their token; a supervisor "
        "across their region. Claim a task to hold its lease, then decide it. Every transition is published to "
        "assist.decisions. Tokens: `python -m services.casework token issue`. Every refusal is "
        "application/problem+json with the status that says why; 429 and 503 carry Retry-After.")},
    "components": {"securitySchemes": {"staff": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    "security": [{"staff": []}],
    "paths": {
        "/api/v1/me": {"get": {"summary": "Who the token names",
                               "responses": _answers(**{"200": _json("Claims.", _ME)})}},
        "/api/v1/tasks": {"get": {
            "summary": "The queue: tasks in your scope, highest priority first, then earliest deadline",
            "parameters": [
                _query("district", "Comma-separated six-digit district codes.",
                       {"type": "string", "pattern": r"^[\s,]*[0-9]{6}(\s*,[\s,]*[0-9]{6})*[\s,]*$"}),
                _query("band", "Priority band.", {"enum": ["urgent", "high", "normal", "low"]}),
                _query("due_before", "A date (China Standard Time) or an RFC 3339 time.",
                       {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}),
                _query("sla", "Deadline state.", {"enum": ["ok", "due-soon", "breached"]}),
                _query("policy", "Policy id of the offer."),
                _query("state", "queued (default), claimed or all.", {"enum": ["queued", "claimed", "all"]}),
                _query("offset", "Rows to skip.", {"type": "integer", "minimum": 0, "maximum": 1_000_000}),
                _query("limit", "Rows, at most 200.", {"type": "integer", "minimum": 1, "maximum": 200})],
            "responses": _answers(**{
                "200": _json("Rows.", {"type": "object", "required": ["tasks", "truncated"], "properties": {
                    "tasks": {"type": "array", "items": _ITEM}, "offset": {"type": "integer"},
                    "limit": {"type": "integer"}, "truncated": {"type": "boolean"}}}),
                "400": _problem("Invalid filter (code filter; the title names it).")})}},
        "/api/v1/tasks/next": {"post": {
            "summary": "Claim the first claimable task of your queues (or of one district)",
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"district": _NULLABLE_TEXT}}}}},
            "responses": _answers(**{"200": _json("Claimed.", _TRANSITIONS), "400": NOT_JSON, "403": NO_CSRF,
                                     "404": _problem("Nothing to claim (code empty)."), "413": TOO_LARGE})}},
        "/api/v1/tasks/{task_id}": {"get": {"summary": "A task with its explanation, evidence and audit trail",
                                            "parameters": [_TASK_ID],
                                            "responses": _answers(**{"200": _json("The task.", _TASK),
                                                                     "404": NOT_FOUND})}},
        "/api/v1/tasks/{task_id}/claim": _command(
            "Take the lease on a task", None,
            **{"409": _problem("Claimed by someone (holder named), reserved for another caseworker, escalated, "
                               "decided, or withdrawn by matching (code withdrawn, the title says why).")}),
        "/api/v1/tasks/{task_id}/unclaim": _command(
            "Give the lease back (the holder, or a supervisor)", None,
            **{"409": _problem("Not the holder, or withdrawn (code withdrawn).")}),
        "/api/v1/tasks/{task_id}/decide": _command(
            "Approve, reject or request information (the holder only)",
            {"type": "object", "required": ["action"], "properties": {
                "action": {"enum": ["approve", "reject", "request_information"]},
                "reason": {"type": ["string", "null"], "maxLength": 2000,
                           "description": "Required (not blank) to reject or request information."}},
             "if": {"properties": {"action": {"enum": ["reject", "request_information"]}}},
             "then": {"required": ["reason"], "properties": {"reason": {"type": "string", "pattern": r"\S"}}}},
            **{"400": _problem("Invalid action, no reason, a reason over 2,000 characters, or a body that is not "
                               "a JSON object (code action, reason or body)."),
               "409": _problem("Not the holder (code not_holder), decided (code decided), or withdrawn by matching "
                               "(code withdrawn: it can no longer be approved or rejected; the title says why)."),
               "413": TOO_LARGE}),
        "/api/v1/tasks/{task_id}/reassign": _command(
            "Move a task to a district of your region, optionally reserved for a caseworker (supervisors)",
            {"type": "object", "properties": {"district": {"type": ["string", "null"], "pattern": "^[0-9]{6}$"},
                                              "caseworker": {"type": ["string", "null"]},
                                              "reason": {"type": ["string", "null"], "maxLength": 2000}},
             "anyOf": [{"required": ["district"], "properties": {"district": {"type": "string"}}},
                       {"required": ["caseworker"], "properties": {"caseworker": {"type": "string",
                                                                                  "minLength": 1}}}]},
            **{"400": _problem("Neither district nor caseworker, an unknown caseworker, a district outside your "
                               "region, or a body that is not a JSON object."),
               "403": _problem("Not a supervisor, or the session cookie without its X-CSRF-Token header."),
               "409": _problem("Decided, or withdrawn (code withdrawn)."), "413": TOO_LARGE}),
        "/api/v1/tasks/{task_id}/applications": {"post": {
            "summary": "Apply for a programme on behalf of the resident the task names: an application.submitted "
                       "event on assist.events (applied_by you, source /civil_affairs/casework-console); matching's "
                       "answer appears in the task's applications",
            "parameters": [_TASK_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["policy_id"],
                "properties": {"policy_id": {"type": "string", "pattern": "^[a-z0-9_]{1,64}$"}}}}}},
            "responses": _answers(**{
                "201": _json("Submitted.", _APPLICATION),
                "400": _problem("policy_id missing or not a policy id (code policy), the task names no resident "
                                "(code no_person), or a body that is not a JSON object (code body)."),
                "403": NO_CSRF,
                "404": _problem("No such task in your scope, or policy_id is not a programme of the current "
                                "catalogue (code unknown_policy)."),
                "413": TOO_LARGE})}},
        "/api/v1/tasks/{task_id}/disclosures": {"post": {
            "summary": "The names, addresses and phones of the task's household members for a purpose: on an open "
                       "task you hold (caseworker) or of your region (supervisor); recorded (who, when, task, "
                       "purpose, fields) before they are shown",
            "parameters": [_TASK_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["purpose"], "properties": {"purpose": {"enum": _PURPOSES}}}}}},
            "responses": _answers(**{
                "200": {**_json("Shown (and recorded).", _DISCLOSURE),
                        "headers": {"Cache-Control": {"required": True, "schema": {"const": "no-store"}}}},
                "400": _problem("No purpose or not one of VISIT, VERIFY, DELIVER_NOTICE (code purpose, field "
                                "purpose), or a body that is not a JSON object (code body)."),
                "403": NO_CSRF,
                "404": _problem("No such task in your scope, or the vault holds no details for the household "
                                "(code no_details, field household_id)."),
                "409": _problem("The task is closed: decided or withdrawn (code closed), or you do not hold it "
                                "(code not_holder); field task_id, the title is the vault's sentence."),
                "413": TOO_LARGE})}},
        "/api/v1/overview": {"get": {
            "summary": "Queue depth by district and priority band, and escalated tasks, in your region",
            "responses": _answers(**{"200": _json("Overview.", _OVERVIEW),
                                     "403": _problem("Not a supervisor (code forbidden).")})}},
        "/healthz": {"get": {"security": [], "responses": {
            "200": _json("Serving; Redis reachable.", {"type": "object", "properties": {"status": {"const": "ok"}}}),
            "503": _json("Redis unreachable.", {"type": "object", "properties": {
                "status": {"const": "unavailable"}}})}}},
        "/metrics": {"get": {"security": [], "responses": {
            "200": {"description": "Prometheus text format.", "content": _PLAIN},
            "503": {"description": "Redis unreachable.", "headers": _RETRY_AFTER, "content": _PLAIN}}}},
    },
}
