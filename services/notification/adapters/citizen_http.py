"""The citizen site and API (aiohttp). A signed link opens a session (a signed, HttpOnly, SameSite=Lax cookie);
every page and API call then shows only the session's own person's offers and inbox: anything else is 404.
Answers are POSTs carrying a CSRF token bound to the session (and a same-origin check when the browser says
where the request came from)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from services.core.rate_limit import RateLimiter, retry_after
from services.core.settings import load_settings
from services.notification.adapters.citizen_openapi import OPENAPI
from services.notification.adapters.citizen_pages import Pages, inbox_model, offer_model
from services.notification.applications import ApplicationDesk
from services.notification.citizen import Answered, CitizenDesk
from services.notification.consent import ConsentDesk
from services.notification.data_use import DataUseDesk
from services.notification.domain.answers import Answer
from services.notification.domain.contact import Language
from services.notification.domain.link import SESSION_HOURS, LinkRefused, Session
from services.notification.metrics import NotificationMetrics
from services.notification.rendering import TEMPLATES
from services.notification.reviews import ReviewDesk

SESSION_COOKIE = "assist_session"
LANGUAGE_COOKIE = "assist_lang"
CSRF_HEADER = "X-CSRF-Token"
DESK = web.AppKey("desk", CitizenDesk)
PAGES = web.AppKey("pages", Pages)
METRICS = web.AppKey("metrics", NotificationMetrics)
SECURE = web.AppKey("secure_cookies", bool)
RATE_LIMIT = web.AppKey("rate_limit", RateLimiter)
CLOCK: web.AppKey[Callable[[], float]] = web.AppKey("clock")
RETRY_AFTER_SECONDS = 2
_UNLIMITED = frozenset({"/static/citizen.css", "/healthz", "/metrics", "/openapi.json"})
log = logging.getLogger(__name__)
_ANSWER_STATUS = {Answered.NOT_FOUND: 404, Answered.ALREADY_ANSWERED: 409, Answered.IN_PROGRESS: 409,
                  Answered.WITHDRAWN: 409, Answered.UNAVAILABLE: 503}
_ANSWER_TEXT = {Answered.NOT_FOUND: "not_found", Answered.ALREADY_ANSWERED: "already",
                Answered.IN_PROGRESS: "already", Answered.WITHDRAWN: "withdrawn_refused",
                Answered.UNAVAILABLE: "unavailable"}
_ANSWER_TITLE = {Answered.WITHDRAWN: "this offer was withdrawn, so it can no longer be accepted or declined"}
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
}


def build_citizen_app(desk: CitizenDesk, metrics: NotificationMetrics, secure_cookies: bool,
                      rate_limit: RateLimiter | None = None,
                      clock: Callable[[], float] = time.monotonic, *,
                      applications: ApplicationDesk, data_use: DataUseDesk | None = None,
                      consent: ConsentDesk | None = None, reviews: ReviewDesk | None = None) -> web.Application:
    """`secure_cookies`: mark cookies Secure (the site is served over https). `rate_limit`: requests per signed-in
    person (default: ASSIST_CITIZEN_RATE_PER_SECOND and ASSIST_CITIZEN_RATE_BURST). `applications`: my
    applications and applying (adapters/citizen_applications.py). `data_use`: the data-use log
    (adapters/citizen_data_use.py; without it the site does not offer one). `consent`: withdrawing consent to SMS
    and e-mail (adapters/citizen_consent.py). `reviews`: asking for a review (adapters/citizen_reviews.py)."""
    if rate_limit is None:
        settings = load_settings()
        rate_limit = RateLimiter(settings.citizen_rate_per_second, settings.citizen_rate_burst)
    app = web.Application(middlewares=[_security_headers, _refusals, _limit_rate],
                          client_max_size=64 * 1024)
    app[DESK], app[METRICS], app[SECURE] = desk, metrics, secure_cookies
    app[PAGES] = Pages(data_use is not None, consent is not None, reviews is not None)
    app[RATE_LIMIT], app[CLOCK] = rate_limit, clock
    app.router.add_get("/", index)
    app.router.add_get("/c/{token}", open_link)
    app.router.add_get("/offers", offers_page)
    app.router.add_get("/offers/{offer_id}", offer_page)
    app.router.add_post("/offers/{offer_id}/answer", answer_form)
    app.router.add_get("/inbox", inbox_page)
    app.router.add_get("/api/v1/session", api_session)
    app.router.add_get("/api/v1/offers", api_offers)
    app.router.add_get("/api/v1/offers/{offer_id}", api_offer)
    app.router.add_post("/api/v1/offers/{offer_id}/answer", api_answer)
    app.router.add_get("/api/v1/inbox", api_inbox)
    # Imported here: the application routes are built on this module's session, page and problem helpers.
    from services.notification.adapters.citizen_applications import add_application_routes
    add_application_routes(app, applications)
    if data_use is not None:
        from services.notification.adapters.citizen_data_use import add_data_use_routes
        add_data_use_routes(app, data_use)
    if consent is not None:
        from services.notification.adapters.citizen_consent import add_consent_routes
        add_consent_routes(app, consent)
    if reviews is not None:
        from services.notification.adapters.citizen_reviews import add_review_routes
        add_review_routes(app, reviews)
    app.router.add_get("/static/citizen.css", stylesheet)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)
    return app


@web.middleware
async def _security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        _harden(request, exc)
        raise
    _harden(request, response)
    return response


@web.middleware
async def _refusals(request: web.Request, handler: Any) -> web.StreamResponse:
    """Redis not answering (or every connection busy past the wait) is a 503 to retry, never a 500; a body past
    the size limit is a 413 problem on the API (the pages keep aiohttp's text)."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except (RedisError, OSError) as exc:
        log.warning("citizen store unavailable for %s %s (%s)", request.method, request.path, type(exc).__name__)
        return _try_later(request, 503, "the service is busy or restarting; try again in a moment",
                          str(RETRY_AFTER_SECONDS))
    except web.HTTPRequestEntityTooLarge:
        if _is_page(request):
            raise
        return _problem(413, f"the body is larger than {request.client_max_size} bytes")
    except web.HTTPClientError as exc:  # no such route or method on the API: a problem as well
        if _is_page(request) or exc.content_type == "application/problem+json":
            raise
        refused = _problem(exc.status, exc.reason.lower())
        if "Allow" in exc.headers:
            refused.headers["Allow"] = exc.headers["Allow"]
        return refused


@web.middleware
async def _limit_rate(request: web.Request, handler: Any) -> web.StreamResponse:
    """At most the rate limit's requests per signed-in person (all their sessions together)."""
    session = None if request.path in _UNLIMITED else _session(request)
    if session is not None:
        wait = request.app[RATE_LIMIT].take(session.person_id, request.app[CLOCK]())
        if wait > 0:
            return _try_later(request, 429, "too many requests; try again in a moment", retry_after(wait))
    response: web.StreamResponse = await handler(request)
    return response


def _try_later(request: web.Request, status: int, title: str, seconds: str) -> web.Response:
    """A 429 or 503 with Retry-After: a problem on the API, plain text for the pages."""
    response = (web.Response(status=status, text=title, content_type="text/plain") if _is_page(request)
                else _problem(status, title))
    response.headers["Retry-After"] = seconds
    return response


def _is_page(request: web.Request) -> bool:
    return not request.path.startswith("/api/")


def _harden(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in _HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path != "/static/citizen.css":
        response.headers.setdefault("Cache-Control", "no-store")


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


# ---- session and language ------------------------------------------------------------------------------------

def _session(request: web.Request) -> Session | None:
    return request.app[DESK].session(request.cookies.get(SESSION_COOKIE))


async def _language(request: web.Request, session: Session | None) -> Language:
    chosen = Language.parse(request.query.get("lang")) or Language.parse(request.cookies.get(LANGUAGE_COOKIE))
    if chosen is None and session is not None:
        chosen = await request.app[DESK].language(session.person_id)
    return chosen or Language.ZH_CN


def _cookie(request: web.Request, response: web.StreamResponse, name: str, value: str, seconds: int) -> None:
    response.set_cookie(name, value, max_age=seconds, path="/", httponly=True, samesite="Lax",
                        secure=request.app[SECURE])


async def _page(request: web.Request, session: Session | None, name: str, status: int = 200,
                **values: Any) -> web.Response:
    language = await _language(request, session)
    if "text" in values:
        values["text"] = request.app[PAGES].text(language, values["text"])
    body = request.app[PAGES].render(name, language, session is not None, **values)
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    if Language.parse(request.query.get("lang")):
        _cookie(request, response, LANGUAGE_COOKIE, language.value, 365 * 24 * 3600)
    return response


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    try:
        return origin != "null" and urlsplit(origin).netloc == request.host
    except ValueError:  # not a URL at all (an unclosed IPv6 bracket): not this site
        return False


async def _form(request: web.Request) -> MultiDictProxy[Any]:
    """The submitted form; an empty one when its bytes are not text (every check on it then refuses)."""
    try:
        return await request.post()
    except (UnicodeDecodeError, ValueError):
        return MultiDictProxy(MultiDict())


async def signed_form(request: web.Request) -> tuple[Session, MultiDictProxy[Any]] | web.Response:
    """The session and submitted form of a page's POST, or the page refusing it: 401 without a session, 403 when
    the CSRF token is missing or wrong or the request is cross-site."""
    session = _session(request)
    if session is None:
        return await _page(request, None, "message", 401, text="sign_in")
    form = await _form(request)
    token = form.get("csrf_token")
    if not _same_origin(request) or not request.app[DESK].signer.csrf_ok(session, token if isinstance(
            token, str) else None):
        return await _page(request, session, "message", 403, text="forbidden")
    return session, form


async def signed_json(request: web.Request) -> tuple[Session, dict[str, Any]] | web.Response:
    """The session and JSON object of an API POST, or the problem refusing it (401, 403 without the CSRF header,
    400 when the body is not a JSON object)."""
    session = _api_session(request)
    if not _same_origin(request) or not request.app[DESK].signer.csrf_ok(session, request.headers.get(CSRF_HEADER)):
        return _problem(403, f"a valid {CSRF_HEADER} header is required (the session's csrf_token)")
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return _problem(400, "the body must be JSON")
    if not isinstance(body, dict):
        return _problem(400, "the body must be a JSON object")
    return session, body


# ---- pages -----------------------------------------------------------------------------------------------------

async def index(request: web.Request) -> web.Response:
    session = _session(request)
    if session is not None:
        return _redirect("/offers")
    return await _page(request, None, "message", text="sign_in")


async def open_link(request: web.Request) -> web.Response:
    try:
        claims, cookie = request.app[DESK].open_link(request.match_info["token"])
    except LinkRefused as refused:
        return await _page(request, None, "message", 403, text=f"link_{refused.reason}")
    response = _redirect(f"/offers/{claims.offer_id}")
    _cookie(request, response, SESSION_COOKIE, cookie, SESSION_HOURS * 3600)
    return response


async def offers_page(request: web.Request) -> web.Response:
    session = _session(request)
    if session is None:
        return await _page(request, None, "message", 401, text="sign_in")
    language = await _language(request, session)
    views = await request.app[DESK].offers(session.person_id)
    return await _page(request, session, "offers", offers=[offer_model(v, language) for v in views])


async def offer_page(request: web.Request) -> web.Response:
    session = _session(request)
    if session is None:
        return await _page(request, None, "message", 401, text="sign_in")
    view = await request.app[DESK].offer(session.person_id, request.match_info["offer_id"])
    if view is None:
        return await _page(request, session, "message", 404, text="not_found")
    language = await _language(request, session)
    return await _page(request, session, "offer", offer=offer_model(view, language),
                       csrf_token=request.app[DESK].signer.csrf_token(session))


async def answer_form(request: web.Request) -> web.Response:
    signed = await signed_form(request)
    if isinstance(signed, web.Response):
        return signed
    session, form = signed
    answer = _answer_of(form.get("answer"))
    if answer is None:
        return await _page(request, session, "message", 400, text="forbidden")
    offer_id = request.match_info["offer_id"]
    result = await request.app[DESK].answer(session.person_id, offer_id, answer)
    if result.outcome is Answered.RECORDED:
        lang = Language.parse(request.query.get("lang"))
        return _redirect(f"/offers/{offer_id}" + (f"?lang={lang.value}" if lang else ""))
    return await _page(request, session, "message", _ANSWER_STATUS[result.outcome],
                       text=_ANSWER_TEXT[result.outcome])


async def inbox_page(request: web.Request) -> web.Response:
    session = _session(request)
    if session is None:
        return await _page(request, None, "message", 401, text="sign_in")
    items = await request.app[DESK].inbox(session.person_id)
    return await _page(request, session, "inbox", items=[inbox_model(i) for i in items])


# ---- JSON API ------------------------------------------------------------------------------------------------

def _problem(status: int, title: str) -> web.Response:
    return web.json_response({"title": title, "status": status}, status=status,
                             content_type="application/problem+json")


def _answer_of(value: object) -> Answer | None:
    """ACCEPTED or DECLINED, exactly as the page's buttons and the API document spell them."""
    return Answer(value) if value in (Answer.ACCEPTED.value, Answer.DECLINED.value) else None


def _api_session(request: web.Request, takes_lang: bool = False) -> Session:
    """The session of an API call whose query holds only what the operation takes; 400 or 401 otherwise."""
    unknown = sorted(set(request.query) - ({"lang"} if takes_lang else set()))
    if unknown:
        raise _refused(400, f"this operation takes no query parameter {unknown[0]!r}")
    if "lang" in request.query and Language.parse(request.query.get("lang")) is None:
        raise _refused(400, "lang must be zh_CN or en")
    session = _session(request)
    if session is None:
        raise _refused(401, "open the signed link first")
    return session


def _refused(status: int, title: str) -> web.HTTPException:
    refusal = web.HTTPBadRequest if status == 400 else web.HTTPUnauthorized
    return refusal(text=json.dumps({"title": title, "status": status}), content_type="application/problem+json")


async def api_session(request: web.Request) -> web.Response:
    session = _api_session(request)
    language = await _language(request, session)
    return web.json_response({"person_id": session.person_id, "language": language.value,
                              "expires": session.expires.isoformat(),
                              "csrf_token": request.app[DESK].signer.csrf_token(session)})


async def api_offers(request: web.Request) -> web.Response:
    session = _api_session(request, takes_lang=True)
    language = await _language(request, session)
    views = await request.app[DESK].offers(session.person_id)
    return web.json_response({"offers": [offer_model(v, language) for v in views]})


async def api_offer(request: web.Request) -> web.Response:
    session = _api_session(request, takes_lang=True)
    view = await request.app[DESK].offer(session.person_id, request.match_info["offer_id"])
    if view is None:
        return _problem(404, "no such offer")
    return web.json_response(offer_model(view, await _language(request, session)))


async def api_answer(request: web.Request) -> web.Response:
    session = _api_session(request)
    if not _same_origin(request) or not request.app[DESK].signer.csrf_ok(session, request.headers.get(CSRF_HEADER)):
        return _problem(403, f"a valid {CSRF_HEADER} header is required")
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return _problem(400, "the body must be JSON")
    answer = _answer_of(body.get("answer") if isinstance(body, dict) else None)
    if answer is None:
        return _problem(400, "answer must be ACCEPTED or DECLINED")
    result = await request.app[DESK].answer(session.person_id, request.match_info["offer_id"], answer)
    if result.outcome is not Answered.RECORDED or result.view is None:
        return _problem(_ANSWER_STATUS.get(result.outcome, 500),
                        _ANSWER_TITLE.get(result.outcome, result.outcome.value.replace("_", " ")))
    return web.json_response(offer_model(result.view, await _language(request, session)))


async def api_inbox(request: web.Request) -> web.Response:
    session = _api_session(request)
    items = await request.app[DESK].inbox(session.person_id)
    return web.json_response({"items": [inbox_model(i) for i in items]})


# ---- the rest ------------------------------------------------------------------------------------------------

async def stylesheet(request: web.Request) -> web.FileResponse:
    return web.FileResponse(TEMPLATES / "pages" / "citizen.css", headers={"Cache-Control": "max-age=3600"})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def metrics_endpoint(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(request.app[METRICS].registry),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})
