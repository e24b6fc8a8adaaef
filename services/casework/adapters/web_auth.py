"""Who is asking: a Bearer token (API clients) or the console's session cookie holding the same signed token.
Cookie-authenticated changes carry a CSRF token bound to the session; the login form a double-submit token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from services.casework.adapters.staff_file import StaffFile
from services.casework.adapters.tokens import StaffTokens
from services.casework.domain.scope import Staff
from services.casework.metrics import CaseworkMetrics
from services.casework.service import Casework

SESSION_COOKIE = "casework_session"
LOGIN_CSRF_COOKIE = "casework_login"
LANG_COOKIE = "casework_lang"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"

CASEWORK = web.AppKey("casework", Casework)
TOKENS = web.AppKey("tokens", StaffTokens)
STAFF = web.AppKey("staff", StaffFile)
METRICS = web.AppKey("metrics", CaseworkMetrics)
CSRF_KEY = web.AppKey("csrf_key", bytes)
THROTTLE: web.AppKey[LoginThrottle] = web.AppKey("throttle")
WHO: web.RequestKey[Staff | None] = web.RequestKey("casework.who")
VIA_COOKIE = web.RequestKey("casework.via_cookie", bool)


def csrf_key(staff_token_key: str) -> bytes:
    return hashlib.sha256(b"casework-csrf|" + staff_token_key.encode()).digest()


def session_csrf(key: bytes, session_token: str) -> str:
    """The CSRF token of a session: an HMAC of the session token, so it needs no storage."""
    return hmac.new(key, as_bytes(session_token), hashlib.sha256).hexdigest()[:40]


def as_bytes(text: str) -> bytes:
    """Any text a request can carry as bytes, including header bytes that were not UTF-8 (which aiohttp hands
    over as lone surrogates)."""
    return text.encode("utf-8", "surrogatepass")


def same_secret(presented: str, expected: str) -> bool:
    """Constant-time comparison of a presented token with the expected one, whatever characters it holds."""
    return hmac.compare_digest(as_bytes(presented), as_bytes(expected))


def identify(request: web.Request) -> Staff | None:
    """The member of staff behind the request (Bearer header first, then the session cookie). A console session
    ends as soon as its account is removed or its districts change; an API token lasts until it expires."""
    tokens = request.app[TOKENS]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        request[VIA_COOKIE] = False
        return tokens.verify(token.strip()) if token.isascii() else None  # a signed token is ASCII
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        request[VIA_COOKIE] = True
        member = tokens.verify(cookie) if cookie.isascii() else None
        return member if member is not None and request.app[STAFF].find(member.sub) == member else None
    return None


def who(request: web.Request) -> Staff:
    member = request[WHO]  # set for every request by the authenticate middleware
    if member is None:
        raise web.HTTPUnauthorized()
    return member


def csrf_for(request: web.Request) -> str:
    return session_csrf(request.app[CSRF_KEY], request.cookies.get(SESSION_COOKIE, ""))


def csrf_valid(request: web.Request, presented: str | None) -> bool:
    """Changes made with the session cookie must present the session's CSRF token; Bearer requests need none."""
    if not request.get(VIA_COOKIE, False):
        return True
    return bool(presented) and same_secret(str(presented), csrf_for(request))


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def login_csrf_valid(request: web.Request, presented: str | None) -> bool:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(expected) and bool(presented) and same_secret(str(presented), expected)


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """The submitted form; an empty one when its bytes are not text (every check on it then refuses)."""
    try:
        return await request.post()
    except (UnicodeDecodeError, ValueError):
        return MultiDictProxy(MultiDict())


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="Strict",
                        secure=request.secure)


class LoginThrottle:
    """At most `failures` failed logins per user name within `window` seconds (per process)."""

    def __init__(self, failures: int = 5, window: float = 900.0, max_users: int = 10_000):
        self._failures = failures
        self._window = window
        self._max_users = max_users
        self._seen: dict[str, deque[float]] = {}

    def allowed(self, user: str) -> bool:
        recent = self._recent(user)
        return recent is None or len(recent) < self._failures

    def failed(self, user: str) -> None:
        if len(self._seen) >= self._max_users:
            self._seen.pop(next(iter(self._seen)))
        self._seen.setdefault(user, deque(maxlen=self._failures)).append(time.monotonic())

    def succeeded(self, user: str) -> None:
        self._seen.pop(user, None)

    def _recent(self, user: str) -> deque[float] | None:
        recent = self._seen.get(user)
        if recent is None:
            return None
        cutoff = time.monotonic() - self._window
        while recent and recent[0] < cutoff:
            recent.popleft()
        return recent
