"""The caseworker JSON API under /api/v1 (aiohttp). Refusals are problem+json with the status that says why:
400 invalid, 401 unauthenticated, 403 not for this role or no CSRF header, 404 no such task in one's scope, 409
conflict (claimed by someone else, reserved, decided, not the holder, withdrawn by matching), 413 body too large,
429 too many requests, 503 while the queues are rebuilt or Redis does not answer (with Retry-After)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from services.casework.adapters.web_applications import application_json, applying_of, for_page
from services.casework.adapters.web_auth import CASEWORK, CSRF_HEADER, csrf_valid, who
from services.casework.adapters.web_disclosures import disclosing_of, revealed_json, staff_line_json, staff_lines
from services.casework.adapters.web_forms import queue_query, verdict_of
from services.casework.adapters.web_outcomes import region_outcomes, region_outcomes_json
from services.casework.domain.ordering import sla_state
from services.casework.domain.revisions import Revision
from services.casework.domain.tasks import Status
from services.casework.domain.views import AuditEntry, Overview, QueueDepth, QueueItem, TaskPage
from services.casework.service import Answer, CaseworkError, Invalid

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FILTERS = frozenset({"district", "band", "due_before", "sla", "policy", "state", "offset", "limit"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/me", me)
    app.router.add_get("/api/v1/tasks", list_tasks)
    app.router.add_post("/api/v1/tasks/next", claim_next)
    app.router.add_get("/api/v1/tasks/{task_id}", task_detail)
    app.router.add_post("/api/v1/tasks/{task_id}/claim", claim)
    app.router.add_post("/api/v1/tasks/{task_id}/unclaim", unclaim)
    app.router.add_post("/api/v1/tasks/{task_id}/decide", decide)
    app.router.add_post("/api/v1/tasks/{task_id}/reassign", reassign)
    app.router.add_post("/api/v1/tasks/{task_id}/applications", apply)
    app.router.add_post("/api/v1/tasks/{task_id}/disclosures", disclose)
    app.router.add_get("/api/v1/overview", overview)


@web.middleware
async def api_problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refusals of the service as problem+json; changes by session cookie need the CSRF header."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    if request.method == "POST" and not csrf_valid(request, request.headers.get(CSRF_HEADER)):
        return problem(403, f"a request authenticated by the session cookie needs the {CSRF_HEADER} header")
    try:
        return await handler(request)
    except CaseworkError as exc:
        body: dict[str, Any] = {"code": exc.code}
        if exc.holder:
            body["holder"] = exc.holder
        if exc.field:
            body["field"] = exc.field
        response = problem(exc.status, str(exc), body)
        if exc.status == 503:
            response.headers["Retry-After"] = "2"
        return response
    except web.HTTPRequestEntityTooLarge:
        return problem(413, f"the body is larger than {request.client_max_size} bytes", {"code": "too_large"})
    except web.HTTPClientError as exc:  # no such route, or a method it does not take: a problem too
        response = problem(exc.status, exc.reason.lower())
        if "Allow" in exc.headers:
            response.headers["Allow"] = _allowed(request, exc.headers["Allow"])
        return response


def _allowed(request: web.Request, matched: str) -> str:
    """The methods of a fixed path (/api/v1/tasks/next), not also those of a template it happens to fit."""
    for resource in request.app.router.resources():
        if resource.canonical == request.path and "{" not in resource.canonical:
            return ",".join(sorted({route.method for route in resource}))
    return matched


def problem(status: int, title: str, extra: dict[str, Any] | None = None) -> web.Response:
    return web.json_response({"title": title, "status": status, **(extra or {})}, status=status,
                             content_type="application/problem+json")


def iso(ms: int) -> str | None:
    if not ms:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = json.loads(await request.read())
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise Invalid("the body is not JSON", "body") from None
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object", "body")
    return body


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise Invalid(f"{name} must be a string", "body")
    if value is not None and not _is_text(value):
        raise Invalid(f"{name} must be text (it holds an unpaired surrogate)", "body")
    return value


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ---- shapes ------------------------------------------------------------------------------------------------------

def item_json(item: QueueItem, now_ms: int) -> dict[str, Any]:
    return {
        "task_id": item.task_id, "kind": item.kind, "district": item.district, "queue": item.queue,
        "priority": item.priority, "band": item.band.value, "due_at": iso(item.due_ms), "sla": item.sla(now_ms).value,
        "status": item.status.value, "holder": item.holder or None, "assignee": item.assignee or None,
        "escalated": item.escalated, "information_requested_at": iso(item.info_requested_ms),
        "policy_id": item.policy_id, "policy_name": item.policy_name, "amount_fen": item.amount_fen,
        "reason": item.reason,
    }


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    body = {"seq": entry.seq, "action": entry.action, "actor": entry.actor, "at": iso(entry.at_ms),
            "district": entry.district, "reason": entry.reason or None, "assignee": entry.assignee or None,
            "lease_until": iso(entry.lease_until_ms), "decision_id": entry.decision_id or None}
    if entry.revision is not None:
        body["revision"] = revision_json(entry.revision)
    return body


def revision_json(revision: Revision) -> dict[str, Any]:
    return {"change": revision.change, "number": revision.number, "at": iso(revision.at_ms),
            "reason": revision.reason, "previous_amount_fen": revision.previous_amount_fen,
            "amount_fen": revision.amount_fen, "changed_facts": list(revision.changed_facts),
            "previous_summary": revision.previous_summary, "previous_computation": revision.previous_computation,
            "summary": revision.summary, "computation": revision.computation, "held_by": revision.held_by or None}


def page_json(page: TaskPage, now_ms: int) -> dict[str, Any]:
    record = json.loads(page.task.body)
    p = page.progress
    offer = record.get("offer")
    return {
        "task_id": page.task.task_id, "kind": page.task.kind, "household_id": page.task.household_id,
        "person_id": page.task.person_id, "district": p.district, "origin_district": page.task.district,
        "queue": p.queue, "priority": page.task.priority, "due_at": iso(page.task.due_ms),
        "sla": _closed_sla(p.status) or _sla(page, now_ms), "created_at": iso(page.task.created_ms),
        "reason": page.task.reason, "risk_tier": record.get("risk_tier"), "status": p.status.value,
        "holder": p.holder or None, "lease_until": iso(p.lease_until_ms), "assignee": p.assignee or None,
        "escalated": p.escalated, "information_requested_at": iso(p.info_requested_ms),
        "decided_at": iso(p.decided_at_ms), "decided_by": p.decided_by or None,
        "offer": offer, "explanation": (offer or {}).get("explanation"),
        "evidence_event_ids": record.get("evidence_event_ids", []), "change": record.get("change") or "NEW",
        "review": record.get("review"), "revisions": [revision_json(r) for r in page.revisions],
        "audit": [audit_json(e) for e in page.timeline],
    }


def _closed_sla(status: Status) -> str | None:
    """'decided' or 'withdrawn' for a closed task; None while it is open."""
    if status is Status.WITHDRAWN:
        return "withdrawn"
    return "decided" if status.decided else None


def _sla(page: TaskPage, now_ms: int) -> str:
    return sla_state(page.task.due_ms, now_ms).value


def depth_json(depth: QueueDepth) -> dict[str, Any]:
    return {"queue": depth.queue, "code": depth.code, "escalated": depth.escalated,
            "queued": {b.value: n for b, n in depth.queued.items()},
            "claimed": {b.value: n for b, n in depth.claimed.items()}, "total": depth.total()}


def overview_json(view: Overview, now_ms: int) -> dict[str, Any]:
    return {"region": view.region, "queues": [depth_json(d) for d in view.depths],
            "breaches": [item_json(i, now_ms) for i in view.breaches],
            "breaches_by_district": view.breaches_by_district}


def answer_json(task_id: str, answer: Answer) -> dict[str, Any]:
    body: dict[str, Any] = {"task_id": answer.detail("task_id") or task_id, "transitions": [
        {"action": e.action, "district": e.district, "decision_id": e.decision_id} for e in answer.emitted]}
    if answer.detail("lease_until"):
        body["lease_until"] = iso(int(answer.detail("lease_until")))
    return body


# ---- handlers ----------------------------------------------------------------------------------------------------

async def me(request: web.Request) -> web.Response:
    member = who(request)
    return web.json_response({"sub": member.sub, **member.claims()})


async def list_tasks(request: web.Request) -> web.Response:
    casework = request.app[CASEWORK]
    unknown = sorted(set(request.query) - FILTERS)
    if unknown:
        raise Invalid(f"unknown filter {unknown[0]!r}; filters: {', '.join(sorted(FILTERS))}", "filter")
    empty = sorted(name for name, value in request.query.items() if not value.strip())
    if empty:  # the console's form sends empty fields; an API client means something by each one it sends
        raise Invalid(f"{empty[0]} is empty", "filter")
    q = queue_query(request.query)
    listing = await casework.queue(who(request), q.keep, q.claimed, q.offset, q.limit)
    now = casework.now_ms()
    return web.json_response({"tasks": [item_json(i, now) for i in listing.items], "offset": q.offset,
                              "limit": q.limit, "truncated": listing.truncated})


async def task_detail(request: web.Request) -> web.Response:
    casework = request.app[CASEWORK]
    page = await casework.task(who(request), request.match_info["task_id"])
    shown = await for_page(request, page.task.person_id)
    return web.json_response({**page_json(page, casework.now_ms()),
                              "applications": [application_json(a) for a in shown["applications"]]})


async def apply(request: web.Request) -> web.Response:
    """Apply for a programme on behalf of the resident the task names."""
    policy_id = _text(await _body(request), "policy_id")
    if not policy_id:
        raise Invalid("policy_id: the policy id of a programme is required", "policy")
    application = await applying_of(request).apply(who(request), request.match_info["task_id"], policy_id)
    return web.json_response(application_json(application), status=201)


async def disclose(request: web.Request) -> web.Response:
    """The contact details of the task's household for a purpose, recorded on assist.disclosures first."""
    purpose = _text(await _body(request), "purpose")
    if not purpose:
        raise Invalid("purpose: choose why you need the details: one of VISIT, VERIFY, DELIVER_NOTICE", "purpose",
                      field="purpose")
    revealed = await disclosing_of(request).disclose(who(request), request.match_info["task_id"], purpose)
    return web.json_response(revealed_json(revealed))


