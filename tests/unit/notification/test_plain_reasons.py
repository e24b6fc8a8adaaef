"""Messages and the citizen page say why in plain words from the catalogue's labels, in the person's language:
money in yuan with its sign, the place by name, never an expression or a fen value."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from services.core.application_views import Application
from services.notification.adapters.citizen_pages import application_model
from services.notification.domain.contact import Language
from services.notification.domain.revisions import Notice
from services.notification.domain.wording import plain_reasons, policy_name
from services.notification.rendering import MessageTemplates
from tests.unit.core.test_reasons import explanation_of
from tests.unit.notification.offers import NOW, offer

TEMPLATES = MessageTemplates()
LINK = "https://assist.example/c/v1.p1.o-x.1.sig"
TECHNICAL = re.compile(r"household\.|member\.|_fen|[<>]=?|==|\b(10000|65000|165000|1560000)\b")
"""Expression text, or one of the family's fen values (income, standard, amount, asset limit)."""
ZH = "您家人均月收入 100 元，低于冕宁县农村低保标准 650 元"
EN = "Your household's income per person is ¥100 a month, below Mianning County's rural standard of ¥650"


def dibao() -> dict[str, object]:
    return offer("subsistence_allowance", tier="basic", amount_fen=165_000,
                 policy_name="Subsistence allowance (dibao)", explanation=explanation_of("subsistence_allowance"))


@pytest.mark.parametrize(("language", "sentence", "name"), [(Language.ZH_CN, ZH, "最低生活保障"),
                                                            (Language.EN, EN, "Subsistence allowance (dibao)")])
def test_sms_and_mail_say_the_reason_in_plain_words(language: Language, sentence: str, name: str) -> None:
    message = TEMPLATES.render(dibao(), language, LINK, NOW + dt.timedelta(days=30), False, ZoneInfo("Asia/Shanghai"))
    assert sentence in message.short and sentence in message.body and name in message.subject
    for text in (message.subject, message.short, message.body.replace(LINK, "")):
        assert not TECHNICAL.search(text), text


def test_the_page_says_each_condition_and_the_amount_in_plain_words() -> None:
    said = plain_reasons(dibao()["explanation"], Language.ZH_CN)  # type: ignore[arg-type]
    assert said["labelled"] and said["condition_sentences"][0] == {"text": ZH, "holds": True}
    assert said["amount_reason"] == "每月 1,650 元：低保标准 650 元 减去人均月收入 100 元，乘以家庭人数 3"
    assert said["reason"].startswith(ZH)


def test_a_withdrawal_says_which_condition_is_no_longer_met() -> None:
    explanation = explanation_of("subsistence_allowance", {"household.per_capita_income_fen": 80000})
    withdrawn = {**dibao(), "explanation": explanation, "change": "WITHDRAWN",
                 "revision": {"number": 1, "reason": "Withdrawn: a < b no longer holds", "changed_facts": []}}
    message = TEMPLATES.render(withdrawn, Language.EN, LINK, NOW, False, dt.UTC, notice=Notice.WITHDRAWN)
    assert "not below Mianning County's rural standard of ¥650" in message.body
    assert "a < b" not in message.body


def test_the_chinese_name_comes_from_the_catalogue_not_from_code() -> None:
    assert policy_name({"policy_id": "x", "policy_name": "X", "explanation": {"policy_names": {"zh-CN": "某项救助"}}},
                       Language.ZH_CN) == "某项救助"
    assert policy_name({"policy_id": "subsistence_allowance", "policy_name": "Subsistence allowance"},
                       Language.ZH_CN) == "Subsistence allowance"


def test_an_application_not_eligible_says_which_conditions_are_not_met_in_plain_words() -> None:
    explanation = explanation_of("subsistence_allowance", {"household.per_capita_income_fen": 80000})
    application = Application("a1", "p1", "subsistence_allowance", "citizen", answer={
        "outcome": "NOT_ELIGIBLE", "policy_name": "Subsistence allowance (dibao)", "explanation": explanation,
        "reasons": ["not eligible, because the household's monthly income per person is not below the standard"]})
    model = application_model(application, Language.ZH_CN)
    assert model["policy"] == "最低生活保障"
    assert model["reasons"] == ["您家人均月收入 800 元，不低于冕宁县农村低保标准 650 元"]
