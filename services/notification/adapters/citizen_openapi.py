"""The OpenAPI 3.1 document of the citizen API, served at /openapi.json."""

from __future__ import annotations

from typing import Any

_PROBLEM = {"type": "object", "properties": {"title": {"type": "string"}, "status": {"type": "integer"}}}
_OFFER = {
    "type": "object",
    "properties": {
        "offer_id": {"type": "string"}, "policy_id": {"type": "string"},
        "policy": {"type": "string", "description": "Programme name in the session's language."},
        "amount": {"type": "string", "description": "Amount in yuan with its period, as text."},
        "amount_fen": {"type": ["integer", "null"]},
        "amount_period": {"enum": ["MONTHLY", "ONE_OFF", "PER_TERM", "SERVICE"]},
        "state": {"enum": ["OFFERED", "ANSWERING", "ACCEPTED", "DECLINED"]},
        "answered_at": {"type": ["string", "null"], "format": "date-time"},
        "reason": {"type": "string", "description": "The explanation's summary: why this is offered."},
        "conditions": {"type": "array", "items": {"type": "object", "properties": {
            "expression": {"type": "string"}, "values": {"type": "string"}, "holds": {"type": "boolean"}}}},
        "computation": {"type": ["string", "null"]}, "legal_basis": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
_INBOX_ITEM = {"type": "object", "properties": {
    "notification_id": {"type": "string"}, "offer_id": {"type": "string"}, "subject": {"type": "string"},
    "body": {"type": "string"}, "at": {"type": "string"}}}
_LANG = {"name": "lang", "in": "query", "required": False, "schema": {"enum": ["zh_CN", "en"]},
         "description": "Language of texts; remembered in a cookie. Default: the person's contact preference."}
_OFFER_ID = {"name": "offer_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": _PROBLEM}}}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Assist citizen API", "version": "1.0.0",
             "description": "A citizen's own offers, why they are offered, their answer and their inbox. The signed "
                            "link in a notification opens a session; every other call needs its cookie, and "
                            "sees only that person's data (anything else is 404)."},
    "components": {"securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "assist_session"}}},
    "security": [{"session": []}],
    "paths": {
        "/c/{token}": {"get": {
            "summary": "Open a session from a signed link (HTML); redirects to the offer",
            "security": [],
            "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"},
                            "description": "v1.<person id>.<offer id>.<expiry>.<HMAC-SHA256 signature>"}],
            "responses": {"303": {"description": "Session cookie set (HttpOnly, SameSite=Lax); go to the offer."},
                          "403": {"description": "The link was altered or has expired."}},
        }},
        "/api/v1/session": {"get": {
            "summary": "The session: person id, language and the CSRF token for answers",
            "responses": {"200": _json({"type": "object", "properties": {
                "person_id": {"type": "string"}, "language": {"enum": ["zh_CN", "en"]},
                "expires": {"type": "string", "format": "date-time"}, "csrf_token": {"type": "string"}}}, "Session"),
                "401": _problem("No valid session.")},
        }},
        "/api/v1/offers": {"get": {
            "summary": "My offers, newest first, each with why", "parameters": [_LANG],
            "responses": {"200": _json({"type": "object", "properties": {"offers": {"type": "array",
                                                                                   "items": _OFFER}}}, "Offers"),
                          "401": _problem("No valid session.")},
        }},
        "/api/v1/offers/{offer_id}": {"get": {
            "summary": "One of my offers", "parameters": [_OFFER_ID, _LANG],
            "responses": {"200": _json(_OFFER, "The offer"), "401": _problem("No valid session."),
                          "404": _problem("Not one of this person's offers.")},
        }},
        "/api/v1/offers/{offer_id}/answer": {"post": {
            "summary": "Accept or decline an offer (once); recorded on assist.decisions with actor 'citizen'",
            "parameters": [_OFFER_ID, {"name": "X-CSRF-Token", "in": "header", "required": True,
                                       "schema": {"type": "string"},
                                       "description": "csrf_token from /api/v1/session"}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["answer"],
                "properties": {"answer": {"enum": ["ACCEPTED", "DECLINED"]}}}}}},
            "responses": {"200": _json(_OFFER, "Recorded; the offer in its new state"),
                          "400": _problem("No valid answer."), "401": _problem("No valid session."),
                          "403": _problem("Missing or wrong CSRF token, or a cross-site request."),
                          "404": _problem("Not one of this person's offers."),
                          "409": _problem("Already answered, or an answer is being recorded."),
                          "503": _problem("The decision log is unavailable; nothing recorded, try again.")},
        }},
        "/api/v1/inbox": {"get": {
            "summary": "My in-app messages, newest first",
            "responses": {"200": _json({"type": "object", "properties": {"items": {"type": "array",
                                                                                  "items": _INBOX_ITEM}}}, "Inbox"),
                          "401": _problem("No valid session.")},
        }},
        "/offers": {"get": {"summary": "My offers (HTML)", "parameters": [_LANG],
                            "responses": {"200": {"description": "Page"}, "401": {"description": "No session"}}}},
        "/offers/{offer_id}": {"get": {"summary": "One offer with why and the answer form (HTML)",
                                       "parameters": [_OFFER_ID, _LANG],
                                       "responses": {"200": {"description": "Page"},
                                                     "404": {"description": "Not this person's offer"}}}},
        "/offers/{offer_id}/answer": {"post": {
            "summary": "Answer form (HTML): answer=ACCEPTED|DECLINED and csrf_token",
            "parameters": [_OFFER_ID],
            "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "properties": {"answer": {"enum": ["ACCEPTED", "DECLINED"]},
                                                 "csrf_token": {"type": "string"}}}}}},
            "responses": {"303": {"description": "Recorded; back to the offer"},
                          "403": {"description": "CSRF check failed"}, "404": {"description": "Not found"},
                          "409": {"description": "Already answered"}, "503": {"description": "Try again"}}}},
        "/inbox": {"get": {"summary": "My inbox (HTML)", "parameters": [_LANG],
                           "responses": {"200": {"description": "Page"}}}},
        "/healthz": {"get": {"security": [], "responses": {"200": {"description": "Process is serving."}}}},
        "/metrics": {"get": {"security": [], "responses": {"200": {"description": "Prometheus text format."}}}},
    },
}
