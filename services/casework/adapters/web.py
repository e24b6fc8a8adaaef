"""The casework web application: the JSON API, the console, /openapi.json, /metrics and /healthz."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from services.casework.adapters import console, http_api
from services.casework.adapters.openapi import OPENAPI
from services.casework.adapters.staff_file import StaffFile
from services.casework.adapters.tokens import StaffTokens
from services.casework.adapters.web_applications import APPLYING
from services.casework.adapters.web_auth import (
    CASEWORK,
    CSRF_KEY,
    METRICS,
    STAFF,
    THROTTLE,
    TOKENS,
    WHO,
    LoginThrottle,
    csrf_key,
    identify,
)
from services.casework.adapters.web_disclosures import DISCLOSING
from services.casework.adapters.web_outcomes import OUTCOMES
from services.casework.applying import Applying
from services.casework.disclosing import Disclosing
from services.casework.domain.ordering import PriorityBand
from services.casework.metrics import CaseworkMetrics
from services.casework.service import Casework
from services.core.rate_limit import RateLimiter, retry_after
from services.core.settings import load_settings
from services.outcomes.region import RegionOutcomes

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RATE_LIMIT = web.AppKey("rate_limit", RateLimiter)
CLOCK: web.AppKey[Callable[[], float]] = web.AppKey("clock")
RETRY_AFTER_SECONDS = 2
DECIDE_UNAVAILABLE = ("the task store is not answering: the decision may not be recorded and the task stays "
                      "claimed by you until your lease ends; send the same decision again (one already recorded "
                      "is answered as recorded, never twice)")
HEALTH: web.AppKey[Callable[[], Awaitable[bool]]] = web.AppKey("health")
UNLIMITED = ("/healthz", "/readyz", "/metrics", "/openapi.json", "/console/static/", "/favicon.ico")
PUBLIC = ("/login", "/healthz", "/readyz", "/metrics", "/openapi.json", "/console/static/", "/favicon.ico")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
}


def build_app(casework: Casework, tokens: StaffTokens, staff: StaffFile, metrics: CaseworkMetrics,
              staff_token_key: str, health: Callable[[], Awaitable[bool]], rate_limit: RateLimiter | None = None,
              clock: Callable[[], float] = time.monotonic, applying: Applying | None = None,
              disclosing: Disclosing | None = None, outcomes: RegionOutcomes | None = None) -> web.Application:
    """`rate_limit`: requests per member of staff (default: ASSIST_CASEWORK_RATE_PER_SECOND and _BURST).
    `applying`: applications on residents' behalf (without it, applying answers 503).
    `disclosing`: contact details from the identity vault (without it, asking for them answers 503).
    `outcomes`: what the region's work achieved, on the supervisor overview (without it, not shown)."""
    if rate_limit is None:
        settings = load_settings()
        rate_limit = RateLimiter(settings.casework_rate_per_second, settings.casework_rate_burst)
    app = web.Application(middlewares=[security_headers, store_unavailable, authenticate, limit_rate,
                                       http_api.api_problems, console.console_language],
                          client_max_size=256 * 1024)
    app[CASEWORK], app[TOKENS], app[STAFF], app[METRICS] = casework, tokens, staff, metrics
    app[CSRF_KEY], app[THROTTLE], app[HEALTH] = csrf_key(staff_token_key), LoginThrottle(), health
    app[RATE_LIMIT], app[CLOCK] = rate_limit, clock
    if applying is not None:
        app[APPLYING] = applying
    if disclosing is not None:
        app[DISCLOSING] = disclosing
    if outcomes is not None:
        app[OUTCOMES] = outcomes
    http_api.add_routes(app)
    console.add_routes(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/openapi.json", openapi)
    return app


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        raise
    response.headers.update(SECURITY_HEADERS)
    if request.path.startswith(("/console", "/login", "/api/")):
        response.headers["Cache-Control"] = "no-store"
    return response


@web.middleware
async def store_unavailable(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Redis not answering (or every connection busy past the wait) is a 503 to retry, never a 500."""
    try:
        return await handler(request)
    except (RedisError, OSError) as exc:
        log.warning("casework store unavailable for %s %s (%s)", request.method, request.path, type(exc).__name__)
        title = DECIDE_UNAVAILABLE if request.path.endswith("/decide") else "the task store is not answering"
        return _try_later(request, 503, title, "unavailable", str(RETRY_AFTER_SECONDS))


@web.middleware
async def limit_rate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """At most the rate limit's requests per member of staff (every token and session of theirs together)."""
    member = request[WHO]
    if member is not None and not request.path.startswith(UNLIMITED):
        wait = request.app[RATE_LIMIT].take(member.sub, request.app[CLOCK]())
        if wait > 0:
            return _try_later(request, 429, "too many requests; slow down", "rate_limited", retry_after(wait))
    return await handler(request)


def _try_later(request: web.Request, status: int, title: str, code: str, seconds: str) -> web.Response:
    """A 429 or 503 with Retry-After: a problem on the API, plain text for the console."""
    response = (http_api.problem(status, title, {"code": code}) if request.path.startswith("/api/")
                else web.Response(status=status, text=title))
    response.headers["Retry-After"] = seconds
    return response


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Everything but the login page, health, metrics and the OpenAPI document needs a member of staff."""
    request[WHO] = identify(request)
    if request[WHO] is None and request.path != "/" and not request.path.startswith(PUBLIC):
        if request.path.startswith("/api/"):
            response = http_api.problem(401, "a valid staff bearer token is required")
            response.headers["WWW-Authenticate"] = 'Bearer realm="assist-casework"'
            return response
        lang = request.query.get("lang")
        suffix = f"&lang={quote(lang, safe='')}" if lang else ""
        raise web.HTTPSeeOther("/login?next=" + quote(request.path_qs, safe="") + suffix)
    return await handler(request)


async def healthz(request: web.Request) -> web.Response:
    try:
        ok = await request.app[HEALTH]()
    except Exception:  # any failure to reach Redis is a failed check
        ok = False
    return web.json_response({"status": "ok" if ok else "unavailable"}, status=200 if ok else 503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    """Always answers: with the task store unreachable the scrape still reports what is known, and says so."""
    metrics = request.app[METRICS]
    try:
        depths = await request.app[CASEWORK].depths()
    except (RedisError, OSError) as exc:
        log.warning("queue depths not read for /metrics (%s)", type(exc).__name__)
        metrics.store_answered(False)
    else:
        metrics.queue_depth({d.code: {band: d.total(band) for band in PriorityBand} for d in depths})
        metrics.unclaimed({d.code: d.queued for d in depths})
        metrics.store_answered(True)
    disclosing = request.app.get(DISCLOSING)
    if disclosing is not None:
        try:
            await disclosing.refresh_browsing()
        except (RedisError, OSError) as exc:
            log.warning("staff browsing not counted for /metrics (%s)", type(exc).__name__)
    return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)
