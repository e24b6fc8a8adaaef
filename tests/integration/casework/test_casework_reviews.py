"""A resident's request for a review, end to end against the real broker and Redis: the citizen page publishes a
REVIEW task with the original explanation and the resident's reason on assist.tasks, casework takes it into the
district queue, a caseworker rejects it through the same decision flow (assist.decisions), and the citizen page
shows the outcome, also after notification's state was rebuilt from the topics. Bad requests are refused naming
the field."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from services.casework.domain.scope import staff
from services.core.settings import Settings
from services.core.topics import APPLICATION_ANSWERS
from services.notification.adapters.citizen_http import CSRF_HEADER, build_citizen_app
from services.notification.adapters.rebuild import StoreMarker
from services.notification.adapters.redis_reviews import RedisReviews
from services.notification.domain.reviews import MAX_REASON_CHARS, review_task_id
from services.notification.wiring import citizen
from tests.integration.casework.test_casework import PASSWORD, open_desk
from tests.integration.casework.test_casework_recovery import act, unused_districts
from tests.integration.casework.test_casework_revisions import page as task_page
from tests.integration.casework.test_casework_revisions import settled
from tests.integration.notification.notification_harness import (
    forget_keys,
    offer_record,
    publish,
    running_worker,
    unique,
)
from tests.integration.notification.test_notification_recovery import until

EXPLANATION = {"policy_id": "subsistence_allowance", "policy_version": "2026.1", "legal_basis": "第九条",
               "eligible": False, "facts": {"household.monthly_income_per_person_fen": "90000"},
               "conditions": [{"expression": "household.monthly_income_per_person_fen < local.standard_fen",
                               "values": "90000 < 65000", "holds": False}],
               "computation": None, "summary": "Not eligible: income per person above the local standard."}


def not_eligible(person: str, household: str) -> dict[str, object]:
    return {"application_id": unique("a-"), "person_id": person, "household_id": household,
            "policy_id": "subsistence_allowance", "policy_name": "Subsistence allowance", "outcome": "NOT_ELIGIBLE",
            "offer_id": None, "task_id": None, "reasons": ["not eligible, because income per person is above the "
                                                           "local standard"],
            "explanation": EXPLANATION, "catalogue_version": "2026.1", "applied_by": "citizen",
            "answered_at": dt.datetime.now(dt.UTC).replace(microsecond=0)}


async def test_a_review_request_reaches_the_district_queue_and_its_outcome_the_citizens_page(
        settings: Settings, tmp_path: Path) -> None:
    group, prefix = unique("test-notification-"), unique("test:notification:")
    home, _ = unused_districts()
    dora = staff("dora", "caseworker", [home])
    person, household = unique("p-"), unique("hh-")
    answer = not_eligible(person, household)
    redis = Redis.from_url(settings.redis_url)
    reviews = RedisReviews(redis, prefix)
    config = replace(settings, link_signing_key="test-link-key")
    try:
        async with open_desk(tmp_path) as desk, running_worker(config, prefix, group):
            desk.parts.staff.add(dora, PASSWORD)
            await publish(config, [(APPLICATION_ANSWERS.name, answer)])
            async with citizen(config, prefix) as site:
                app = build_citizen_app(site.desk, site.metrics, secure_cookies=False,
                                        applications=site.applications, reviews=site.reviews)
                async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                    offer = offer_record(person, household_id=household, district=home)
                    await site.views.add(person, offer)
                    link = site.desk.signer.link_token(person, offer["offer_id"], dt.datetime.now(dt.UTC))
                    assert (await client.get(f"/c/{link}", allow_redirects=False)).status == 303
                    csrf = {CSRF_HEADER: (await (await client.get("/api/v1/session")).json())["csrf_token"]}

                    async def reviewable() -> bool:
                        body = await (await client.get("/api/v1/reviews")).json()
                        return [d["subject_id"] for d in body["decisions"] if d["can_ask"]] == [
                            answer["application_id"]]
                    await until(reviewable, 30, "the application's answer on the review page")

                    subject = answer["application_id"]
                    for body, status, field in (
                            ({"subject_id": subject, "reason": "x" * (MAX_REASON_CHARS + 1)}, 400, "reason:"),
                            ({"subject_id": subject, "reason": "   "}, 400, "reason:"),
                            ({"subject_id": "a-not-mine", "reason": "I disagree"}, 404, "subject_id:")):
                        refused = await client.post("/api/v1/reviews", json=body, headers=csrf)
                        assert refused.status == status and (await refused.json())["title"].startswith(field)
                    html = await (await client.get("/reviews?lang=en")).text()
                    form_csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
                    assert form_csrf is not None and 'maxlength="500"' in html
                    asked = await client.post("/reviews?lang=en", data={
                        "csrf_token": form_csrf.group(1), "subject_id": subject,
                        "reason": "My husband lost his job last month, our income is lower now."})
                    assert asked.status == 200 and "sent to a caseworker" in await asked.text()
                    again = await client.post("/api/v1/reviews", json={"subject_id": subject, "reason": "again"},
                                              headers=csrf)
                    assert again.status == 409 and (await again.json())["title"].startswith("subject_id:")

                    task_id = review_task_id(person, subject)
                    [row] = await desk.queued(dora, {task_id})
                    assert row["kind"] == "REVIEW"
                    task = {"task_id": task_id}
                    shown = await task_page(desk, dora, task)
                    assert shown["review"]["explanation"]["summary"] == EXPLANATION["summary"]
                    assert shown["review"]["reasons"][0] == ("The resident says: My husband lost his job last "
                                                             "month, our income is lower now.")
                    assert shown["offer"] is None and shown["district"] == home
                    await act(desk, dora, task, "claim")
                    await act(desk, dora, task, "decide",
                              {"action": "reject", "reason": "The job loss is not yet reported."})
                    await settled(desk, dora, task, lambda p: p["status"] == "REJECTED")

                    async def answered() -> bool:
                        request = await reviews.get(person, task_id)
                        return request is not None and request.outcome == "STANDS"
                    await until(answered, 30, "the review's outcome in notification")
                    html = await (await client.get("/reviews?lang=en")).text()
                    assert "the decision stands" in html and "The job loss is not yet reported." in html
                    zh = await (await client.get("/reviews?lang=zh_CN")).text()
                    assert "维持原决定" in zh

            before = await reviews.of_person(person)
            await forget_keys(redis, prefix)  # notification's state lost: rebuilt from assist.tasks and decisions

            async def rebuilt() -> bool:
                return await StoreMarker(redis, prefix).since() is not None and \
                    await reviews.of_person(person) == before
            await until(rebuilt, 60, "the review request and its outcome after a rebuild")
    finally:
        await forget_keys(redis, prefix)
        await redis.aclose()
