"""Intake's HTTP API (aiohttp): POST /v1/events in CloudEvents structured, batch or binary mode.

Every request gets an answer from the API's own list (202, 400, 401, 403, 409, 413, 415, 429, 503): bad input is
the caller's mistake and says which field; an unavailable Kafka or Redis is 503 with Retry-After. A 500 means a
fault of ours: it is logged with the exception's type and counted, never with what the caller sent.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.core.codec import Contract, decode_event
from services.core.conformance import ContractError, FieldError
from services.core.rate_limit import retry_after
from services.intake.adapters.openapi import openapi_document
from services.intake.adapters.redis_rate import RedisRateLimit
from services.intake.adapters.tokens import TokenFile, token_digest
from services.intake.domain.submission import (
    EventProblem,
    Verdict,
    answerable_id,
    empty_attributes,
    judge_decoded,
    judge_structured,
    subject_problem,
)
from services.intake.metrics import IntakeMetrics
from services.intake.service import Intake, Outcome, Receipt, Unavailable

log = logging.getLogger(__name__)

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
AVRO = "application/avro"
PROBLEM = "application/problem+json"
RETRY_AFTER_SECONDS = "2"
MAX_BODY_BYTES = 8 * 1024 * 1024

INTAKE = web.AppKey("intake", Intake)
TOKENS = web.AppKey("tokens", TokenFile)
CONTRACT = web.AppKey("contract", Contract)
METRICS = web.AppKey("metrics", IntakeMetrics)
RATE_LIMIT = web.AppKey("rate_limit", RedisRateLimit)
PSEUDONYMISE: web.AppKey[Callable[[str], str]] = web.AppKey("pseudonymise")
MAX_BATCH = web.AppKey("max_batch", int)
OPENAPI = web.AppKey("openapi", dict)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_app(intake: Intake, tokens: TokenFile, contract: Contract, metrics: IntakeMetrics,
              pseudonymise: Callable[[str], str], max_batch: int, rate_limit: RedisRateLimit) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[count_answers, answer_every_request])
    app[INTAKE], app[TOKENS], app[CONTRACT], app[METRICS] = intake, tokens, contract, metrics
    app[PSEUDONYMISE], app[MAX_BATCH], app[RATE_LIMIT] = pseudonymise, max_batch, rate_limit
    app[OPENAPI] = openapi_document(contract, max_batch)
    app.router.add_post("/v1/events", post_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/openapi.json", openapi)
    return app


@web.middleware
async def count_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every answer by its status code (assist_intake_http_responses_total), for the 5xx and 503 alerts."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        request.app[METRICS].answered(exc.status)
        raise
    request.app[METRICS].answered(response.status)
    return response


@web.middleware
async def answer_every_request(request: web.Request, handler: Handler) -> web.StreamResponse:
    """HTTP errors pass as they are; anything else is our fault: log its type and where, answer 500."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != PROBLEM:
            return _problem(exc.status, exc.reason, headers={k: v for k, v in exc.headers.items()
                                                             if k.lower() not in ("content-type", "content-length")})
        raise
    except Exception as exc:
        # The message is left out on purpose: it may repeat what the caller sent (an identity number).
        where = "".join(traceback.format_tb(exc.__traceback__, limit=-6))
        log.error("intake: unexpected %s answering %s %s\n%s", type(exc).__name__, request.method, request.path,
                  where)
        request.app[METRICS].unexpected_error()
        return _problem(500, "internal error; the request may be retried")


async def post_events(request: web.Request) -> web.Response:
    app = request.app
    token = _bearer_token(request)
    department = app[TOKENS].department(token) if token else None
    if token is None or department is None:
        app[METRICS].rejected("unauthenticated")
        return _problem(401, "a valid department bearer token is required",
                        headers={"WWW-Authenticate": 'Bearer realm="assist-intake"'})
    try:
        wait = await app[RATE_LIMIT].wait_seconds(token_digest(token))
    except Unavailable:
        return _unavailable()
    if wait > 0:
        app[METRICS].rate_limited(department)
        return _problem(429, "too many requests for this token; retry after Retry-After",
                        headers={"Retry-After": retry_after(wait)})
    media = _media_type(request)
    if media is None:
        return _problem(415, "the Content-Type header is not a media type")
    if media == BATCH:
        items = await _json_body(request)
        if not isinstance(items, list) or not items:
            return _invalid(EventProblem(0, None, "", "a batch must be a non-empty JSON array of CloudEvents"))
        if len(items) > app[MAX_BATCH]:
            app[METRICS].rejected("too_large", len(items))
            return _problem(413, f"a batch holds at most {app[MAX_BATCH]} events")
        verdict = judge_structured(app[CONTRACT], department, items, app[PSEUDONYMISE])
    elif media == STRUCTURED:
        verdict = judge_structured(app[CONTRACT], department, [await _json_body(request)], app[PSEUDONYMISE])
    elif any(name.lower().startswith("ce-") for name in request.headers):
        verdict = await _judge_binary(request, department)
    else:
        return _problem(415, f"send {STRUCTURED}, {BATCH}, or binary mode (ce-* headers with an {AVRO} body)")
    return _respond(await app[INTAKE].submit(department, verdict))


