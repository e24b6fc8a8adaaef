"""Applications from the citizen page against the real broker and Redis: a resident applies for a programme of
the current catalogue (read from assist.policies); the application.submitted CloudEvent is on assist.events, keyed
and subject by the person; matching's ApplicationAnswer on assist.applications.answers shows in "my applications"
in plain words; bad input is refused naming the field; a rebuild brings the list back."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from services.core.application_views import RedisApplications
from services.core.codec import Contract, decode_event
from services.core.settings import Settings
from services.core.topics import EVENTS
from services.notification.adapters.citizen_http import CSRF_HEADER, build_citizen_app
from services.notification.wiring import Citizen, citizen
from tests.integration.casework.applications_harness import (
    answer_record,
    application_contract,
    publish_answers,
    publish_catalogue,
)
from tests.integration.notification.notification_harness import forget_keys, offer_record, running_worker, unique
from tests.integration.notification.test_notification_recovery import until

KEY = "test-link-key"


@dataclass
class Page:
    parts: Citizen
    client: TestClient
    person: str
    csrf: str
    contract: Contract
    settings: Settings
    prefix: str


@asynccontextmanager
async def signed_in(settings: Settings, tmp_path: Path, catalogue: str | None) -> AsyncIterator[Page]:
    """The citizen site (own key prefix, its catalogue name) and a person signed in by their link."""
    contract = application_contract(tmp_path)
    prefix = unique("test:notification:")
    config = replace(settings, link_signing_key=KEY, matching_catalogue=catalogue or unique("no-such-catalogue-"))
    async with citizen(config, prefix, contract=contract) as parts:
        app = build_citizen_app(parts.desk, parts.metrics, secure_cookies=False, applications=parts.applications)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            try:
                person = unique("p")
                offer = offer_record(person)
                await parts.views.add(person, offer)
                token = parts.desk.signer.link_token(person, offer["offer_id"], dt.datetime.now(dt.UTC))
                assert (await client.get(f"/c/{token}", allow_redirects=False)).status == 303
                csrf = (await (await client.get("/api/v1/session")).json())["csrf_token"]
                yield Page(parts, client, person, csrf, contract, config, prefix)
            finally:
                await forget_keys(parts.redis, prefix)


async def test_a_resident_applies_on_the_page_and_the_event_is_on_assist_events(settings, tmp_path, probe):
    events = await probe(EVENTS.name)
    catalogue = await publish_catalogue(settings)
    async with signed_in(settings, tmp_path, catalogue) as page:
        html = await (await page.client.get("/applications?lang=en")).text()
        assert 'value="subsistence_allowance"' in html and "Medical assistance" in html
        form_csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert form_csrf is not None
        answer = await page.client.post("/applications?lang=en", allow_redirects=False,
                                        data={"csrf_token": form_csrf.group(1), "policy_id": "subsistence_allowance"})
        assert answer.status == 303 and answer.headers["Location"] == "/applications?lang=en"

        [record] = await events.collect(lambda r: r.key == page.person.encode(), 1)
        event = decode_event(page.contract, record.value, record.headers)
        assert (event.type, event.subject, event.source) == ("application.submitted", page.person,
                                                             "/civil_affairs/citizen-page")
        assert event.data == {"policy_id": "subsistence_allowance", "channel": "CITIZEN_PAGE", "applied_by": "citizen"}
        listing = await (await page.client.get("/api/v1/applications?lang=en")).json()
        [mine] = listing["applications"]
        assert mine["application_id"] == event.id and mine["outcome"] == "WAITING"
        assert [p["policy_id"] for p in listing["programmes"]] == ["subsistence_allowance", "medical_assistance"]

        made = await page.client.post("/api/v1/applications", json={"policy_id": "medical_assistance"},
                                      headers={CSRF_HEADER: page.csrf})
        assert made.status == 201, await made.text()
        [second] = await events.collect(lambda r: r.key == page.person.encode(), 1)
        assert decode_event(page.contract, second.value, second.headers).id == (await made.json())["application_id"]


async def test_bad_applications_are_refused_naming_the_field_and_publish_nothing(settings, tmp_path, probe):
    events = await probe(EVENTS.name)
    catalogue = await publish_catalogue(settings)
    async with signed_in(settings, tmp_path, catalogue) as page:
        unknown = await page.client.post("/api/v1/applications", json={"policy_id": "free_money"},
                                         headers={CSRF_HEADER: page.csrf})
        problem = await unknown.json()
        assert unknown.status == 404 and problem["title"].startswith("policy_id:") and "free_money" in problem["title"]
        missing = await page.client.post("/api/v1/applications", json={}, headers={CSRF_HEADER: page.csrf})
        assert missing.status == 400 and (await missing.json())["title"].startswith("policy_id")
        no_csrf = await page.client.post("/api/v1/applications", json={"policy_id": "subsistence_allowance"})
        assert no_csrf.status == 403 and "X-CSRF-Token" in (await no_csrf.json())["title"]
        form = await page.client.post("/applications", data={"policy_id": "subsistence_allowance"})
        assert form.status == 403
        bad_form = await page.client.post("/applications?lang=en", data={"csrf_token": page.csrf,
                                                                         "policy_id": "free_money"})
        assert bad_form.status == 404 and "choose a programme from the list" in await bad_form.text()
        malformed = await page.client.post("/api/v1/applications", json={"policy_id": "Free Money!"},
                                           headers={CSRF_HEADER: page.csrf})
        assert malformed.status == 400 and (await malformed.json())["title"].startswith("policy_id: must be")
        assert await events.collect(lambda r: r.key == page.person.encode(), 1, timeout=2.0) == []
        assert (await (await page.client.get("/api/v1/applications")).json())["applications"] == []


async def test_without_a_catalogue_the_page_says_so_and_applying_is_refused(settings, tmp_path):
    async with signed_in(settings, tmp_path, None) as page:
        html = await (await page.client.get("/applications?lang=en")).text()
        assert "The list of programmes is not available" in html
        refused = await page.client.post("/api/v1/applications", json={"policy_id": "subsistence_allowance"},
                                         headers={CSRF_HEADER: page.csrf})
        assert refused.status == 503 and "no policy catalogue has been read yet" in (await refused.json())["title"]
        assert refused.headers["Retry-After"] == "60"


async def test_answers_on_the_topic_show_in_my_applications_in_plain_words_and_survive_a_rebuild(settings,
                                                                                                tmp_path):
    catalogue = await publish_catalogue(settings)
    async with signed_in(settings, tmp_path, catalogue) as page:
        group = unique("test-notification-")
        async with running_worker(page.settings, page.prefix, group, contract=page.contract) as worker:
            await asyncio.sleep(0)  # the worker is consuming
            made = await page.client.post("/api/v1/applications", json={"policy_id": "subsistence_allowance"},
                                          headers={CSRF_HEADER: page.csrf})
            applied = (await made.json())["application_id"]
            household = unique("hh-")
            await publish_answers(
                page.settings,
                answer_record(applied, page.person, household, "NOT_ELIGIBLE",
                              reasons=["the household's monthly income per person (150000 fen) is not below the "
                                       "local subsistence standard (145000 fen)"]),
                answer_record("a-by-caseworker", page.person, household, "OFFERED", applied_by="cw-dora",
                              policy_id="medical_assistance", policy_name="Medical assistance", offer_id="o-med-1"))
            store = RedisApplications(page.parts.redis, page.prefix)

            async def answered() -> bool:
                found = await store.of_person(page.person)
                return len(found) == 2 and all(a.answer for a in found)
            await until(answered, 30, "both answers")
            html = await (await page.client.get("/applications?lang=en")).text()
            assert ("Not eligible, because the household&#39;s monthly income per person (150000 fen) is not below "
                    "the local subsistence standard (145000 fen)." in html)
            assert "Applied for you by a caseworker" in html and 'href="/offers/o-med-1?lang=en"' in html
            before = await (await page.client.get("/api/v1/applications?lang=en")).json()

            since = await worker.rebuilder.marker.since()
            assert since is not None
            await worker.rebuilder.rebuild(since)
            after = await (await page.client.get("/api/v1/applications?lang=en")).json()
            assert after == before
            redis: Redis = page.parts.redis
            assert await redis.exists(f"{page.prefix}:applications:{page.person}")
