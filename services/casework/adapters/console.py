"""The caseworker console: server-rendered pages (Jinja2, autoescaped) in Chinese and English.

Every change is a POST form carrying the session's CSRF token, answered by a redirect (post/redirect/get).
"""

from __future__ import annotations

import asyncio
import json
import re
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.casework.adapters.console_text import (
    LANGUAGES,
    language,
    money,
    plain_reasons,
    text,
    unmet_reasons,
    when,
)
from services.casework.adapters.tokens import SESSION_SECONDS
from services.casework.adapters.web_applications import applying_of, for_page
from services.casework.adapters.web_auth import (
    CASEWORK,
    CSRF_FIELD,
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    STAFF,
    THROTTLE,
    TOKENS,
    WHO,
    csrf_for,
    csrf_valid,
    login_csrf_valid,
    new_login_csrf,
    read_form,
    set_cookie,
    who,
)
from services.casework.adapters.web_disclosures import PURPOSES, disclosing_of, may_ask, persons_of, staff_lines
from services.casework.adapters.web_forms import queue_query, verdict_of
from services.casework.adapters.web_outcomes import region_outcomes
from services.casework.domain.ordering import PriorityBand, SlaState, band_of, sla_state
from services.casework.domain.tasks import Status
from services.casework.service import CaseworkError, Invalid
from services.outcomes.domain.figures import OUTCOMES as OUTCOME_NAMES

TEMPLATES = Path(__file__).parent / "templates"
JINJA = web.AppKey("jinja", Environment)
LANG = web.RequestKey("casework.lang", str)
LOGIN_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_DONE = {"claim": "claimed", "unclaim": "unclaimed", "reassign": "reassigned", "apply": "applied"}


def jinja_environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(money=money, when=when, bands=list(PriorityBand), slas=list(SlaState),
                       plain_reasons=plain_reasons, unmet_reasons=unmet_reasons)
    return env


def add_routes(app: web.Application) -> None:
    app[JINJA] = jinja_environment()
    app.router.add_get("/", home)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/console", queue_page)
    app.router.add_post("/console/next", claim_next)
    app.router.add_get("/console/overview", overview_page)
    app.router.add_get("/console/tasks/{task_id}", task_page)
    app.router.add_post("/console/tasks/{task_id}/{command:claim|unclaim|decide|reassign|apply}", task_command)
    app.router.add_post("/console/tasks/{task_id}/disclose", disclose)
    app.router.add_get("/console/static/console.css", stylesheet)
    app.router.add_get("/favicon.ico", no_icon)


