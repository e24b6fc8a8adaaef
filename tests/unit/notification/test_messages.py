"""Messages from the templates, in Chinese and English: what is offered, the amount in yuan, why, and the link."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from services.notification.domain.contact import Language
from services.notification.domain.wording import amount_text
from services.notification.rendering import MessageTemplates
from tests.unit.notification.offers import NOW, offer

TEMPLATES = MessageTemplates()
LINK = "https://assist.example/c/v1.p1.o-x.1.sig"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def render(value, language, approved=False):
    return TEMPLATES.render(value, language, LINK, NOW + dt.timedelta(days=30), approved, SHANGHAI)


@pytest.mark.parametrize("language", list(Language))
def test_every_message_says_what_how_much_why_and_where_to_answer(language):
    message = render(offer(amount_fen=123_450), language)
    assert "1,234.50" in message.short and LINK in message.short
    for text in (message.body,):
        assert "1,234.50" in text and LINK in text
        assert "Eligible because the income is below the standard." in text
    assert message.subject and message.language is language


def test_chinese_message_names_the_programme_in_chinese_with_yuan():
    message = render(offer(), Language.ZH_CN)
    assert "就业救助" in message.subject
    assert "每月 800.00 元" in message.body
    assert "2026年12月20日" in message.body


def test_english_message_gives_yuan_and_period():
    message = render(offer(), Language.EN)
    assert "¥800.00 per month" in message.body
    assert "20 December 2026" in message.body


def test_policy_with_its_own_template_uses_it_in_both_languages():
    emergency = offer("temporary_assistance", tier="temporary", priority=95, amount_period="ONE_OFF")
    assert "Urgent help" in render(emergency, Language.EN).subject
    assert "紧急救助" in render(emergency, Language.ZH_CN).subject
    assert "一次性" in render(emergency, Language.ZH_CN).body


def test_approved_offer_says_a_caseworker_approved_it():
    assert "approved" in render(offer(), Language.EN, approved=True).body
    assert "审核通过" in render(offer(), Language.ZH_CN, approved=True).body


def test_a_service_without_amount_says_so():
    assert amount_text(offer(amount_fen=None, amount_period="SERVICE"), Language.EN) == "a service (no cash amount)"
    assert "服务" in render(offer(amount_fen=None, amount_period="SERVICE"), Language.ZH_CN).body


def test_a_policy_id_that_is_not_a_plain_name_falls_back_to_the_default_template():
    message = render(offer("../default", policy_name="Odd"), Language.EN)
    assert "Odd" in message.subject
