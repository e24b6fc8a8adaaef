"""The citizen API and page against the real Redis and broker: a signed link opens a session, a citizen sees only
their own offers, and their answer is recorded once on assist.decisions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.core.codec import decode_record
from services.core.rate_limit import RateLimiter
from services.core.settings import Settings
from services.core.topics import DECISIONS
from services.notification.adapters.citizen_http import CSRF_HEADER, build_citizen_app
from services.notification.domain.ids import answer_decision_id
from services.notification.domain.link import Signer
from services.notification.wiring import Citizen, citizen
from tests.integration.notification.notification_harness import (
    CONTRACT,
    contact_record,
    forget_keys,
    offer_record,
    unique,
)

KEY = "test-link-key"


@dataclass
class Site:
    parts: Citizen
    client: TestClient
    signer: Signer

    def link(self, person: str, offer_id: str, now: dt.datetime | None = None) -> str:
        return f"/c/{self.signer.link_token(person, offer_id, now or dt.datetime.now(dt.UTC))}"

    async def sign_in(self, person: str, offer_id: str) -> str:
        """Open the person's link; return the CSRF token of the new session."""
        response = await self.client.get(self.link(person, offer_id), allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == f"/offers/{offer_id}"
        cookie = response.cookies["assist_session"]
        assert cookie["httponly"] and cookie["samesite"] == "Lax"
        session = await (await self.client.get("/api/v1/session")).json()
        assert session["person_id"] == person
        return str(session["csrf_token"])


@asynccontextmanager
async def open_site(settings: Settings, rate_limit: RateLimiter | None = None) -> AsyncIterator[Site]:
    """The citizen API of one test on a free port, with its own Redis key prefix (removed afterwards)."""
    prefix = unique("test:notification:")
    async with citizen(replace(settings, link_signing_key=KEY), prefix) as parts:
        app = build_citizen_app(parts.desk, parts.metrics, secure_cookies=False, rate_limit=rate_limit,
                                applications=parts.applications)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            try:
                yield Site(parts, client, Signer(KEY))
            finally:
                await forget_keys(parts.redis, prefix)


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[Site]:
    async with open_site(settings) as s:
        yield s


async def test_citizen_accepts_and_accepted_is_on_the_decision_topic(site, probe):
    decisions = await probe(DECISIONS.name)
    person = unique("p")
    offer = offer_record(person)
    await site.parts.views.add(person, offer)
    csrf = await site.sign_in(person, offer["offer_id"])
    response = await site.client.post(f"/api/v1/offers/{offer['offer_id']}/answer", json={"answer": "ACCEPTED"},
                                      headers={CSRF_HEADER: csrf})
    assert response.status == 200 and (await response.json())["state"] == "ACCEPTED"
    (record,) = await decisions.collect(lambda r: decode_record(CONTRACT, "decision", r.value)["offer_id"]
                                        == offer["offer_id"], 1)
    decision = decode_record(CONTRACT, "decision", record.value)
    assert decision["action"] == "ACCEPTED" and decision["actor"] == "citizen"
    assert decision["decision_id"] == answer_decision_id(offer["offer_id"], "ACCEPTED")
    assert (decision["person_id"], decision["household_id"], decision["policy_id"]) == (
        person, offer["household_id"], offer["policy_id"])
    assert record.key == offer["household_id"].encode()
    again = await site.client.post(f"/api/v1/offers/{offer['offer_id']}/answer", json={"answer": "DECLINED"},
                                   headers={CSRF_HEADER: csrf})
    assert again.status == 409
    assert await decisions.collect(lambda r: decode_record(CONTRACT, "decision", r.value)["offer_id"]
                                   == offer["offer_id"], 1, timeout=2.0) == []


async def test_declining_through_the_page_form_shows_the_new_state(site, probe):
    decisions = await probe(DECISIONS.name)
    person = unique("p")
    offer = offer_record(person)
    await site.parts.views.add(person, offer)
    await site.sign_in(person, offer["offer_id"])
    page = await (await site.client.get(f"/offers/{offer['offer_id']}?lang=en")).text()
    assert "Waiting for your answer" in page and "1,234.50 yuan per month, offered directly" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    response = await site.client.post(f"/offers/{offer['offer_id']}/answer?lang=en",
                                      data={"answer": "DECLINED", "csrf_token": csrf.group(1)})
    assert response.status == 200 and "You declined this offer" in await response.text()
    (record,) = await decisions.collect(lambda r: decode_record(CONTRACT, "decision", r.value)["offer_id"]
                                        == offer["offer_id"], 1)
    assert decode_record(CONTRACT, "decision", record.value)["action"] == "DECLINED"


async def test_answer_without_the_sessions_csrf_token_is_refused(site):
    person = unique("p")
    offer = offer_record(person)
    await site.parts.views.add(person, offer)
    await site.sign_in(person, offer["offer_id"])
    url = f"/api/v1/offers/{offer['offer_id']}/answer"
    assert (await site.client.post(url, json={"answer": "ACCEPTED"})).status == 403
    assert (await site.client.post(url, json={"answer": "ACCEPTED"}, headers={CSRF_HEADER: "forged"})).status == 403
    form = await site.client.post(f"/offers/{offer['offer_id']}/answer", data={"answer": "ACCEPTED"})
    assert form.status == 403
    assert (await site.parts.views.get(person, offer["offer_id"])).state.value == "OFFERED"


async def test_another_citizens_offer_and_inbox_are_not_found(site):
    me, other = unique("p"), unique("p")
    mine, theirs = offer_record(me), offer_record(other)
    await site.parts.views.add(me, mine)
    await site.parts.views.add(other, theirs)
    csrf = await site.sign_in(me, mine["offer_id"])
    assert (await site.client.get(f"/api/v1/offers/{theirs['offer_id']}")).status == 404
    assert (await site.client.get(f"/offers/{theirs['offer_id']}")).status == 404
    answer = await site.client.post(f"/api/v1/offers/{theirs['offer_id']}/answer", json={"answer": "ACCEPTED"},
                                    headers={CSRF_HEADER: csrf})
    assert answer.status == 404
    listed = await (await site.client.get("/api/v1/offers")).json()
    assert [o["offer_id"] for o in listed["offers"]] == [mine["offer_id"]]
    assert (await (await site.client.get("/api/v1/inbox")).json())["items"] == []


async def test_a_link_for_someone_else_does_not_open_their_offers_for_me(site):
    me, other = unique("p"), unique("p")
    theirs = offer_record(other)
    await site.parts.views.add(other, theirs)
    # A genuine link names its own person: putting my id into theirs breaks the signature.
    token = site.signer.link_token(other, theirs["offer_id"], dt.datetime.now(dt.UTC)).replace(other, me)
    assert (await site.client.get(f"/c/{token}", allow_redirects=False)).status == 403
    assert (await site.client.get("/api/v1/offers")).status == 401


async def test_altered_or_expired_links_are_refused(site):
    person = unique("p")
    offer = offer_record(person)
    await site.parts.views.add(person, offer)
    link = site.link(person, offer["offer_id"])
    tampered = await site.client.get(link[:-2] + ("AA" if not link.endswith("AA") else "BB"), allow_redirects=False)
    assert tampered.status == 403 and "此链接无效" in await tampered.text()
    expired = site.link(person, offer["offer_id"], dt.datetime.now(dt.UTC) - dt.timedelta(days=31))
    response = await site.client.get(expired + "?lang=en", allow_redirects=False)
    assert response.status == 403 and "expired" in await response.text()
    assert "assist_session" not in response.cookies


async def test_language_follows_the_contact_preference_and_can_be_switched(site):
    person = unique("p")
    offer = offer_record(person)
    await site.parts.contacts.put(contact_record(person, ["SMS"], language="en"))
    await site.parts.views.add(person, offer)
    await site.sign_in(person, offer["offer_id"])
    english = await (await site.client.get("/offers")).text()
    assert 'lang="en"' in english and "My offers" in english
    chinese = await (await site.client.get("/offers?lang=zh_CN")).text()
    assert 'lang="zh-CN"' in chinese and "我的救助事项" in chinese and "就业救助" in chinese
    remembered = await (await site.client.get("/offers")).text()
    assert "我的救助事项" in remembered


async def test_openapi_health_and_metrics_are_served(site):
    spec = await (await site.client.get("/openapi.json")).json()
    assert "/api/v1/offers/{offer_id}/answer" in spec["paths"]
    assert (await site.client.get("/healthz")).status == 200
    assert "assist_notification_links_total" in await (await site.client.get("/metrics")).text()
