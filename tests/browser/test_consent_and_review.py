"""The citizen page in a real browser: a resident withdraws consent to SMS and e-mail and sees the details erased,
then asks for a review of an application found not eligible, sees a too-long reason refused, sends a short one
and, once a caseworker's decision is on assist.decisions, reads the outcome. Screenshots to
ASSIST_SCREENSHOT_DIR."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from services.core.settings import load_settings
from services.core.topics import DECISIONS
from services.notification.adapters.citizen_http import build_citizen_app
from services.notification.adapters.redis_reviews import RedisReviews
from services.notification.domain.link import Signer
from services.notification.domain.reviews import MAX_REASON_CHARS, review_task_id
from services.notification.wiring import Citizen, citizen
from tests.browser.screenshots import screenshot_path
from tests.integration.casework.test_casework_reviews import not_eligible
from tests.integration.notification.notification_harness import (
    contact_record,
    forget_keys,
    offer_record,
    publish,
    running_worker,
    unique,
)
from tests.integration.notification.test_notification_recovery import until

pytestmark = pytest.mark.integration  # the withdrawal and the request go to the real broker, views to real Redis
KEY = "browser-test-link-key"


@pytest.fixture
async def site() -> AsyncIterator[tuple[Citizen, str, str]]:
    prefix = unique("test:notification:")
    config = replace(load_settings(), link_signing_key=KEY)
    async with running_worker(config, prefix, unique("test-notification-")), citizen(config, prefix) as parts:
        server = TestServer(build_citizen_app(parts.desk, parts.metrics, secure_cookies=False,
                                              applications=parts.applications, data_use=parts.data_use,
                                              consent=parts.consent, reviews=parts.reviews), host="127.0.0.1")
        await server.start_server()
        try:
            yield parts, str(server.make_url("")).rstrip("/"), prefix
        finally:
            await server.close()
            await forget_keys(parts.redis, prefix)


async def test_a_resident_withdraws_consent_and_asks_for_a_review_of_a_decision(site, chromium, tmp_path) -> None:
    parts, base, prefix = site
    person, household = unique("p"), unique("hh-")
    offer = offer_record(person, "employment_assistance", household_id=household)
    await parts.contacts.put(contact_record(person, ["SMS", "EMAIL", "INBOX"], language="en",
                                            consented_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2)))
    await parts.views.add(person, offer)
    answer: dict[str, Any] = not_eligible(person, household)
    await parts.application_store.answered(answer)
    link = f"{base}/c/{Signer(KEY).link_token(person, offer['offer_id'], dt.datetime.now(dt.UTC))}"

    page = await chromium.new_page()
    await page.goto(link)
    await page.goto(f"{base}/offers?lang=en")
    async with page.expect_navigation():
        await page.click("#consent-link")
    assert "SMS: in use" in await page.locator("li[data-channel=SMS]").inner_text()
    await page.check("#withdraw-sms")
    await page.check("#withdraw-email")
    async with page.expect_navigation():
        await page.click("#withdraw")
    assert "Your consent was withdrawn" in await page.locator(".notice").inner_text()
    assert "consent withdrawn, details erased" in await page.locator("li[data-channel=EMAIL]").inner_text()
    await page.screenshot(path=str(screenshot_path(tmp_path, "citizen-consent-withdrawn.png")), full_page=True)
    erased = await parts.contacts.get(person)
    assert erased is not None and (erased.phone, erased.email) == (None, None)

    async with page.expect_navigation():
        await page.click("#reviews-link")
    subject = f"article[data-subject-id='{answer['application_id']}']"
    assert "application not eligible" in await page.locator(f"{subject} h3").inner_text()
    assert "income per person is above" in await page.locator(subject).inner_text()
    textarea = page.locator(f"{subject} textarea")
    assert await textarea.get_attribute("maxlength") == str(MAX_REASON_CHARS)
    await textarea.evaluate("(t) => t.removeAttribute('maxlength')")  # a page edited by hand: the server refuses
    await textarea.fill("x" * (MAX_REASON_CHARS + 1))
    async with page.expect_navigation():
        await page.click(f"{subject} button.ask")
    assert "at most 500 characters" in await page.locator(".notice").inner_text()
    await page.locator(f"{subject} textarea").fill("My husband lost his job last month.")
    async with page.expect_navigation():
        await page.click(f"{subject} button.ask")
    assert "sent to a caseworker" in await page.locator(".notice").inner_text()
    assert "waiting for a caseworker" in await page.locator(f"{subject} .review-state").inner_text()
    await page.screenshot(path=str(screenshot_path(tmp_path, "citizen-review-asked.png")), full_page=True)

    task_id = review_task_id(person, answer["application_id"])
    await publish(load_settings(), [(DECISIONS.name, {
        "decision_id": unique("d-"), "action": "APPROVED", "task_id": task_id, "offer_id": None,
        "household_id": household, "person_id": person, "policy_id": None, "district": offer["district"],
        "actor": "cw-1", "reason": None, "at": dt.datetime.now(dt.UTC)})])
    reviews = RedisReviews(parts.redis, prefix)

    async def decided() -> bool:
        request = await reviews.get(person, task_id)
        return request is not None and request.outcome == "UPHELD"
    await until(decided, 30, "the caseworker's decision on the page")
    await page.goto(f"{base}/reviews?lang=zh_CN")
    assert "复核结果有利于您" in await page.locator(f"{subject} .review-state").inner_text()
    await page.screenshot(path=str(screenshot_path(tmp_path, "citizen-review-decided.png")), full_page=True)
