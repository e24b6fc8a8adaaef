"""The OpenAPI 3.1 document of the citizen API and pages, served at /openapi.json. It lists every answer an
operation gives, refusals included: the schemathesis suite holds the service to it."""

from __future__ import annotations

from typing import Any

_PROBLEM = {"type": "object", "required": ["title", "status"],
            "properties": {"title": {"type": "string", "description": "What is wrong, in words."},
                           "status": {"type": "integer"}}}
_OFFER = {
    "type": "object",
    "required": ["offer_id", "policy_id", "policy", "amount", "state", "reason", "conditions"],
    "properties": {
        "offer_id": {"type": "string"}, "policy_id": {"type": "string"},
        "policy": {"type": "string", "description": "Programme name in the session's language."},
        "amount": {"type": "string", "description": "Amount in yuan with its period, as text."},
        "amount_fen": {"type": ["integer", "null"]},
        "amount_period": {"enum": ["MONTHLY", "ONE_OFF", "PER_TERM", "SERVICE", None]},
        "state": {"enum": ["OFFERED", "ANSWERING", "ACCEPTED", "DECLINED"]},
        "answered_at": {"type": ["string", "null"], "format": "date-time"},
        "reason": {"type": "string", "description": "Why this is offered, in plain words in the session's language "
                                                    "(the catalogue's labels; the explanation's summary when it has "
                                                    "none)."},
        "labelled": {"type": "boolean", "description": "The explanation carries the catalogue's labels."},
        "condition_sentences": {"type": "array", "description": "Each condition in plain words.",
                                "items": {"type": "object", "properties": {
                                    "text": {"type": "string"}, "holds": {"type": "boolean"}}}},
        "amount_reason": {"type": ["string", "null"], "description": "How the amount is reached, in plain words."},
        "unmet_sentences": {"type": "array", "items": {"type": "string"},
                            "description": "The conditions not met, in plain words."},
        "conditions": {"type": "array", "items": {"type": "object", "properties": {
            "expression": {"type": "string"}, "values": {"type": "string"}, "holds": {"type": "boolean"}}}},
        "computation": {"type": ["string", "null"]}, "legal_basis": {"type": ["string", "null"]},
        "created_at": {"type": ["string", "null"]},
        "change": {"enum": ["NEW", "REVISED", "WITHDRAWN"]},
        "withdrawn": {"type": "boolean", "description": "Withdrawn: nothing can be accepted any more."},
        "open": {"type": "boolean", "description": "Waiting for an answer (and not withdrawn)."},
        "change_text": {"type": ["string", "null"],
                        "description": "In plain words: the revised amount, or why the offer was withdrawn."},
        "revision": {"type": ["object", "null"], "properties": {
            "number": {"type": ["integer", "null"]}, "reason": {"type": ["string", "null"]},
            "previous_amount_fen": {"type": ["integer", "null"]},
            "changed_facts": {"type": "array", "items": {"type": "string"}}, "received": {"type": "boolean"}}},
        "not_met": {"type": "array", "description": "For a withdrawn offer, the conditions no longer met.",
                    "items": {"type": "object"}},
    },
}
_APPLICATION = {"type": "object", "required": ["application_id", "policy_id", "policy", "applied_by", "outcome",
                                               "answer"], "properties": {
    "application_id": {"type": "string", "description": "The id of the application.submitted event."},
    "policy_id": {"type": "string"}, "policy": {"type": "string"},
    "applied_by": {"type": "string", "description": "'citizen', or the caseworker who applied on one's behalf."},
    "outcome": {"enum": ["WAITING", "OFFERED", "VERIFICATION_OPENED", "ALREADY_PENDING", "ALREADY_RECEIVING",
                         "NOT_ELIGIBLE", "UNKNOWN_POLICY", "UNKNOWN_PERSON"]},
    "submitted_at": {"type": ["string", "null"]},
    "answer": {"type": "string", "description": "Matching's answer in plain words (not eligible, because ...)."},
    "offer_id": {"type": ["string", "null"]}, "reasons": {"type": "array", "items": {"type": "string"}}}}
_APPLICATIONS = {"type": "object", "required": ["programmes", "applications"], "properties": {
    "programmes": {"type": "array", "description": "What one may apply for (empty while no catalogue was read).",
                   "items": {"type": "object", "properties": {"policy_id": {"type": "string"},
                                                              "name": {"type": "string"}}}},
    "applications": {"type": "array", "items": _APPLICATION}}}
_INBOX_ITEM = {"type": "object", "required": ["notification_id", "subject", "body", "at"], "properties": {
    "notification_id": {"type": "string"}, "offer_id": {"type": ["string", "null"]}, "subject": {"type": "string"},
    "body": {"type": "string"}, "at": {"type": "string"}}}
