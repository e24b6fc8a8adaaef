"""The casework web application: the JSON API, the console, /openapi.json, /metrics and /healthz."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.casework.adapters import console, http_api
from services.casework.adapters.openapi import OPENAPI
from services.casework.adapters.staff_file import StaffFile
from services.casework.adapters.tokens import StaffTokens
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
from services.casework.domain.ordering import PriorityBand
from services.casework.metrics import CaseworkMetrics
from services.casework.service import Casework

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HEALTH: web.AppKey[Callable[[], Awaitable[bool]]] = web.AppKey("health")
PUBLIC = ("/login", "/healthz", "/metrics", "/openapi.json", "/console/static/", "/favicon.ico")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
}


def build_app(casework: Casework, tokens: StaffTokens, staff: StaffFile, metrics: CaseworkMetrics,
              staff_token_key: str, health: Callable[[], Awaitable[bool]]) -> web.Application:
    app = web.Application(middlewares=[security_headers, authenticate, http_api.api_problems,
                                       console.console_language], client_max_size=256 * 1024)
    app[CASEWORK], app[TOKENS], app[STAFF], app[METRICS] = casework, tokens, staff, metrics
    app[CSRF_KEY], app[THROTTLE], app[HEALTH] = csrf_key(staff_token_key), LoginThrottle(), health
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
    metrics = request.app[METRICS]
    depths = await request.app[CASEWORK].depths()
    metrics.queue_depth({d.code: {band: d.total(band) for band in PriorityBand} for d in depths})
    return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)