async def claim(request: web.Request) -> web.Response:
    task_id = request.match_info["task_id"]
    return web.json_response(answer_json(task_id, await request.app[CASEWORK].claim(who(request), task_id)))


async def claim_next(request: web.Request) -> web.Response:
    body = await _body(request)
    answer = await request.app[CASEWORK].claim_next(who(request), _text(body, "district"))
    return web.json_response(answer_json("", answer))


async def unclaim(request: web.Request) -> web.Response:
    task_id = request.match_info["task_id"]
    return web.json_response(answer_json(task_id, await request.app[CASEWORK].unclaim(who(request), task_id)))


async def decide(request: web.Request) -> web.Response:
    task_id = request.match_info["task_id"]
    body = await _body(request)
    answer = await request.app[CASEWORK].decide(who(request), task_id, verdict_of(_text(body, "action")),
                                                _text(body, "reason"))
    return web.json_response(answer_json(task_id, answer))


async def reassign(request: web.Request) -> web.Response:
    task_id = request.match_info["task_id"]
    body = await _body(request)
    district, caseworker = _text(body, "district"), _text(body, "caseworker")
    if not district and not caseworker:
        raise Invalid("name a district, a caseworker or both", "body")
    answer = await request.app[CASEWORK].reassign(who(request), task_id, district, caseworker, _text(body, "reason"))
    return web.json_response(answer_json(task_id, answer))


async def overview(request: web.Request) -> web.Response:
    casework = request.app[CASEWORK]
    body = overview_json(await casework.overview(who(request)), casework.now_ms())
    lines = await staff_lines(request, who(request))
    if lines is not None:
        body["staff"] = [staff_line_json(line) for line in lines]
    figures = await region_outcomes(request, who(request))
    if figures is not None:
        body["outcomes"] = region_outcomes_json(figures)
    return web.json_response(body)
