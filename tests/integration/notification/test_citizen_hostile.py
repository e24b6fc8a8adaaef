"""The citizen page and API against what hostile or broken callers send: links, session cookies and CSRF tokens
with non-ASCII or undecodable characters, odd origins, bodies that are not what they claim, oversized bodies.
Every one is refused with the status that says why (a problem body on the API), never a server error."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.core.rate_limit import RateLimiter
from services.core.settings import Settings
from services.notification.adapters.citizen_http import CSRF_HEADER, SESSION_COOKIE
from tests.integration.intake.raw_http import RawAnswer, raw_request
from tests.integration.notification.notification_harness import offer_record, unique
from tests.integration.notification.test_notification_citizen import Site, open_site


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[Site]:
    async with open_site(settings) as s:
        yield s


ODD_BYTES = [b"\xff\xfe", b"\xe4\xbd\xa0\xff", b"\xc3", "é".encode(), b"\x80abc", b"v1.p.o.1.\xff"]


async def send(site: Site, method: str, target: str, headers: list[tuple[str, bytes]], body: bytes = b""
               ) -> RawAnswer:
    server = site.client.server
    return await raw_request(str(server.host), int(server.port or 0), method, target, headers, body)


def signed_in(site: Site, person: str) -> tuple[str, bytes]:
    cookie = site.signer.session_token(person, dt.datetime.now(dt.UTC))
    return "Cookie", f"{SESSION_COOKIE}={cookie}".encode()


async def an_offer(site: Site) -> tuple[str, dict[str, Any]]:
    """A new person with one offer on their page."""
    person = unique("p")
    offer = offer_record(person)
    await site.parts.views.add(person, offer)
    return person, offer


def csrf_of(site: Site, cookie: tuple[str, bytes]) -> str:
    session = site.signer.read_session(cookie[1].decode().partition("=")[2], dt.datetime.now(dt.UTC))
    assert session is not None
    return site.signer.csrf_token(session)


async def test_links_with_non_ascii_or_malformed_signatures_are_refused(site):
    person, offer = await an_offer(site)
    good = site.link(person, offer["offer_id"])
    body, _, signature = good.rpartition(".")
    for target in (f"{body}.%C3%A9%C3%A9", f"{body}.{signature[:-1]}%C3%A9", f"{body}.%ED%A0%80",
                   f"{body}.{signature}%00", "/c/v1.%C3%A9.o.9999999999.AAAA", "/c/v1.p.o.1e99.AAAA",
                   "/c/v1.p.o.99999999999999999999999.AAAA", "/c/" + "v1." * 1000, "/c/%FF%FE",
                   f"{body.replace('/c/v1', '/c/v2')}.{signature}", "/c/....."):
        answer = await send(site, "GET", target, [])
        assert answer.status == 403, (target, answer)
        assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")
    assert (await send(site, "GET", good, [])).status == 303


async def test_non_ascii_or_undecodable_session_cookies_are_no_session(site):
    for value in ODD_BYTES:
        cookie = ("Cookie", SESSION_COOKIE.encode() + b"=" + value)
        for path in ("/api/v1/session", "/api/v1/offers", "/api/v1/inbox"):
            answer = await send(site, "GET", path, [cookie])
            assert answer.status == 401, (value, path, answer)
            answer.problem()
        page = await send(site, "GET", "/offers", [cookie])
        assert page.status == 401, (value, page)
        answer = await send(site, "POST", "/api/v1/offers/o-x/answer", [cookie, (CSRF_HEADER, value)],
                            b'{"answer": "ACCEPTED"}')
        assert answer.status == 401, (value, answer)


async def test_non_ascii_or_undecodable_csrf_tokens_are_refused(site):
    person, offer = await an_offer(site)
    cookie = signed_in(site, person)
    for value in ODD_BYTES:
        answer = await send(site, "POST", f"/api/v1/offers/{offer['offer_id']}/answer",
                            [cookie, (CSRF_HEADER, value), ("Content-Type", b"application/json")],
                            b'{"answer": "ACCEPTED"}')
        assert answer.status == 403, (value, answer)
        answer.problem()
        page = await send(site, "POST", f"/offers/{offer['offer_id']}/answer",
                          [cookie, ("Content-Type", b"application/x-www-form-urlencoded")],
                          b"answer=ACCEPTED&csrf_token=" + value)
        assert page.status == 403, (value, page)
    assert (await site.parts.views.get(person, offer["offer_id"])).state.value == "OFFERED"


async def test_odd_origins_are_cross_site(site):
    person, offer = await an_offer(site)
    cookie = signed_in(site, person)
    csrf = csrf_of(site, cookie)
    for origin in (b"http://[", b"http://[::1", b"null", b"\xff", b"http://evil.example", b"http://%zz"):
        answer = await send(site, "POST", f"/api/v1/offers/{offer['offer_id']}/answer",
                            [cookie, (CSRF_HEADER, csrf.encode()), ("Origin", origin),
                             ("Content-Type", b"application/json")], b'{"answer": "ACCEPTED"}')
        assert answer.status == 403, (origin, answer)
        answer.problem()
    assert (await site.parts.views.get(person, offer["offer_id"])).state.value == "OFFERED"


async def test_answer_bodies_that_are_not_json_objects_are_refused(site):
    person, offer = await an_offer(site)
    cookie = signed_in(site, person)
    headers = [cookie, (CSRF_HEADER, csrf_of(site, cookie).encode()), ("Content-Type", b"application/json")]
    for body in (b"[" * 30_000, b"\xff\xfe", b"[1]", b"null", b'{"answer": "\\ud800"}', b'{"answer": ["ACCEPTED"]}',
                 json.dumps({"answer": "x" * 60_000}).encode()):
        answer = await send(site, "POST", f"/api/v1/offers/{offer['offer_id']}/answer", headers, body)
        assert answer.status == 400, (body[:20], answer)
        answer.problem()
    page = await send(site, "POST", f"/offers/{offer['offer_id']}/answer",
                      [cookie, ("Content-Type", b"application/x-www-form-urlencoded")], b"answer=\xff&csrf_token=\xfe")
    assert page.status == 403, page
    assert (await site.parts.views.get(person, offer["offer_id"])).state.value == "OFFERED"


async def test_odd_offer_ids_languages_and_queries_are_answered(site):
    person = unique("p")
    cookie = signed_in(site, person)
    for offer_id in ("%C3%A9", "%ED%A0%80", "%00", "x" * 4000, "%F0%9F%98%80"):
        answer = await send(site, "GET", f"/api/v1/offers/{offer_id}", [cookie])
        assert answer.status == 404, (offer_id, answer)
        answer.problem()
        assert (await send(site, "GET", f"/offers/{offer_id}", [cookie])).status == 404
    for target in ("/offers?lang=%FF", "/inbox?lang=%ED%A0%80", "/offers?lang=%00", "/?lang=xx"):
        answer = await send(site, "GET", target, [cookie, ("Accept-Language", b"\xff")])
        assert answer.status in (200, 303), (target, answer)
    for target in ("/api/v1/offers?lang=%00", "/api/v1/offers?lang=%FF", "/api/v1/inbox?lang=en", "/api/v1/offers?x=1"):
        answer = await send(site, "GET", target, [cookie])
        assert answer.status == 400, (target, answer)
        answer.problem()
    answer = await send(site, "GET", "/api/v1/offers", [("Cookie", signed_in(site, person)[1] + b"; assist_lang=\xff")])
    assert answer.status == 200


async def test_bodies_of_ten_and_a_hundred_megabytes_are_too_large(site):
    person = unique("p")
    cookie = signed_in(site, person)
    csrf = csrf_of(site, cookie)
    for size in (10 * 1024 * 1024, 100 * 1024 * 1024):
        for path, kind in (("/api/v1/offers/o-x/answer", "application/json"),
                           ("/offers/o-x/answer", "application/x-www-form-urlencoded")):
            response = await site.client.post(path, data=b"{" + b" " * size + b"}", headers={
                "Cookie": cookie[1].decode(), CSRF_HEADER: csrf, "Content-Type": kind})
            assert response.status == 413, (size, path)
    response = await site.client.post("/api/v1/offers/o-x/answer", data=b" " * (10 * 1024 * 1024), headers={
        "Cookie": cookie[1].decode(), CSRF_HEADER: csrf})
    assert (await response.json(content_type=None))["status"] == 413


async def test_requests_past_the_rate_limit_of_a_citizen_answer_429_with_retry_after(settings):
    async with open_site(settings, rate_limit=RateLimiter(rate=0.1, burst=3)) as limited_site:
        person, offer = await an_offer(limited_site)
        first, second = signed_in(limited_site, person), signed_in(limited_site, person)
        for _ in range(3):
            assert (await send(limited_site, "GET", "/api/v1/offers", [first])).status == 200
        for cookie in (first, second):  # both sessions of the same person count together
            answer = await send(limited_site, "GET", "/api/v1/offers", [cookie])
            assert answer.status == 429 and int(answer.headers["retry-after"]) >= 1
            answer.problem()
            page = await send(limited_site, "GET", f"/offers/{offer['offer_id']}", [cookie])
            assert page.status == 429 and "retry-after" in page.headers
        other = signed_in(limited_site, unique("p"))
        assert (await send(limited_site, "GET", "/api/v1/offers", [other])).status == 200
        assert (await send(limited_site, "GET", "/static/citizen.css", [first])).status == 200
        assert (await send(limited_site, "GET", "/healthz", [first])).status == 200
