"""The citizen site's applications: "my applications" with matching's answers in plain words, and the form (and
API) to apply for a programme of the current catalogue. Applying is a POST with the session's CSRF token; a bad
programme is refused naming policy_id, a missing or wrong token naming csrf_token (X-CSRF-Token on the API)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.core.resident_applications import ApplicationRefused
from services.notification.adapters import citizen_http as site
from services.notification.adapters.citizen_pages import application_model
from services.notification.applications import ApplicationDesk
from services.notification.domain.contact import Language
from services.notification.domain.link import Session
from services.notification.domain.wording import policy_name
from services.notification.ports import Unavailable

APPLICATIONS = web.AppKey("applications", ApplicationDesk)
_REFUSED_STATUS = {"invalid": 400, "unknown": 404, "unavailable": 503}
"""A malformed policy id is 400, one the catalogue does not hold 404, no catalogue read yet 503 (try again)."""


def add_application_routes(app: web.Application, applications: ApplicationDesk) -> None:
    app[APPLICATIONS] = applications
    app.router.add_get("/applications", applications_page)
    app.router.add_post("/applications", apply_form)
    app.router.add_get("/api/v1/applications", api_applications)
    app.router.add_post("/api/v1/applications", api_apply)


async def _listing(request: web.Request, session: Session, language: Language) -> dict[str, Any]:
    desk = request.app[APPLICATIONS]
    programmes = await desk.programmes()
    return {"programmes": [{"policy_id": p.policy_id,
                            "name": policy_name({"policy_id": p.policy_id, "policy_name": p.name,
                                                 "policy_names": {"zh-CN": p.name_zh}}, language)}
                           for p in (programmes.items if programmes else ())],
            "applications": [application_model(a, language) for a in await desk.applications(session.person_id)]}


async def applications_page(request: web.Request, notice: str | None = None, status: int = 200) -> web.Response:
    session = site._session(request)
    if session is None:
        return await site._page(request, None, "message", 401, text="sign_in")
    language = await site._language(request, session)
    pages = request.app[site.PAGES]
    return await site._page(request, session, "applications", status,
                            csrf_token=request.app[site.DESK].signer.csrf_token(session),
                            notice=pages.text(language, notice) if notice else None,
                            **await _listing(request, session, language))


async def apply_form(request: web.Request) -> web.Response:
    session = site._session(request)
    if session is None:
        return await site._page(request, None, "message", 401, text="sign_in")
    form = await site._form(request)
    token = form.get("csrf_token")
    if not site._same_origin(request) or not request.app[site.DESK].signer.csrf_ok(
            session, token if isinstance(token, str) else None):
        return await site._page(request, session, "message", 403, text="forbidden")
    policy_id = form.get("policy_id")
    try:
        await request.app[APPLICATIONS].apply(session.person_id, policy_id if isinstance(policy_id, str) else "")
    except ApplicationRefused as refused:
        return await applications_page(request, "no_catalogue" if refused.kind == "unavailable" else "bad_programme",
                                       _REFUSED_STATUS[refused.kind])
    except Unavailable:
        return await site._page(request, session, "message", 503, text="unavailable")
    lang = Language.parse(request.query.get("lang"))
    return site._redirect("/applications" + (f"?lang={lang.value}" if lang else ""))


async def api_applications(request: web.Request) -> web.Response:
    session = site._api_session(request, takes_lang=True)
    language = await site._language(request, session)
    return web.json_response(await _listing(request, session, language))


async def api_apply(request: web.Request) -> web.Response:
    session = site._api_session(request)
    if not site._same_origin(request) or not request.app[site.DESK].signer.csrf_ok(
            session, request.headers.get(site.CSRF_HEADER)):
        return site._problem(403, f"a valid {site.CSRF_HEADER} header is required (the session's csrf_token)")
    try:
        body = await request.json()
    except (ValueError, RecursionError):
        return site._problem(400, "the body must be JSON")
    policy_id = body.get("policy_id") if isinstance(body, dict) else None
    if not isinstance(policy_id, str):
        return site._problem(400, "policy_id: a programme's policy id (text) is required")
    try:
        application = await request.app[APPLICATIONS].apply(session.person_id, policy_id)
    except ApplicationRefused as refused:
        problem = site._problem(_REFUSED_STATUS[refused.kind], str(refused))
        if refused.kind == "unavailable":
            problem.headers["Retry-After"] = "60"
        return problem
    except Unavailable:
        return site._problem(503, "the application could not be recorded just now; try again in a moment")
    language = await site._language(request, session)
    return web.json_response(application_model(application, language), status=201)
