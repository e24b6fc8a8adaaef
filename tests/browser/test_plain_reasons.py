"""The citizen page in a real browser says why in plain Chinese: the family's offer, explained by the catalogue's
labels, shows the sentence with yuan and the county's name, and no expression text or fen value anywhere; the
page is rendered with a CJK font and kept as a screenshot."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from services.notification.domain.link import Signer
from tests.browser.screenshots import screenshot_path
from tests.browser.test_citizen_page import KEY
from tests.browser.test_citizen_page import site as site  # the citizen site on the real broker and Redis
from tests.integration.notification.notification_harness import contact_record, offer_record, unique
from tests.unit.core.test_reasons import explanation_of

pytestmark = pytest.mark.integration

FEN_VALUES = ("10000", "65000", "165000", "1560000")
"""The family's income, the standard, the amount and the asset limit in fen: none may be shown."""
EXPRESSION = re.compile(r"household\.|member\.|event\.|_fen|<|>=|<=|==|\{")


async def test_the_chinese_offer_page_says_why_in_plain_words_without_expressions_or_fen(site, chromium, tmp_path):
    parts, base = site
    person = unique("p")
    offer = offer_record(person, "subsistence_allowance", route="VERIFICATION", amount_fen=165_000,
                         policy_name="Subsistence allowance (dibao)", district="513433",
                         explanation=explanation_of("subsistence_allowance"))
    await parts.contacts.put(contact_record(person, ["SMS"], language="zh_CN"))
    await parts.views.add(person, offer)
    link = f"{base}/c/{Signer(KEY).link_token(person, offer['offer_id'], dt.datetime.now(dt.UTC))}"

    page = await chromium.new_page()
    await page.goto(link)
    assert await page.locator("html").get_attribute("lang") == "zh-CN"
    assert await page.locator("h2").inner_text() == "最低生活保障"
    reason = await page.locator(".reason").inner_text()
    assert "您家人均月收入 100 元，低于冕宁县农村低保标准 650 元" in reason
    assert "每月 1,650 元" in await page.locator(".computation").inner_text()
    shown = await page.locator("main").inner_text() if await page.locator("main").count() else \
        await page.locator("body").inner_text()
    found = EXPRESSION.search(shown)
    assert found is None, f"expression text {found.group(0)!r} on the page: {shown}"
    assert [f for f in FEN_VALUES if f in shown] == []
    fonts = await page.evaluate("document.fonts.check('16px sans-serif', '您家人均月收入')")
    assert fonts
    await page.screenshot(path=str(screenshot_path(tmp_path, "citizen-offer-plain-reasons-zh.png")), full_page=True)

    await page.goto(f"{base}/offers/{offer['offer_id']}?lang=en")
    english = await page.locator(".reason").inner_text()
    assert "Your household's income per person is ¥100 a month, below Mianning County's rural standard of ¥650" \
        in english
    assert EXPRESSION.search(await page.locator("body").inner_text()) is None