async def home(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/console")


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    lang = request[LANG]
    member = request.get(WHO)
    query = dict(request.query)

    def lang_link(code: str) -> str:
        return f"{request.path}?{urlencode({**query, 'lang': code})}"

    flash = None
    if "done" in query:
        flash = {"kind": "done", "text": text(lang, f"done.{query['done']}")}
    elif "error" in query:
        flash = {"kind": "error", "text": text(lang, f"error.{query['error']}")}
    html = request.app[JINJA].get_template(template).render(
        t=partial(text, lang), lang=lang, who=member, csrf=csrf_for(request) if member else "", flash=flash,
        lang_link=lang_link, path=request.path, **context)
    response = web.Response(text=html, content_type="text/html", status=status)
    if request.query.get("lang") in LANGUAGES:
        set_cookie(response, request, LANG_COOKIE, request[LANG], 365 * 24 * 3600)
    return response


@web.middleware
async def console_language(request: web.Request, handler: Any) -> web.StreamResponse:
    request[LANG] = language(request.query.get("lang"), request.cookies.get(LANG_COOKIE),
                             request.headers.get("Accept-Language"))
    response: web.StreamResponse = await handler(request)
    return response


# ---- login -------------------------------------------------------------------------------------------------------

async def login_form(request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
    # The browser may load the page twice (another tab, a favicon sent here): keep the token it already holds.
    token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not LOGIN_TOKEN.fullmatch(token):  # only a token of ours is written back into the page
        token = new_login_csrf()
    response = render(request, "login.html", status, login_csrf=token, error=error,
                      next=_safe_next(request.query.get("next")))
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, 3600)
    return response


async def login(request: web.Request) -> web.Response:
    form = await read_form(request)
    user, password = str(form.get("user", "")).strip(), str(form.get("password", ""))
    if not login_csrf_valid(request, str(form.get(CSRF_FIELD, ""))):
        return await login_form(request, "login.expired", 400)
    throttle = request.app[THROTTLE]
    if not throttle.allowed(user):
        return await login_form(request, "login.throttled", 429)
    member = await asyncio.to_thread(request.app[STAFF].authenticate, user, password)
    if member is None:
        throttle.failed(user)
        return await login_form(request, "login.failed", 401)
    throttle.succeeded(user)
    response = web.HTTPSeeOther(_safe_next(str(form.get("next", ""))))
    set_cookie(response, request, SESSION_COOKIE, request.app[TOKENS].issue(member), SESSION_SECONDS)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    raise response


async def logout(request: web.Request) -> web.Response:
    form = await read_form(request)
    if not csrf_valid(request, str(form.get(CSRF_FIELD, ""))):
        raise web.HTTPSeeOther("/console?error=csrf")
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


def _safe_next(value: str | None) -> str:
    """Only a path of the console itself, never another site."""
    if value and value.startswith("/console") and "//" not in value and "\\" not in value:
        return value
    return "/console"


# ---- pages -------------------------------------------------------------------------------------------------------

async def queue_page(request: web.Request) -> web.Response:
    casework, member = request.app[CASEWORK], who(request)
    filters = {k: v for k, v in request.query.items() if k not in ("lang", "done", "error", "offset")}
    try:
        q = queue_query(request.query)
    except Invalid as exc:
        raise web.HTTPSeeOther(f"/console?error={exc.code}") from None
    listing = await casework.queue(member, q.keep, q.claimed, q.offset, q.limit)
    next_page = None
    if len(listing.items) == q.limit:
        next_page = "/console?" + urlencode({**filters, "offset": q.offset + q.limit})
    return render(request, "queue.html", listing=listing, filters=filters, state=q.state, now=casework.now_ms(),
                  next_page=next_page)


async def task_page(request: web.Request) -> web.Response:
    return await _task_page(request)


async def _task_page(request: web.Request, status_code: int = 200, **shown: Any) -> web.Response:
    """The task page; `shown` the contact details just disclosed (revealed) or why not (refused)."""
    casework, revealed = request.app[CASEWORK], shown.get("revealed")
    try:
        page = await casework.task(who(request), request.match_info["task_id"])
    except CaseworkError as exc:
        return render(request, "error.html", exc.status, code=exc.code)
    record = json.loads(page.task.body)
    offer = record.get("offer")
    status = page.progress.status
    sla = ("withdrawn" if status is Status.WITHDRAWN else "decided" if status.decided
           else sla_state(page.task.due_ms, casework.now_ms()).value)
    review = record.get("review")
    explanation = (offer or {}).get("explanation") or (review or {}).get("explanation")
    return render(request, "task.html", status_code, page=page, record=record, offer=offer, review=review,
                  explanation=explanation, band=band_of(page.task.priority).value, sla=sla,
                  purposes=PURPOSES if may_ask(request, who(request), page) else (),
                  revealed=persons_of(revealed) if revealed else None,
                  disclosure=revealed.disclosure if revealed else None, refused=shown.get("refused"),
                  **await for_page(request, page.task.person_id))


async def overview_page(request: web.Request) -> web.Response:
    casework = request.app[CASEWORK]
    try:
        view = await casework.overview(who(request))
    except CaseworkError as exc:
        return render(request, "error.html", exc.status, code=exc.code)
    return render(request, "overview.html", view=view, now=casework.now_ms(),
                  staff_lines=await staff_lines(request, who(request)), purposes=PURPOSES,
                  outcomes=await region_outcomes(request, who(request)), outcome_names=OUTCOME_NAMES)


async def no_icon(request: web.Request) -> web.Response:
    return web.Response(status=204)


async def stylesheet(request: web.Request) -> web.FileResponse:
    return web.FileResponse(TEMPLATES / "console.css", headers={"Cache-Control": "max-age=3600"})


# ---- commands ----------------------------------------------------------------------------------------------------

async def task_command(request: web.Request) -> web.Response:
    casework, member = request.app[CASEWORK], who(request)
    task_id, command = request.match_info["task_id"], request.match_info["command"]
    form = await read_form(request)
    back = f"/console/tasks/{quote(task_id, safe='')}"
    if not csrf_valid(request, str(form.get(CSRF_FIELD, ""))):
        raise web.HTTPSeeOther(f"{back}?error=csrf")
    field = {k: str(v) for k, v in form.items()}
    try:
        if command == "claim":
            await casework.claim(member, task_id)
        elif command == "unclaim":
            await casework.unclaim(member, task_id)
        elif command == "apply":
            await applying_of(request).apply(member, task_id, field.get("policy_id", ""))
        elif command == "reassign":
            await casework.reassign(member, task_id, field.get("district") or None, field.get("caseworker") or None,
                                    field.get("reason"))
        else:
            verdict = verdict_of(field.get("action"))
            await casework.decide(member, task_id, verdict, field.get("reason"))
            done = verdict.value.lower()
            # A final decision takes the task out of the queue: back to the queue; information keeps it here.
            raise web.HTTPSeeOther(f"{back}?done={done}" if done == "information_requested" else
                                   f"/console?done={done}")
    except CaseworkError as exc:
        raise web.HTTPSeeOther(f"{back}?error={exc.code}") from None
    raise web.HTTPSeeOther(f"{back}?done={_DONE[command]}")


async def disclose(request: web.Request) -> web.Response:
    """Show the household's contact details for the chosen purpose in this answer only (never redirected to, so
    never in a URL, a cache or the browser's history), or the vault's sentence saying why not."""
    form = await read_form(request)
    if not csrf_valid(request, str(form.get(CSRF_FIELD, ""))):
        raise web.HTTPSeeOther(f"/console/tasks/{quote(request.match_info['task_id'], safe='')}?error=csrf")
    try:
        revealed = await disclosing_of(request).disclose(who(request), request.match_info["task_id"],
                                                         str(form.get("purpose", "")))
    except CaseworkError as exc:
        return await _task_page(request, exc.status, refused=exc)
    return await _task_page(request, revealed=revealed)


async def claim_next(request: web.Request) -> web.Response:
    casework, member = request.app[CASEWORK], who(request)
    form = await read_form(request)
    if not csrf_valid(request, str(form.get(CSRF_FIELD, ""))):
        raise web.HTTPSeeOther("/console?error=csrf")
    try:
        answer = await casework.claim_next(member, str(form.get("district", "")) or None)
    except CaseworkError as exc:
        raise web.HTTPSeeOther(f"/console?error={exc.code}") from None
    raise web.HTTPSeeOther(f"/console/tasks/{quote(answer.detail('task_id'), safe='')}?done=claimed")
