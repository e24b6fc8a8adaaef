"""The citizen page in a real browser: the signed link from a message opens the offer with its reason; the citizen
accepts and sees the new state, then switches language."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestServer

from services.core.settings import load_settings
from services.notification.adapters.citizen_http import build_citizen_app
from services.notification.domain.answers import OfferState
from services.notification.domain.link import Signer
from services.notification.wiring import Citizen, citizen
from tests.integration.notification_harness import contact_record, forget_keys, offer_record, unique

pytestmark = pytest.mark.integration  # the answer goes to the real broker, views live in the real Redis
KEY = "browser-test-link-key"


@pytest.fixture
async def site() -> AsyncIterator[tuple[Citizen, str]]:
    prefix = unique("test:notification:")
    async with citizen(replace(load_settings(), link_signing_key=KEY), prefix) as parts:
        server = TestServer(build_citizen_app(parts.desk, parts.metrics, secure_cookies=False), host="127.0.0.1")
        await server.start_server()
        try:
            yield parts, str(server.make_url("")).rstrip("/")
        finally:
            await server.close()
            await forget_keys(parts.redis, prefix)


async def test_citizen_opens_the_link_sees_why_accepts_and_switches_language(site, chromium):
    parts, base = site
    person = unique("p")
    offer = offer_record(person, "employment_assistance")
    await parts.contacts.put(contact_record(person, ["SMS"], language="zh_CN"))
    await parts.views.add(person, offer)
    link = f"{base}/c/{Signer(KEY).link_token(person, offer['offer_id'], dt.datetime.now(dt.UTC))}"

    page = await chromium.new_page()
    await page.goto(link)
    assert page.url == f"{base}/offers/{offer['offer_id']}"
    assert await page.locator("h2").inner_text() == "就业救助"
    assert "1,234.50 yuan per month" in await page.locator(".reason").inner_text()
    conditions = await page.locator("table.conditions").inner_text()
    assert "member.monthly_income_fen < standard" in conditions and "1000 < 80000" in conditions
    assert await page.locator("#state").inner_text() == "等待您的答复"

    async with page.expect_navigation():
        await page.click("#accept")
    assert page.url.startswith(f"{base}/offers/{offer['offer_id']}")
    assert await page.locator("#state").inner_text() == "您已接受"
    assert await page.locator("#accept").count() == 0
    view = await parts.views.get(person, offer["offer_id"])
    assert view is not None and view.state is OfferState.ACCEPTED

    async with page.expect_navigation():
        await page.click(".switch-language")
    assert page.url.endswith("lang=en")
    assert await page.locator("#state").inner_text() == "You accepted this offer"
    assert await page.locator("html").get_attribute("lang") == "en"
    await page.goto(f"{base}/offers")
    assert "Employment assistance" in await page.locator(".offer h3").inner_text()


async def test_a_tampered_link_shows_a_refusal_and_opens_nothing(site, chromium):
    parts, base = site
    person = unique("p")
    offer = offer_record(person)
    await parts.views.add(person, offer)
    token = Signer(KEY).link_token(person, offer["offer_id"], dt.datetime.now(dt.UTC))
    page = await chromium.new_page()
    response = await page.goto(f"{base}/c/{token[:-3]}xyz?lang=en")
    assert response is not None and response.status == 403
    assert "not valid" in await page.locator(".message").inner_text()
    await page.goto(f"{base}/offers")
    assert "open the link" in await page.locator(".message").inner_text()
