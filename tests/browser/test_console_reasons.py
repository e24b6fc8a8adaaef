"""The console says a task's reasons in plain words from the catalogue's labels (zh-CN and en, yuan, the district
by name); the expressions and values stay behind "technical detail", closed until the caseworker opens it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.screenshots import screenshot_path
from tests.browser.test_console import log_in
from tests.integration.casework.test_casework import ALICE, Desk, open_desk, task_record
from tests.unit.core.test_reasons import explanation_of

pytestmark = pytest.mark.integration

CHAOYANG = {"household.district": "110105", "household.region": "110000", "household.urban": True}


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(tmp_path) as d:
        yield d


async def test_the_task_page_gives_plain_reasons_and_keeps_the_technical_detail(chromium: Browser, desk: Desk,
                                                                               tmp_path: Path):
    task = task_record("110105")
    task["offer"]["explanation"] = explanation_of("subsistence_allowance", CHAOYANG)
    await desk.publish(task)
    await desk.queued(ALICE, {task["task_id"]})
    page = await (await chromium.new_context(locale="zh-CN")).new_page()
    await log_in(page, desk, "alice", "zh-CN")
    await page.goto(str(desk.client.make_url(f"/console/tasks/{task['task_id']}")))

    reasons = page.locator("#plain-reasons")
    await expect(reasons).to_contain_text("您家人均月收入 100 元，低于朝阳区城市低保标准 1,450 元")
    await expect(page.locator("#plain-amount")).to_contain_text("每月 4,050 元")
    await expect(page.locator("#explanation h2")).to_contain_text("最低生活保障")
    technical = page.locator("#technical")
    await expect(technical.locator("table.conditions")).not_to_be_visible()
    assert "household." not in await reasons.inner_text()
    await technical.locator("summary").click()
    await expect(technical.locator("table.conditions")).to_be_visible()
    await expect(technical).to_contain_text("household.per_capita_income_fen < standard")
    await expect(technical).to_contain_text("household.per_capita_income_fen 10000 < standard 145000")
    await page.screenshot(path=str(screenshot_path(tmp_path, "console-task-plain-reasons-zh.png")), full_page=True)

    await page.goto(str(desk.client.make_url(f"/console/tasks/{task['task_id']}?lang=en")))
    await expect(page.locator("#plain-reasons")).to_contain_text(
        "Your household's income per person is ¥100 a month, below Chaoyang District's urban standard of ¥1,450")
