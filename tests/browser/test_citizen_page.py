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
from tests.browser.screenshots import screenshot_path
from tests.integration.casework.applications_harness import answer_record, application_contract, publish_catalogue
from tests.integration.notification.notification_harness import contact_record, forget_keys, offer_record, unique
from tests.integration.notification.test_notification_revisions import revised

pytestmark = pytest.mark.integration  # the answer goes to the real broker, views live in the real Redis
KEY = "browser-test-link-key"


@pytest.fixture
async def site() -> AsyncIterator[tuple[Citizen, str]]:
    prefix = unique("test:notification:")
    async with citizen(replace(load_settings(), link_signing_key=KEY), prefix) as parts:
        server = TestServer(build_citizen_app(parts.desk, parts.metrics, secure_cookies=False,
                                              applications=parts.applications), host="127.0.0.1")
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


async def test_citizen_sees_the_revised_figure_and_a_withdrawn_offer_that_cannot_be_accepted(site, chromium,
                                                                                          tmp_path):
    parts, base = site
    person = unique("p")
    await parts.contacts.put(contact_record(person, ["SMS"], language="en"))
    kept, gone = offer_record(person, "employment_assistance"), offer_record(person, "medical_assistance")
    for offer in (kept, gone):
        await parts.views.add(person, offer)
    await parts.views.revise(person, revised(kept, 1, 234_500), add=False)
    await parts.views.revise(person, revised(gone, 1, None, change="WITHDRAWN"), add=False)
    signer = Signer(KEY)
    page = await chromium.new_page(viewport={"width": 1000, "height": 900})

    await page.goto(f"{base}/c/{signer.link_token(person, kept['offer_id'], dt.datetime.now(dt.UTC))}")
    assert page.url == f"{base}/offers/{kept['offer_id']}"
    assert await page.locator("#amount").inner_text() == "What is offered: ¥2,345.00 per month"
    revised_text = await page.locator("#revised").inner_text()
    assert "revised from ¥1,234.50 per month to ¥2,345.00 per month" in revised_text
    assert "member.monthly_income_fen 1000 -> 0" in revised_text
    assert await page.locator("#accept").count() == 1
    await page.screenshot(path=str(screenshot_path(tmp_path, "citizen-offer-revised.png")), full_page=True)

    await page.goto(f"{base}/offers/{gone['offer_id']}")
    assert await page.locator("#state").inner_text() == "This offer was withdrawn"
    withdrawn = await page.locator("#withdrawn").inner_text()
    assert "no longer meet the conditions for Medical assistance" in withdrawn
    assert "90000 < 80000" in await page.locator("ul.not-met").inner_text()
    assert await page.locator("#accept").count() == 0
    await page.screenshot(path=str(screenshot_path(tmp_path, "citizen-offer-withdrawn.png")), full_page=True)

    # A form posted anyway (an old tab) is refused with a clear message, and nothing is recorded.
    csrf = (await (await page.request.get(f"{base}/api/v1/session")).json())["csrf_token"]
    refused = await page.request.post(f"{base}/offers/{gone['offer_id']}/answer?lang=en",
                                      form={"csrf_token": csrf, "answer": "ACCEPTED"})
    assert refused.status == 409 and "withdrawn, so it can no longer be accepted" in await refused.text()
    view = await parts.views.get(person, gone["offer_id"])
    assert view is not None and view.state is OfferState.OFFERED and view.withdrawn

    await page.goto(f"{base}/offers")
    listing = await page.locator("main").inner_text()
    assert "This offer was withdrawn" in listing and "¥2,345.00 per month" in listing
    await page.screenshot(path=str(screenshot_path(tmp_path, "citizen-offers.png")), full_page=True)


async def test_resident_applies_for_a_programme_and_reads_the_answer_in_plain_words(chromium, tmp_path):
    settings = load_settings()
    catalogue = await publish_catalogue(settings)
    contract = application_contract(tmp_path)
    prefix = unique("test:notification:")
    config = replace(settings, link_signing_key=KEY, matching_catalogue=catalogue)
    async with citizen(config, prefix, contract=contract) as parts:
        server = TestServer(build_citizen_app(parts.desk, parts.metrics, secure_cookies=False,
                                              applications=parts.applications), host="127.0.0.1")
        await server.start_server()
        try:
            base = str(server.make_url("")).rstrip("/")
            person = unique("p")
            offer = offer_record(person)
            await parts.contacts.put(contact_record(person, ["SMS"], language="en"))
            await parts.views.add(person, offer)
            page = await chromium.new_page(viewport={"width": 1000, "height": 900})
            await page.goto(f"{base}/c/{Signer(KEY).link_token(person, offer['offer_id'], dt.datetime.now(dt.UTC))}")
            await page.click("text=My applications")
            await page.select_option("#policy_id", "subsistence_allowance")
            async with page.expect_navigation():
                await page.click("#apply")
            assert page.url.endswith("/applications?lang=en")
            assert "Submitted; the answer comes in a moment." in await page.locator(".application .answer").inner_text()
            [applied] = await parts.applications.applications(person)
            await parts.application_store.answered(answer_record(
                applied.application_id, person, offer["household_id"], "NOT_ELIGIBLE", reasons=[
                    "the household's monthly income per person (150000 fen) is not below the local subsistence "
                    "standard (145000 fen)"]))
            await parts.application_store.answered(answer_record(
                "a-by-caseworker", person, offer["household_id"], "OFFERED", applied_by="cw-dora",
                policy_id="medical_assistance", policy_name="Medical assistance", offer_id=offer["offer_id"]))
            await page.reload()
            answers = await page.locator(".application").all_inner_texts()
            assert any("Not eligible, because the household's monthly income per person (150000 fen) is not below "
                       "the local subsistence standard (145000 fen)." in a for a in answers)
            assert any("Applied for you by a caseworker" in a and "See the offer" in a for a in answers)
            await page.screenshot(path=str(screenshot_path(tmp_path, "citizen-applications.png")), full_page=True)
        finally:
            await server.close()
            await forget_keys(parts.redis, prefix)
