"""The caseworker console in a real browser: log in, filter the queue, open a task, read its explanation, claim,
approve; the task leaves the queue. Runs against the real Redis and Kafka like the integration tests."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from services.core.settings import load_settings
from tests.browser.screenshots import screenshot_path
from tests.integration.casework.applications_harness import (
    answer_record,
    application_contract,
    publish_answers,
    publish_catalogue,
)
from tests.integration.casework.test_casework import ALICE, PASSWORD, Desk, open_desk, task_record
from tests.integration.casework.test_casework_revisions import revised, settled


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(tmp_path) as d:
        yield d


async def log_in(page: Page, desk: Desk, user: str, lang: str) -> None:
    await page.goto(str(desk.client.make_url(f"/console?lang={lang}")))
    assert "/login" in page.url
    await page.get_by_label("User name" if lang == "en" else "用户名").fill(user)
    await page.get_by_label("Password" if lang == "en" else "密码").fill(PASSWORD)
    await page.get_by_role("button", name="Log in" if lang == "en" else "登录").click()
    await page.wait_for_url("**/console*")


async def test_caseworker_filters_reads_the_explanation_claims_and_approves(chromium: Browser, desk: Desk,
                                                                          tmp_path: Path):
    urgent = task_record("110105", priority=90, due_in=dt.timedelta(hours=6))
    low = task_record("110105", priority=20, due_in=dt.timedelta(hours=90), policy_id="medical_assistance")
    await desk.publish(urgent, low)
    await desk.queued(ALICE, {urgent["task_id"], low["task_id"]})
    context = await chromium.new_context(locale="en-US")
    page = await context.new_page()
    await log_in(page, desk, "alice", "en")
    await expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    rows = page.locator("table.queue tbody tr")
    await expect(rows.filter(has=page.locator(f"[data-task-id='{low['task_id']}']"))).to_have_count(0)
    await expect(page.locator(f"tr[data-task-id='{low['task_id']}']")).to_have_count(1)

    await page.get_by_label("Priority").select_option("urgent")
    await page.get_by_role("button", name="Filter").click()
    await page.wait_for_url("**band=urgent**")
    await expect(page.locator(f"tr[data-task-id='{urgent['task_id']}']")).to_have_count(1)
    await expect(page.locator(f"tr[data-task-id='{low['task_id']}']")).to_have_count(0)

    await page.locator(f"tr[data-task-id='{urgent['task_id']}'] a").first.click()
    await page.wait_for_url(f"**/console/tasks/{urgent['task_id']}")
    explanation = page.locator("#explanation")
    await expect(explanation).to_contain_text("45000 < 145000")
    await expect(explanation).to_contain_text("《社会救助暂行办法》第九条")
    await expect(explanation).to_contain_text("(145000 - 45000) * 2 members = 200000 fen")
    await expect(page.locator("#amount")).to_contain_text("¥2,000.00 per month")
    await expect(page.locator("#evidence")).to_contain_text(urgent["evidence_event_ids"][0])
    await page.screenshot(path=str(tmp_path / "task.png"), full_page=True)

    await page.get_by_role("button", name="Claim", exact=True).click()
    await expect(page.get_by_role("status")).to_have_text("You claimed the task")
    await expect(page.locator("#status")).to_contain_text("Claimed · Claimed by alice")
    await page.get_by_role("button", name="Approve").click()
    await page.wait_for_url("**/console?done=approved")
    await expect(page.get_by_role("status")).to_have_text("Approved; the task is decided")
    await expect(page.locator(f"tr[data-task-id='{urgent['task_id']}']")).to_have_count(0)
    await expect(page.locator(f"tr[data-task-id='{low['task_id']}']")).to_have_count(1)
    status, detail = await desk.call("GET", f"/api/v1/tasks/{urgent['task_id']}", ALICE)
    assert (status, detail["status"], detail["decided_by"]) == (200, "APPROVED", "alice")
    assert [e["action"] for e in detail["audit"]] == ["RECEIVED", "CLAIMED", "APPROVED"]
    await context.close()


async def test_console_speaks_chinese_by_default_and_switches_language(chromium: Browser, desk: Desk):
    context = await chromium.new_context(locale="zh-CN")
    page = await context.new_page()
    await page.goto(str(desk.client.make_url("/login")))
    await expect(page.get_by_role("heading", name="登录")).to_be_visible()
    await log_in(page, desk, "alice", "zh-CN")
    await expect(page.get_by_role("heading", name="待办队列")).to_be_visible()
    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    await page.goto(str(desk.client.make_url("/console")))
    await expect(page.get_by_role("heading", name="Queue")).to_be_visible()  # the choice is remembered
    await context.close()


async def test_wrong_password_and_forged_forms_are_refused(chromium: Browser, desk: Desk):
    context = await chromium.new_context()
    page = await context.new_page()
    await page.goto(str(desk.client.make_url("/login?lang=en")))
    await page.get_by_label("User name").fill("alice")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong user name or password")
    await log_in(page, desk, "alice", "en")
    task = task_record("110105")
    await desk.publish(task)
    await desk.queued(ALICE, {task["task_id"]})
    # A form posted with the session cookie but without the session's CSRF token changes nothing.
    response = await page.request.post(str(desk.client.make_url(f"/console/tasks/{task['task_id']}/claim")),
                                       form={"csrf": "forged"}, max_redirects=0)
    assert response.status == 303 and "error=csrf" in response.headers["location"]
    _, detail = await desk.call("GET", f"/api/v1/tasks/{task['task_id']}", ALICE)
    assert detail["status"] == "QUEUED"
    await context.close()


async def test_caseworker_sees_a_revised_task_with_both_explanations_and_a_withdrawn_one_gone(
        chromium: Browser, desk: Desk, tmp_path: Path):
    claimed, gone = task_record("110105", priority=80), task_record("110105", priority=75)
    await desk.publish(claimed, gone)
    await desk.queued(ALICE, {claimed["task_id"], gone["task_id"]})
    status, _ = await desk.call("POST", f"/api/v1/tasks/{claimed['task_id']}/claim", ALICE)
    assert status == 200
    await desk.publish(revised(claimed, 1, 290_000), revised(gone, 1, 0, change="WITHDRAWN"))
    await settled(desk, ALICE, gone, lambda p: p["status"] == "WITHDRAWN")
    await settled(desk, ALICE, claimed, lambda p: p["change"] == "REVISED")

    context = await chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await log_in(page, desk, "alice", "en")
    await page.locator("select[name=state]").select_option("all")
    await page.get_by_role("button", name="Filter").click()
    await page.wait_for_url("**state=all**")
    row = page.locator(f"tr[data-task-id='{claimed['task_id']}']")
    await expect(row).to_contain_text("¥2,900.00")
    await expect(page.locator(f"tr[data-task-id='{gone['task_id']}']")).to_have_count(0)
    await page.screenshot(path=str(screenshot_path(tmp_path, "console-queue-revised-withdrawn.png")), full_page=True)

    await row.locator("a").first.click()
    await page.wait_for_url(f"**/console/tasks/{claimed['task_id']}")
    await expect(page.locator("#amount")).to_contain_text("¥2,900.00 per month")
    await expect(page.locator("#status")).to_contain_text("Claimed · Claimed by alice")
    revision = page.locator("#revisions article.revision")
    await expect(revision.locator("h3")).to_contain_text("Amount revised")
    await expect(revision.locator(".from-to")).to_have_text("Amount: ¥2,000.00 → ¥2,900.00")
    await expect(revision.locator(".previous-explanation")).to_contain_text("Income below the local line.")
    await expect(revision.locator(".previous-explanation")).to_contain_text("(145000 - 45000) * 2 members")
    await expect(revision.locator(".current-explanation")).to_contain_text("(145000 - 0) * 2 members = 290000 fen")
    await expect(revision.locator(".changed-facts")).to_contain_text("member.monthly_income_fen 45000 -> 0")
    await expect(page.locator("#audit tr.action-revised")).to_contain_text("Amount revised")
    await expect(page.locator("#audit tr.action-revised")).to_contain_text("¥2,000.00 → ¥2,900.00")
    await page.screenshot(path=str(screenshot_path(tmp_path, "console-task-revised.png")), full_page=True)

    await page.goto(str(desk.client.make_url(f"/console/tasks/{gone['task_id']}")))
    await expect(page.locator("#withdrawn")).to_contain_text("Matching withdrew this task")
    await expect(page.locator("#withdrawn")).to_contain_text("Withdrawn: income above the local line")
    await expect(page.locator("#status")).to_have_text("Withdrawn")
    await expect(page.locator("#audit tr.action-withdrawn")).to_contain_text("Withdrawn")
    await expect(page.get_by_role("button", name="Claim", exact=True)).to_have_count(0)
    await page.screenshot(path=str(screenshot_path(tmp_path, "console-task-withdrawn.png")), full_page=True)
    await context.close()


async def test_caseworker_applies_on_the_residents_behalf_and_reads_the_answer(chromium: Browser, tmp_path: Path):
    settings = load_settings()
    catalogue = await publish_catalogue(settings)
    async with open_desk(tmp_path, catalogue=catalogue, contract=application_contract(tmp_path)) as desk:
        task = task_record("110105")
        await desk.publish(task)
        await desk.queued(ALICE, {task["task_id"]})
        context = await chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        await log_in(page, desk, "alice", "en")
        await page.goto(str(desk.client.make_url(f"/console/tasks/{task['task_id']}")))
        await page.locator("#policy_id").select_option("medical_assistance")
        await page.locator("#apply").click()
        await expect(page.get_by_role("status")).to_have_text("Application submitted on the resident's behalf")
        row = page.locator("#applications table tbody tr")
        await expect(row).to_contain_text("medical_assistance")
        await expect(row).to_contain_text("Submitted; waiting for the answer")
        application_id = await row.get_attribute("data-application-id")
        assert application_id
        await publish_answers(settings, answer_record(
            application_id, task["person_id"], task["household_id"], "NOT_ELIGIBLE", applied_by="alice",
            policy_id="medical_assistance", reasons=["no medical expense was settled in the last 12 months"]))
        for _ in range(100):  # the worker takes the answer in within moments
            await page.reload()
            if await row.filter(has_text="Not eligible").count():
                break
            await asyncio.sleep(0.2)
        await expect(row).to_contain_text("Not eligible, because: no medical expense was settled in the last 12 months")
        await expect(row).to_contain_text("alice")
        await page.locator("#applications").screenshot(
            path=str(screenshot_path(tmp_path, "console-task-applications.png")))
        await context.close()