_DATA_USE = {"type": "object", "required": ["offers", "contact_uses"], "description": "Who used my data and why: "
             "the department events each offer was based on (department null when the offer does not record it), "
             "and every disclosure of my contact details to staff (role and district, never who).",
             "properties": {
                 "offers": {"type": "array", "items": {
                     "type": "object", "required": ["offer_id", "policy", "state", "events"], "properties": {
                         "offer_id": {"type": "string"}, "policy": {"type": "string"},
                         "state": {"enum": ["OFFERED", "ANSWERING", "ACCEPTED", "DECLINED", "WITHDRAWN"]},
                         "events": {"type": "array", "items": {
                             "type": "object", "required": ["event_id", "trigger", "department"], "properties": {
                                 "event_id": {"type": "string"}, "trigger": {"type": "boolean"},
                                 "department": {"type": ["string", "null"]},
                                 "department_text": {"type": ["string", "null"]}}}}}}},
                 "contact_uses": {"type": "array", "items": {
                     "type": "object", "required": ["disclosure_id", "role", "district", "purpose", "fields", "at"],
                     "properties": {
                         "disclosure_id": {"type": "string"}, "role": {"enum": ["CASEWORKER", "SUPERVISOR"]},
                         "role_text": {"type": "string"}, "district": {"type": "string"},
                         "purpose": {"enum": ["VISIT", "VERIFY", "DELIVER_NOTICE"]}, "purpose_text": {"type": "string"},
                         "fields": {"type": "array", "items": {"enum": ["name", "address", "phone"]}},
                         "fields_text": {"type": "array", "items": {"type": "string"}},
                         "at": {"type": "string", "format": "date-time"}, "at_text": {"type": "string"}}}}}}
_LANG = {"name": "lang", "in": "query", "required": False, "schema": {"enum": ["zh_CN", "en"]},
         "description": "Language of texts; remembered in a cookie. Default: the person's contact preference. "
                        "Any other value is refused (400)."}
_PAGE_LANG = {"name": "lang", "in": "query", "required": False, "schema": {"type": "string"},
              "description": "zh_CN or en, remembered in a cookie; anything else leaves the language as it was."}
