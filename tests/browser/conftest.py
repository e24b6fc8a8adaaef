"""Browser tests: Debian's Chromium (never a downloaded browser), headless, driven by Playwright. Every test under
tests/browser is marked `browser`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(__file__).parent in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium for one test."""
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (one stat before the browser starts)
        pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium package (./run setup)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()
