"""Intake's HTTP API (aiohttp): POST /v1/events in CloudEvents structured, batch or binary mode."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.core.codec import Contract, check_event, decode_event
from services.core.conformance import ContractError
from services.intake.adapters.openapi import OPENAPI
from services.intake.adapters.tokens import TokenFile
from services.intake.domain.submission import EventProblem, Verdict, judge_decoded, judge_structured, subject_problem
from services.intake.metrics import IntakeMetrics
from services.intake.service import Intake, Outcome, Receipt

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
AVRO = "application/avro"
RETRY_AFTER_SECONDS = "2"

INTAKE = web.AppKey("intake", Intake)
TOKENS = web.AppKey("tokens", TokenFile)
CONTRACT = web.AppKey("contract", Contract)
METRICS = web.AppKey("metrics", IntakeMetrics)
PSEUDONYMISE: web.AppKey[Callable[[str], str]] = web.AppKey("pseudonymise")
MAX_BATCH = web.AppKey("max_batch", int)


def build_app(intake: Intake, tokens: TokenFile, contract: Contract, metrics: IntakeMetrics,
              pseudonymise: Callable[[str], str], max_batch: int) -> web.Application:
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app[INTAKE], app[TOKENS], app[CONTRACT], app[METRICS] = intake, tokens, contract, metrics
    app[PSEUDONYMISE], app[MAX_BATCH] = pseudonymise, max_batch
    app.router.add_post("/v1/events", post_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/openapi.json", openapi)
    return app


async def post_events(request: web.Request) -> web.Response:
    app = request.app
    department = _authenticate(request)
    if department is None:
        app[METRICS].rejected("unauthenticated")
        return _problem(401, "a valid department bearer token is required",
                        headers={"WWW-Authenticate": 'Bearer realm="assist-intake"'})
    media = request.content_type
    if media == BATCH:
        items = await _json_body(request)
        if not isinstance(items, list):
            return _problem(400, "a batch must be a JSON array of CloudEvents")
        if len(items) > app[MAX_BATCH]:
            app[METRICS].rejected("too_large", len(items))
            return _problem(413, f"a batch holds at most {app[MAX_BATCH]} events")
        verdict = judge_structured(app[CONTRACT], department, items, app[PSEUDONYMISE])
    elif media == STRUCTURED:
        verdict = judge_structured(app[CONTRACT], department, [await _json_body(request)], app[PSEUDONYMISE])
    elif "ce-id" in request.headers or "ce-type" in request.headers:
        verdict = await _judge_binary(request, department)
    else:
        return _problem(415, f"send {STRUCTURED}, {BATCH}, or binary mode (ce-* headers with an {AVRO} body)")
    return _respond(await app[INTAKE].submit(department, verdict))


def _authenticate(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return request.app[TOKENS].department(token.strip())


async def _json_body(request: web.Request) -> Any:
    try:
        return json.loads(await request.read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise web.HTTPBadRequest(text=json.dumps({"errors": [{"field": "", "reason": f"body is not JSON: {exc}"}]}),
                                 content_type="application/problem+json") from None


async def _judge_binary(request: web.Request, department: str) -> Verdict:
    app = request.app
    headers = [(k.lower().replace("ce-", "ce_", 1), v.encode()) for k, v in request.headers.items()
               if k.lower().startswith("ce-")]
    headers.append(("content-type", request.content_type.encode()))
    event_id = request.headers.get("ce-id")
    try:
        event = decode_event(app[CONTRACT], await request.read(), headers)
        check_event(app[CONTRACT], event)
    except ContractError as exc:
        return Verdict((), tuple(EventProblem(0, event_id, e.field, e.reason) for e in exc.errors))
    bad_subject = subject_problem(event.subject)
    if bad_subject:
        return Verdict((), (EventProblem(0, event_id, bad_subject.field, bad_subject.reason),))
    return judge_decoded(app[CONTRACT], department, [event], app[PSEUDONYMISE])


def _respond(receipt: Receipt) -> web.Response:
    if receipt.outcome is Outcome.ACCEPTED:
        return web.json_response({
            "accepted": receipt.accepted, "duplicates": receipt.duplicates,
            "events": [{"id": i, "status": s} for i, s in receipt.statuses],
        }, status=202)
    if receipt.outcome is Outcome.UNAVAILABLE:
        return _problem(503, "the event log is unavailable; nothing was accepted, retry later",
                        headers={"Retry-After": RETRY_AFTER_SECONDS})
    if receipt.outcome is Outcome.CONFLICT:
        return _problem(409, "an event of this batch is being published by a concurrent request; retry",
                        headers={"Retry-After": "1"})
    detail = "not allowed for this department" if receipt.outcome is Outcome.FORBIDDEN else "invalid events"
    return web.json_response({"title": f"{detail}; nothing was accepted",
                              "errors": [p.as_json() for p in receipt.problems]},
                             status=receipt.outcome.value, content_type="application/problem+json")


def _problem(status: int, title: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"title": title, "status": status}, status=status, headers=headers,
                             content_type="application/problem+json")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def metrics_endpoint(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)