_OFFER_ID = {"name": "offer_id", "in": "path", "required": True, "schema": {"type": "string"}}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "required": True,
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
_HTML = {"text/html": {"schema": {"type": "string"}}}
_TEXT = {"text/plain": {"schema": {"type": "string"}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description,
                              "content": {"application/problem+json": {"schema": _PROBLEM}}}
    if headers:
        answer["headers"] = headers
    return answer


def _page(description: str, content: dict[str, Any] = _HTML, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": content, **extra}


def _see_other(description: str) -> dict[str, Any]:
    return {"description": description, "headers": {"Location": {"required": True, "schema": {"type": "string"}}}}


_LIMITED = ("More requests than the person's rate limit (ASSIST_CITIZEN_RATE_PER_SECOND, burst "
            "ASSIST_CITIZEN_RATE_BURST; all their sessions together).")
_UNAVAILABLE = ("Redis or the decision log does not answer (or every connection stayed busy past "
                "ASSIST_CITIZEN_REDIS_WAIT_SECONDS), or no policy catalogue was read yet to apply against; nothing "
                "was recorded, try again after Retry-After.")


def _api(**by_status: dict[str, Any]) -> dict[str, Any]:
    """The answers of an API operation: its own, then those every API operation may give."""
    return {**by_status, "401": _problem("No valid session: open the signed link first."),
            "429": _problem(_LIMITED, _RETRY_AFTER), "503": _problem(_UNAVAILABLE, _RETRY_AFTER)}


def _pages(**by_status: dict[str, Any]) -> dict[str, Any]:
    """The answers of a page: its own, then those every page may give."""
    return {**by_status, "429": _page(_LIMITED, _TEXT, headers=_RETRY_AFTER),
            "503": _page(_UNAVAILABLE, {**_HTML, **_TEXT}, headers=_RETRY_AFTER)}


_BAD_QUERY = _problem("A query parameter this operation does not take, or a lang other than zh_CN and en.")
_NOT_MINE = _problem("Not one of this person's offers (other people's offers are not revealed).")

_CSRF = {"name": "X-CSRF-Token", "in": "header", "required": True, "schema": {"type": "string"},
         "description": "csrf_token from /api/v1/session"}
_CONSENT = {"type": "object", "required": ["channels", "withdrawn_at"], "properties": {
    "channels": {"type": "array", "items": {"type": "object", "required": ["channel", "usable", "withdrawn"],
                                            "properties": {"channel": {"enum": ["SMS", "EMAIL"]},
                                                           "usable": {"type": "boolean"},
                                                           "withdrawn": {"type": "boolean"}}}},
    "withdrawn_at": {"type": ["string", "null"], "format": "date-time"}}}
_REVIEW_REQUEST = {"type": "object", "required": ["task_id", "policy_id", "reason", "asked_at", "outcome"],
                   "properties": {"task_id": {"type": "string"}, "policy_id": {"type": "string"},
                                  "reason": {"type": "string"}, "asked_at": {"type": "string", "format": "date-time"},
                                  "outcome": {"enum": ["WAITING", "UPHELD", "STANDS", "INFORMATION_REQUESTED"]},
                                  "outcome_reason": {"type": ["string", "null"]},
                                  "decided_at": {"type": ["string", "null"], "format": "date-time"}}}
_REVIEWS = {"type": "object", "required": ["decisions", "requests", "max_reason"], "properties": {
    "decisions": {"type": "array", "items": {"type": "object", "required": ["subject_id", "kind", "can_ask"],
                                             "properties": {"subject_id": {"type": "string"},
                                                            "kind": {"enum": ["WITHDRAWN", "NOT_ELIGIBLE"]},
                                                            "can_ask": {"type": "boolean"}}}},
    "requests": {"type": "array", "items": _REVIEW_REQUEST}, "max_reason": {"type": "integer"}}}

_CONTROL = "\\x00-\\x08\\x0e-\\x1b"
REVIEW_REASON = f"^[^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"
"""Plain text with something besides spaces: control characters other than whitespace are refused
(services/notification/domain/reviews.py)."""

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Assist citizen API", "version": "1.1.0",
             "description": "A citizen's own offers, why they are offered, their answer and their inbox. The signed "
                            "link in a notification opens a session; every other call needs its cookie, and "
                            "sees only that person's data (anything else is 404). API refusals are "
                            "application/problem+json; 429 and 503 carry Retry-After."},
    "components": {"securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "assist_session"}}},
    "security": [{"session": []}],
    "paths": {
        "/c/{token}": {"get": {
            "summary": "Open a session from a signed link (HTML); redirects to the offer",
            "security": [],
            "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"},
                            "description": "v1.<person id>.<offer id>.<expiry>.<HMAC-SHA256 signature>"}, _PAGE_LANG],
            "responses": _pages(**{
                "303": _see_other("Session cookie set (HttpOnly, SameSite=Lax); go to the offer."),
                "403": _page("The link was altered, is malformed or has expired.")}),
        }},
        "/api/v1/session": {"get": {
            "summary": "The session: person id, language and the CSRF token for answers",
            "responses": _api(**{"200": _json({"type": "object", "required": ["person_id", "csrf_token"],
                                               "properties": {
                "person_id": {"type": "string"}, "language": {"enum": ["zh_CN", "en"]},
                "expires": {"type": "string", "format": "date-time"}, "csrf_token": {"type": "string"}}}, "Session"),
                "400": _BAD_QUERY}),
        }},
        "/api/v1/offers": {"get": {
            "summary": "My offers, newest first, each with why", "parameters": [_LANG],
            "responses": _api(**{"200": _json({"type": "object", "required": ["offers"], "properties": {
                "offers": {"type": "array", "items": _OFFER}}}, "Offers"), "400": _BAD_QUERY}),
        }},
        "/api/v1/offers/{offer_id}": {"get": {
            "summary": "One of my offers", "parameters": [_OFFER_ID, _LANG],
            "responses": _api(**{"200": _json(_OFFER, "The offer"), "400": _BAD_QUERY, "404": _NOT_MINE}),
        }},
        "/api/v1/offers/{offer_id}/answer": {"post": {
            "summary": "Accept or decline an offer (once); recorded on assist.decisions with actor 'citizen'",
            "parameters": [_OFFER_ID, {"name": "X-CSRF-Token", "in": "header", "required": True,
                                       "schema": {"type": "string"},
                                       "description": "csrf_token from /api/v1/session"}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["answer"],
                "properties": {"answer": {"enum": ["ACCEPTED", "DECLINED"]}}}}}},
            "responses": _api(**{
                "200": _json(_OFFER, "Recorded; the offer in its new state"),
                "400": _problem("The body is not JSON, or answer is not ACCEPTED or DECLINED."),
                "403": _problem("Missing or wrong CSRF token, or a cross-site request."),
                "404": _NOT_MINE, "409": _problem("Already answered, an answer is being recorded, or the offer was "
                                                "withdrawn (nothing can be accepted any more)."),
                "413": _problem("The body is larger than 64 KiB.")}),
        }},
        "/api/v1/inbox": {"get": {
            "summary": "My in-app messages, newest first",
            "responses": _api(**{"200": _json({"type": "object", "required": ["items"], "properties": {
                "items": {"type": "array", "items": _INBOX_ITEM}}}, "Inbox"), "400": _BAD_QUERY}),
        }},
        "/api/v1/data-use": {"get": {
            "summary": "Who used my data and why",
            "parameters": [_LANG],
            "responses": _api(**{"200": _json(_DATA_USE, "The data-use log"), "400": _BAD_QUERY}),
        }},
        "/api/v1/applications": {
            "get": {"summary": "My applications with matching's answers, and the programmes one may apply for",
                    "parameters": [_LANG],
                    "responses": _api(**{"200": _json(_APPLICATIONS, "Applications"), "400": _BAD_QUERY})},
            "post": {
                "summary": "Apply for a programme: an application.submitted event on assist.events (its id the "
                           "application id); matching answers on assist.applications.answers",
                "parameters": [{"name": "X-CSRF-Token", "in": "header", "required": True, "schema": {"type": "string"},
                                "description": "csrf_token from /api/v1/session"}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["policy_id"],
                    "properties": {"policy_id": {"type": "string", "pattern": "^[a-z0-9_]{1,64}$"}}}}}},
                "responses": _api(**{
                    "201": _json(_APPLICATION, "Submitted"),
                    "400": _problem("The body is not JSON, or policy_id is missing or not a policy id (the title "
                                    "names the field)."),
                    "404": _problem("policy_id is not a programme of the current catalogue (the title says which "
                                    "catalogue version)."),
                    "403": _problem("Missing or wrong CSRF token, or a cross-site request."),
                    "413": _problem("The body is larger than 64 KiB.")})}},
        "/applications": {
            "get": {"summary": "My applications and the form to apply (HTML)", "parameters": [_PAGE_LANG],
                    "responses": _pages(**{"200": _page("Page"), "401": _page("No session")})},
            "post": {"summary": "Apply form (HTML): policy_id and csrf_token", "parameters": [_PAGE_LANG],
                     "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                         "type": "object", "required": ["policy_id", "csrf_token"],
                         "properties": {"policy_id": {"type": "string", "pattern": "^[a-z0-9_]{1,64}$"},
                                        "csrf_token": {"type": "string"}}}}}},
                     "responses": _pages(**{
                         "303": _see_other("Submitted; back to my applications."),
                         "400": _page("Not a policy id"), "401": _page("No session"),
                         "404": _page("Not a programme of the current catalogue"),
                         "403": _page("CSRF check failed, or a cross-site request"),
                         "413": _page("The body is larger than 64 KiB", _TEXT)})}},
        "/": {"get": {"summary": "Home: my offers when signed in, else how to sign in (HTML)", "security": [],
                      "parameters": [_PAGE_LANG],
                      "responses": _pages(**{"200": _page("How to sign in."),
                                             "303": _see_other("Signed in: go to my offers.")})}},
        "/offers": {"get": {"summary": "My offers (HTML)", "parameters": [_PAGE_LANG],
                            "responses": _pages(**{"200": _page("Page"), "401": _page("No session")})}},
        "/offers/{offer_id}": {"get": {"summary": "One offer with why and the answer form (HTML)",
                                       "parameters": [_OFFER_ID, _PAGE_LANG],
                                       "responses": _pages(**{"200": _page("Page"), "401": _page("No session"),
                                                              "404": _page("Not this person's offer",
                                                                           {**_HTML, **_TEXT})})}},
        "/offers/{offer_id}/answer": {"post": {
            "summary": "Answer form (HTML): answer=ACCEPTED|DECLINED and csrf_token",
            "parameters": [_OFFER_ID, _PAGE_LANG],
            "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["answer", "csrf_token"],
                "properties": {"answer": {"enum": ["ACCEPTED", "DECLINED"]}, "csrf_token": {"type": "string"}}}}}},
            "responses": _pages(**{
                "303": _see_other("Recorded; back to the offer."), "400": _page("No valid answer"),
                "401": _page("No session"), "403": _page("CSRF check failed, or a cross-site request"),
                "404": _page("Not this person's offer", {**_HTML, **_TEXT}),
                "409": _page("Already answered, or withdrawn"),
                "413": _page("The body is larger than 64 KiB", _TEXT)})}},
        "/inbox": {"get": {"summary": "My inbox (HTML)", "parameters": [_PAGE_LANG],
                           "responses": _pages(**{"200": _page("Page"), "401": _page("No session")})}},
        "/data-use": {"get": {"summary": "Who used my data and why (HTML)", "parameters": [_PAGE_LANG],
                              "responses": _pages(**{"200": _page("Page"), "401": _page("No session")})}},
        "/api/v1/consent": {
            "get": {"summary": "Whether SMS and e-mail may be used, and what was withdrawn",
                    "responses": _api(**{"200": _json(_CONSENT, "Consent"), "400": _BAD_QUERY})},
            "post": {
                "summary": "Withdraw consent to SMS and/or e-mail: a ConsentWithdrawal on assist.consents, then the "
                           "phone or e-mail is erased; the inbox and notices in person stay",
                "parameters": [_CSRF],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["withdraw"],
                    "properties": {"withdraw": {"type": "array", "minItems": 1,
                                                "items": {"enum": ["SMS", "EMAIL"]}}}}}}},
                "responses": _api(**{
                    "200": _json(_CONSENT, "Withdrawn; consent as it now stands"),
                    "400": _problem("The body is not a JSON object, or withdraw is not a list of SMS and EMAIL (the "
                                    "title names the field)."),
                    "403": _problem("Missing or wrong CSRF token, or a cross-site request."),
                    "413": _problem("The body is larger than 64 KiB.")})}},
        "/api/v1/reviews": {
            "get": {"summary": "The decisions I may ask a review of, and my requests with their outcomes",
                    "parameters": [_LANG],
                    "responses": _api(**{"200": _json(_REVIEWS, "Reviews"), "400": _BAD_QUERY})},
            "post": {
                "summary": "Ask for a review: a REVIEW caseworker task on assist.tasks for the decision's district",
                "parameters": [_CSRF],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["subject_id", "reason"],
                    "properties": {"subject_id": {"type": "string"},
                                   "reason": {"type": "string", "minLength": 1, "maxLength": 500,
                                              "pattern": REVIEW_REASON}}}}}},
                "responses": _api(**{
                    "201": _json(_REVIEW_REQUEST, "Asked"),
                    "400": _problem("The body is not a JSON object, or reason is missing, longer than 500 characters "
                                    "or not plain text (the title names the field)."),
                    "403": _problem("Missing or wrong CSRF token, or a cross-site request."),
                    "404": _problem("subject_id is not a decision of this person's that can be reviewed."),
                    "409": _problem("A review of this decision was already asked for."),
                    "413": _problem("The body is larger than 64 KiB.")})}},
        "/consent": {
            "get": {"summary": "How we may contact you, and the form to withdraw consent (HTML)",
                    "parameters": [_PAGE_LANG],
                    "responses": _pages(**{"200": _page("Page"), "401": _page("No session")})},
            "post": {"summary": "Withdraw form (HTML): withdraw=SMS and/or EMAIL, csrf_token",
                     "parameters": [_PAGE_LANG],
                     "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                         "type": "object", "required": ["withdraw", "csrf_token"],
                         "properties": {"withdraw": {"enum": ["SMS", "EMAIL"]}, "csrf_token": {"type": "string"}}}}}},
                     "responses": _pages(**{
                         "200": _page("Withdrawn; the page as it now stands"), "400": _page("No channel chosen"),
                         "401": _page("No session"), "403": _page("CSRF check failed, or a cross-site request"),
                         "413": _page("The body is larger than 64 KiB", _TEXT)})}},
        "/reviews": {
            "get": {"summary": "Decisions I may ask a review of, and my requests (HTML)", "parameters": [_PAGE_LANG],
                    "responses": _pages(**{"200": _page("Page"), "401": _page("No session")})},
            "post": {"summary": "Review form (HTML): subject_id, reason, csrf_token", "parameters": [_PAGE_LANG],
                     "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                         "type": "object", "required": ["subject_id", "reason", "csrf_token"],
                         "properties": {"subject_id": {"type": "string"}, "reason": {"type": "string"},
                                        "csrf_token": {"type": "string"}}}}}},
                     "responses": _pages(**{
                         "200": _page("Asked; the page says so"), "400": _page("No reason, or too long"),
                         "401": _page("No session"), "403": _page("CSRF check failed, or a cross-site request"),
                         "404": _page("Not a decision of this person's that can be reviewed"),
                         "409": _page("Asked already"), "413": _page("The body is larger than 64 KiB", _TEXT)})}},
        "/healthz": {"get": {"security": [], "responses": {
            "200": _json({"type": "object", "properties": {"status": {"const": "ok"}}}, "Process is serving.")}}},
        "/metrics": {"get": {"security": [], "responses": {"200": _page("Prometheus text format.", _TEXT)}}},
    },
}