def _media_type(request: web.Request) -> str | None:
    """The media type of the body, or None when the header cannot be parsed at all."""
    try:
        return request.content_type
    except (IndexError, ValueError):  # the standard library's MIME parser fails on some parameters ("a;b*")
        return None


def _bearer_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def _json_body(request: web.Request) -> Any:
    body = await request.read()
    try:
        return json.loads(body, parse_float=_json_number)
    except RecursionError:
        reason = "body is not JSON we accept: nested too deeply"
    except ValueError as exc:  # includes UnicodeDecodeError
        reason = f"body is not JSON: {type(exc).__name__}"
    raise web.HTTPBadRequest(text=json.dumps({"title": "invalid request; nothing was accepted", "status": 400,
                                              "errors": [{"index": 0, "id": None, "field": "", "reason": reason}]}),
                             content_type=PROBLEM)


def _json_number(text: str) -> float | int:
    """JSON has one number type: 3.0 is the integer 3 (as JSON Schema reads it), 3.5 stays a float."""
    value = float(text)
    return int(value) if value.is_integer() else value


async def _judge_binary(request: web.Request, department: str) -> Verdict:
    app = request.app
    # aiohttp decodes header bytes as UTF-8 with surrogateescape; encoding back gives the bytes as sent, so the
    # codec's strict reader can refuse what is not UTF-8 instead of it being replaced.
    headers: list[tuple[str, bytes | None]] = [
        ("ce_" + k[3:].lower(), v.encode("utf-8", "surrogateescape")) for k, v in request.headers.items()
        if k.lower().startswith("ce-")]
    headers.append(("content-type", (_media_type(request) or "").encode("utf-8", "surrogateescape")))
    raw_id = request.headers.get("ce-id")
    event_id = answerable_id(raw_id) if raw_id is not None and raw_id.isprintable() else None
    try:
        event = decode_event(app[CONTRACT], await request.read(), headers)
    except ContractError as exc:
        return Verdict((), tuple(EventProblem(0, event_id, e.field, e.reason) for e in exc.errors))
    bad = empty_attributes(event, "ce_") + [FieldError("ce_subject", p.reason)
                                            for p in filter(None, [subject_problem(event.subject)])]
    if bad:
        return Verdict((), tuple(EventProblem(0, event_id, e.field, e.reason) for e in bad))
    return judge_decoded(app[CONTRACT], department, [event], app[PSEUDONYMISE])


def _respond(receipt: Receipt) -> web.Response:
    if receipt.outcome is Outcome.ACCEPTED:
        return web.json_response({
            "accepted": receipt.accepted, "duplicates": receipt.duplicates,
            "events": [{"id": i, "status": s} for i, s in receipt.statuses],
        }, status=202)
    if receipt.outcome is Outcome.UNAVAILABLE:
        return _unavailable()
    if receipt.outcome is Outcome.CONFLICT:
        return _problem(409, "an event of this batch is being published by a concurrent request; retry",
                        headers={"Retry-After": "1"})
    detail = {Outcome.FORBIDDEN: "not allowed for this department", Outcome.TOO_LARGE: "too large"}.get(
        receipt.outcome, "invalid events")
    return _problems(receipt.outcome.value, detail, receipt.problems)


def _invalid(problem: EventProblem) -> web.Response:
    return _problems(400, "invalid request", (problem,))


def _problems(status: int, detail: str, problems: tuple[EventProblem, ...]) -> web.Response:
    return web.json_response({"title": f"{detail}; nothing was accepted", "status": status,
                              "errors": [p.as_json() for p in problems]}, status=status, content_type=PROBLEM)


def _unavailable() -> web.Response:
    return _problem(503, "intake cannot store events right now; nothing was accepted, retry later",
                    headers={"Retry-After": RETRY_AFTER_SECONDS})


def _problem(status: int, title: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"title": title, "status": status}, status=status, headers=headers,
                             content_type=PROBLEM)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def metrics_endpoint(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])
