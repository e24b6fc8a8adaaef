"""Revisions and withdrawals as the citizen hears of them: a notice names the new and the old figure or says the
offer was withdrawn; a withdrawal notice goes to the inbox only; each delivery has its own id; a delivery's
statuses are told apart from another delivery's of the same offer."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from services.notification.adapters.citizen_pages import offer_model
from services.notification.domain.answers import OfferState, OfferView
from services.notification.domain.contact import Channel, Language
from services.notification.domain.delivered import by_notification, delivery_of
from services.notification.domain.plan import plan_withdrawal_notice
from services.notification.domain.revisions import Notice, delivery_id, received, revision_number, withdrawn
from services.notification.rendering import MessageTemplates
from tests.unit.notification.offers import NOW, contact, offer

LINK = "https://assist.example/c/v1.p1.o-x.1.sig"


def revision(number: int = 1, amount: int | None = 120_000, change: str = "REVISED", **extra: object) -> dict:
    return offer(amount_fen=amount, change=change, revision={
        "number": number, "previous_amount_fen": 80_000, "previous_summary": "Before.", "previous_computation": None,
        "reason": "Income fell to 0." if change == "REVISED" else "Withdrawn: income above the standard.",
        "changed_facts": ["member.monthly_income_fen 1000 -> 0"], "received": False, **extra})


def render(value: dict, language: Language, notice: Notice) -> str:
    message = MessageTemplates().render(value, language, LINK, NOW + dt.timedelta(days=30), False,
                                        ZoneInfo("Asia/Shanghai"), notice)
    return f"{message.subject}\n{message.short}\n{message.body}"


def test_the_first_delivery_is_the_offer_id_and_each_revision_has_its_own():
    assert delivery_id("o-1", 0) == "o-1" and delivery_id("o-1", 2) == "o-1~2"
    assert revision_number(offer()) == 0 and revision_number(revision(3)) == 3
    assert withdrawn(revision(change="WITHDRAWN")) and not withdrawn(revision())
    assert received(revision(received=True)) and not received(offer())


@pytest.mark.parametrize(("language", "new", "old", "word"), [(Language.EN, "¥1,200.00", "¥800.00", "revised"),
                                                               (Language.ZH_CN, "1,200.00 元", "800.00 元", "调整")])
def test_a_revision_notice_names_the_new_and_the_old_figure_and_why(language, new, old, word):
    text = render(revision(), language, Notice.REVISED)
    assert new in text and old in text and word in text and LINK in text
    assert "member.monthly_income_fen 1000 -> 0" in text


@pytest.mark.parametrize(("language", "word"), [(Language.EN, "no longer offered"), (Language.ZH_CN, "已撤回")])
def test_a_withdrawal_notice_says_the_offer_was_withdrawn_and_why(language, word):
    text = render(revision(change="WITHDRAWN", amount=None), language, Notice.WITHDRAWN)
    assert word in text and "Withdrawn: income above the standard." in text


def test_a_withdrawal_notice_goes_to_the_inbox_only_whatever_the_person_prefers():
    state = plan_withdrawal_notice(contact(channels=["SMS", "EMAIL"], quiet_from="00:00", quiet_until="23:59"))
    assert state.chain == (Channel.INBOX,) and state.critical and not state.suppressed
    assert plan_withdrawal_notice(None).chain == (Channel.INBOX,)


def test_statuses_of_two_deliveries_of_one_offer_are_told_apart():
    at = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    found = by_notification([{"notification_id": "n-a", "offer_id": "o-1", "channel": "SMS", "status": "SENT",
                              "at": at},
                             {"notification_id": "n-b", "offer_id": "o-1", "channel": "SMS", "status": "RETRYING",
                              "at": at}])
    assert delivery_of(found["n-a"]).final and not delivery_of(found["n-b"]).final


def test_the_page_says_in_plain_words_why_an_offer_was_withdrawn_and_offers_no_answer():
    value = revision(change="WITHDRAWN", amount=None)
    value["explanation"]["conditions"] = [{"expression": "income < standard", "values": "90000 < 80000",
                                           "holds": False}]
    model = offer_model(OfferView(value, OfferState.OFFERED), Language.EN)
    assert model["withdrawn"] and not model["open"]
    assert "no longer meet the conditions for Employment assistance" in model["change_text"]
    assert model["not_met"] == value["explanation"]["conditions"]
    revised_model = offer_model(OfferView(revision(), OfferState.OFFERED), Language.ZH_CN)
    assert revised_model["change_text"] == "由于您的信息发生变化，金额已由每月 800.00 元调整为每月 1,200.00 元。"
