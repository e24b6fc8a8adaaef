"""The casework API and console against what hostile or broken callers send: non-ASCII and undecodable CSRF
headers, cookies and tokens, bodies that are not what they claim, oversized bodies. Every one is refused with
the status that says why (and a problem body on the API), never a server error."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.casework.adapters.tokens import StaffTokens
from services.casework.adapters.web import build_app
from services.casework.adapters.web_auth import CSRF_HEADER, LOGIN_CSRF_COOKIE, SESSION_COOKIE
from services.casework.domain.scope import Staff, staff
from services.casework.wiring import casework_parts
from services.core.rate_limit import RateLimiter
from tests.integration.casework.test_casework import ALICE, BOB, PASSWORD, Desk, open_desk, task_record
from tests.integration.intake.raw_http import RawAnswer, raw_request


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(tmp_path) as d:
        yield d


ODD_TEXT = ["é", "你好", "\U0001f600", "\x00"]
ODD_BYTES = [b"\xff\xfe", b"\xe4\xbd\xa0\xff", b"\xc3", "é".encode(), b"\x80abc"]


async def send(desk: Desk, method: str, target: str, headers: list[tuple[str, bytes]], body: bytes = b""
               ) -> RawAnswer:
    server = desk.client.server
    return await raw_request(str(server.host), int(server.port or 0), method, target, headers, body)


def session_cookie(desk: Desk) -> tuple[str, bytes]:
    return "Cookie", f"{SESSION_COOKIE}={desk.parts.tokens.issue(ALICE)}".encode()


async def test_non_ascii_or_undecodable_csrf_header_is_refused_with_a_problem(desk):
    for value in ODD_BYTES:
        answer = await send(desk, "POST", "/api/v1/tasks/next", [session_cookie(desk), (CSRF_HEADER, value),
                                                                 ("Content-Type", b"application/json")], b"{}")
        assert answer.status == 403, (value, answer)
        assert CSRF_HEADER in answer.problem()["title"]


async def test_non_ascii_or_undecodable_session_cookie_or_bearer_token_is_unauthenticated(desk):
    for value in ODD_BYTES:
        cookie = ("Cookie", SESSION_COOKIE.encode() + b"=" + value)
        answer = await send(desk, "GET", "/api/v1/me", [cookie])
        assert answer.status == 401, (value, answer)
        answer.problem()
        page = await send(desk, "GET", "/console", [cookie])
        assert page.status == 303 and page.headers["location"].startswith("/login"), (value, page)
        for scheme in (b"Bearer ", b"bearer "):
            answer = await send(desk, "GET", "/api/v1/tasks", [("Authorization", scheme + value)])
            assert answer.status == 401, (value, answer)
            answer.problem()


async def test_login_with_non_ascii_csrf_or_an_undecodable_form_is_refused(desk):
    for cookie in ODD_BYTES:
        for form in ("csrf=%C3%A9&user=alice&password=x", "csrf=%FF%FE&user=%FF&password=%80"):
            answer = await send(desk, "POST", "/login", [
                ("Cookie", LOGIN_CSRF_COOKIE.encode() + b"=" + cookie),
                ("Content-Type", b"application/x-www-form-urlencoded")], form.encode())
            same = cookie == "é".encode() and form.startswith("csrf=%C3%A9")  # the double submit matches
            assert answer.status == (401 if same else 400), (cookie, form, answer)  # 401: wrong password
    for text in ODD_TEXT:
        response = await desk.client.post("/login", data={"user": "alice", "password": PASSWORD, "csrf": text},
                                          cookies={LOGIN_CSRF_COOKIE: "a-real-looking-token"},
                                          allow_redirects=False)
        assert response.status == 400, text


async def test_console_commands_with_non_ascii_csrf_go_back_with_the_csrf_error(desk):
    task = task_record()
    await desk.publish(task)
    await desk.queued(ALICE, {task["task_id"]})
    for text in [*ODD_TEXT, "%FF"]:
        for path in (f"/console/tasks/{task['task_id']}/claim", "/console/next", "/logout"):
            answer = await send(desk, "POST", path, [session_cookie(desk), (
                "Content-Type", b"application/x-www-form-urlencoded")], b"csrf=" + text.encode())
            assert answer.status == 303 and "error=csrf" in answer.headers["location"], (path, text, answer)
    _, page = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", ALICE)
    assert page["status"] == "QUEUED"  # nothing was claimed


async def test_bodies_that_are_not_json_objects_or_not_text_are_refused_with_the_field(desk):
    task = task_record()
    await desk.publish(task)
    await desk.queued(ALICE, {task["task_id"]})
    status, _ = await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", ALICE)
    assert status == 200
    auth = [("Authorization", desk.auth(ALICE)["Authorization"].encode()), ("Content-Type", b"application/json")]
    decide = f"/api/v1/tasks/{task['task_id']}/decide"
    for body in (b"[" * 100_000, b'{"action": ' * 20_000, b"\xff\xfe{}", b"[1, 2]", b'"approve"', b"null"):
        answer = await send(desk, "POST", decide, auth, body)
        assert answer.status == 400 and answer.problem()["code"] == "body", (body[:20], answer)
    for field in ({"action": "\ud800"}, {"action": "request_information", "reason": "bank \ud800 statements"},
                  {"action": "reject", "reason": "x" * 2001}, {"action": ["approve"]}):
        answer = await send(desk, "POST", decide, auth, json.dumps(field).encode())
        assert answer.status == 400, (field, answer)
        assert answer.problem()["code"] in ("action", "reason", "body"), answer.body
    for body in ({"district": "\udc80"}, {"district": 110105}):
        answer = await send(desk, "POST", "/api/v1/tasks/next", auth, json.dumps(body).encode())
        assert answer.status == 400, (body, answer)
    status, page = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", ALICE)
    assert page["status"] == "CLAIMED" and [e["action"] for e in page["audit"]] == ["RECEIVED", "CLAIMED"]


async def test_task_ids_of_any_shape_are_not_found(desk):
    auth = [("Authorization", desk.auth(BOB)["Authorization"].encode())]
    for task_id in ("%C3%A9", "%ED%A0%80", "%00", "..%2F..%2Fetc", "x" * 4000, "%F0%9F%98%80", "%25"):
        for method, suffix in (("GET", ""), ("POST", "/claim"), ("POST", "/unclaim"), ("POST", "/decide")):
            answer = await send(desk, method, f"/api/v1/tasks/{task_id}{suffix}", auth,
                                b'{"action": "approve"}' if suffix == "/decide" else b"")
            assert answer.status == 404, (task_id, suffix, answer)
            answer.problem()
        page = await send(desk, "GET", f"/console/tasks/{task_id}", [session_cookie(desk)])
        assert page.status == 404, (task_id, page)


async def test_odd_query_strings_and_language_headers_are_answered(desk):
    cookie = session_cookie(desk)
    for target in ("/console?lang=%FF%FE", "/console?district=%C3%A9", "/console?due_before=%00",
                   "/console?limit=1e999", "/login?next=%FF&lang=%ED%A0%80"):
        answer = await send(desk, "GET", target, [cookie, ("Accept-Language", b"\xff\xfe")])
        assert answer.status in (200, 303), (target, answer)
    auth = [("Authorization", desk.auth(ALICE)["Authorization"].encode())]
    for query in ("district=%C3%A9", "limit=%FF", "due_before=9999-99-99", "offset=-1", "band=%00", "limit=1e999"):
        answer = await send(desk, "GET", f"/api/v1/tasks?{query}", auth)
        assert answer.status == 400 and answer.problem()["code"] == "filter", (query, answer)


async def test_bodies_of_ten_and_a_hundred_megabytes_are_too_large(desk):
    for size in (10 * 1024 * 1024, 100 * 1024 * 1024):
        response = await desk.client.post("/api/v1/tasks/t-test-x/decide", data=b"{" + b" " * size + b"}",
                                          headers={**desk.auth(ALICE), "Content-Type": "application/json"})
        assert response.status == 413, size
        body = await response.json(content_type=None)
        assert body["status"] == 413 and body["title"]


# ---- many callers at once, and a store that does not answer -------------------------------------------------------

CREW = [staff(f"crew{i}", "caseworker", ["110105"]) for i in range(10)]


async def test_two_hundred_parallel_claims_and_decisions_answer_no_server_error_and_decide_each_task_once(desk):
    tasks = [task_record() for _ in range(100)]
    await desk.publish(*tasks)
    await desk.queued(ALICE, {t["task_id"] for t in tasks}, timeout=30)
    statuses: Counter[int] = Counter()
    base = str(desk.client.make_url(""))

    async def call(session: aiohttp.ClientSession, member: Staff, path: str, body: dict[str, Any] | None = None
                   ) -> int:
        async with session.post(base + path, json=body, headers=desk.auth(member)) as response:
            await response.read()
            statuses[response.status] += 1
            return response.status

    async def work(session: aiohttp.ClientSession, i: int, task_id: str) -> None:
        member, rival = CREW[i % 10], CREW[(i + 5) % 10]
        mine, theirs = await asyncio.gather(call(session, member, f"/api/v1/tasks/{task_id}/claim"),
                                            call(session, rival, f"/api/v1/tasks/{task_id}/claim"))
        holder = member if mine == 200 else rival if theirs == 200 else None
        for _ in range(20):  # a 503 is retried, as a caseworker's console does
            if holder is None or await call(session, holder, f"/api/v1/tasks/{task_id}/decide",
                                            {"action": "approve"}) != 503:
                break
            await asyncio.sleep(0.1)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.wait_for(asyncio.gather(*(work(session, i, t["task_id"]) for i, t in enumerate(tasks))), 60)
    print(f"parallel claims and decisions: {dict(sorted(statuses.items()))}")
    assert not {s for s in statuses if s >= 500 and s != 503}, statuses
    assert statuses[200] >= 200 and statuses[409] >= 1, statuses
    for i, task in enumerate(tasks):
        page = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", CREW[i % 10])
        actions = [e["action"] for e in page[1]["audit"]]
        assert page[1]["status"] == "APPROVED" and actions.count("APPROVED") == 1, (task["task_id"], actions)


async def test_a_decision_the_store_cannot_take_answers_503_and_the_same_decision_sent_again_is_recorded_once(
        desk, tmp_path):
    task = task_record()
    await desk.publish(task)
    await desk.queued(ALICE, {task["task_id"]})
    assert (await desk.call("POST", f"/api/v1/tasks/{task['task_id']}/claim", ALICE))[0] == 200
    settings = replace(desk.settings, casework_redis_wait_seconds=0.2)
    async with casework_parts(settings, kafka=False, staff_file=tmp_path / "staff.json", max_connections=1) as parts:
        app = build_app(parts.casework, parts.tokens, parts.staff, parts.metrics, settings.staff_token_key,
                        parts.redis.ping)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            decide = f"/api/v1/tasks/{task['task_id']}/decide"
            held = await parts.redis.connection_pool.get_connection()  # every connection of the pool is busy
            try:
                response = await client.post(decide, json={"action": "approve"}, headers=desk.auth(ALICE))
                assert response.status == 503 and response.headers["Retry-After"].isdigit()
                problem = await response.json(content_type="application/problem+json")
                assert problem["code"] == "unavailable" and "claimed by you" in problem["title"]
                health = await client.get("/healthz")
                assert health.status == 503
            finally:
                await parts.redis.connection_pool.release(held)
            _, page = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", ALICE)
            assert (page["status"], page["holder"]) == ("CLAIMED", "alice")  # said so, and still Alice's
            first = await client.post(decide, json={"action": "approve"}, headers=desk.auth(ALICE))
            again = await client.post(decide, json={"action": "approve"}, headers=desk.auth(ALICE))
            assert (first.status, again.status) == (200, 200)
            assert (await first.json())["transitions"] == (await again.json())["transitions"]
            other = await client.post(decide, json={"action": "reject", "reason": "no"}, headers=desk.auth(ALICE))
            assert other.status == 409
    _, page = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", ALICE)
    assert [e["action"] for e in page["audit"]] == ["RECEIVED", "CLAIMED", "APPROVED"]


# ---- limits and tokens ----------------------------------------------------------------------------------------------

async def test_requests_past_the_rate_limit_of_a_member_of_staff_answer_429_with_retry_after(desk):
    app = build_app(desk.parts.casework, desk.parts.tokens, desk.parts.staff, desk.parts.metrics,
                    desk.settings.staff_token_key, desk.parts.redis.ping, RateLimiter(rate=1.0, burst=3),
                    clock=lambda: 1000.0)  # the clock stands still: no token comes back during the test
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        alice, other_token = desk.auth(ALICE), desk.auth(ALICE)
        assert [(await client.get("/api/v1/me", headers=alice)).status for _ in range(3)] == [200, 200, 200]
        for headers in (alice, other_token):  # every token of the same member counts together
            limited = await client.get("/api/v1/tasks", headers=headers)
            assert limited.status == 429 and limited.headers["Retry-After"] == "1"
            assert (await limited.json(content_type="application/problem+json"))["code"] == "rate_limited"
        page = await client.get("/console", cookies={SESSION_COOKIE: desk.parts.tokens.issue(ALICE)})
        assert page.status == 429 and page.headers["Retry-After"] == "1"
        assert (await client.get("/api/v1/me", headers=desk.auth(BOB))).status == 200
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/api/v1/me")).status == 401  # no member, nothing to count


async def test_tampered_expired_unsigned_and_foreign_tokens_are_refused_on_every_route(desk):
    genuine = desk.parts.tokens.issue(ALICE)
    header, _, signature = genuine.split(".")
    claims = {**ALICE.claims(), "aud": "assist-casework", "iss": "assist-casework", "iat": int(time.time()),
              "exp": int(time.time()) + 600}
    refused = {
        "tampered": ".".join([header, jwt.encode({**claims, "districts": ["110105", "110108"]}, "k" * 32
                                                 ).split(".")[1], signature]),
        "expired": desk.parts.tokens.issue(ALICE, ttl_seconds=60, now=time.time() - 3600),
        "alg_none": jwt.encode(claims, None, algorithm="none"),
        "wrong_key": StaffTokens("another-key-of-at-least-thirty-two-bytes").issue(ALICE),
        "truncated": genuine[:-4], "signature_only": signature, "empty_parts": "..",
    }
    routes = [("GET", "/api/v1/me"), ("GET", "/api/v1/tasks"), ("POST", "/api/v1/tasks/next"),
              ("GET", "/api/v1/tasks/t-x"), ("POST", "/api/v1/tasks/t-x/claim"), ("POST", "/api/v1/tasks/t-x/decide"),
              ("GET", "/api/v1/overview")]
    for name, token in refused.items():
        for method, path in routes:
            response = await desk.client.request(method, path, headers={"Authorization": f"Bearer {token}"})
            assert response.status == 401, (name, method, path)
        page = await desk.client.get("/console", cookies={SESSION_COOKIE: token}, allow_redirects=False)
        assert page.status == 303 and page.headers["Location"].startswith("/login"), name
    assert (await desk.client.get("/api/v1/me", headers={"Authorization": f"Bearer {genuine}"})).status == 200
