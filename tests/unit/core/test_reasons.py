"""Reasons in plain words: an explanation's labels rendered with their values in the reader's language, money in
yuan with its sign, the place in the reader's language, never fen or expressions."""

from __future__ import annotations

import datetime as dt
import re

from services.core import reasons
from services.core.codec import decode_record, encode_record, load_contract
from services.core.settings import PROJECT_ROOT
from services.matching.domain.catalogue.policy_catalogue import load_catalogue
from services.matching.domain.evaluation import explain

CATALOGUE = load_catalogue((PROJECT_ROOT / "policies" / "national-demo.yaml").read_text(encoding="utf-8"), "demo")
MIANNING_FAMILY = {
    "household.per_capita_income_fen": 10000, "household.assets_per_capita_fen": 0, "household.members": 3,
    "household.region": "510000", "household.district": "513433", "household.urban": False,
    "household.receives_subsistence_allowance": False, "household.receives_special_hardship": False,
    "household.earners_working_age": 1, "household.lives_alone": False, "household.annual_income_fen": 360000,
    "household.medical_12m_fen": 0, "household.education_12m_fen": 0,
}


def explanation_of(policy_id: str, facts: dict[str, object] | None = None) -> dict[str, object]:
    outcomes = explain(CATALOGUE, {**MIANNING_FAMILY, **(facts or {})}, {}, dt.date(2026, 6, 1))  # type: ignore[dict-item]
    return next(o.explanation for o in outcomes if o.policy_id == policy_id)


def test_money_is_yuan_with_its_sign_never_fen() -> None:
    assert reasons.money_text(10000, "zh_CN") == "100 元"
    assert reasons.money_text(10000, "en") == "¥100"
    assert reasons.money_text(105050, "en") == "¥1,050.50"
    assert reasons.money_text(-5, "zh-CN") == "-0.05 元"


def test_the_allowance_is_explained_in_plain_chinese_and_english() -> None:
    explanation = explanation_of("subsistence_allowance")
    zh = reasons.condition_sentences(explanation, "zh_CN")[0]
    en = reasons.condition_sentences(explanation, "en")[0]
    assert zh == "您家人均月收入 100 元，低于冕宁县农村低保标准 650 元"
    assert en == "Your household's income per person is ¥100 a month, below Mianning County's rural standard of ¥650"
    assert reasons.policy_name(explanation, "zh_CN") == "最低生活保障"
    assert reasons.amount_sentence(explanation, "en") == (
        "¥1,650 a month: the standard of ¥650 less the income per person of ¥100, for each of the 3 members")


def test_a_condition_that_does_not_hold_is_said_with_its_unmet_label() -> None:
    explanation = explanation_of("subsistence_allowance", {"household.per_capita_income_fen": 80000})
    assert reasons.condition_sentences(explanation, "zh-CN", holding=False) == [
        "您家人均月收入 800 元，不低于冕宁县农村低保标准 650 元"]
    assert reasons.reason_text(explanation, "en") == (
        "Your household's income per person is ¥800 a month, not below Mianning County's rural standard of ¥650.")


def test_no_sentence_of_any_policy_shows_expressions_or_fen() -> None:
    for outcome in explain(CATALOGUE, MIANNING_FAMILY, {}, dt.date(2026, 6, 1)):  # type: ignore[arg-type]
        for language in ("zh-CN", "en"):
            said = " ".join([*reasons.condition_sentences(outcome.explanation, language),
                             reasons.amount_sentence(outcome.explanation, language) or ""])
            assert not re.search(r"household\.|member\.|_fen|[<>]=?|==|\{", said), (outcome.policy_id, said)


def test_an_explanation_without_labels_says_nothing_so_the_reader_keeps_its_summary() -> None:
    old = {"eligible": True, "conditions": [{"expression": "a < b", "values": "1 < 2", "holds": True}]}
    assert reasons.reason_text(old, "zh-CN") == ""
    assert reasons.policy_name(old, "en") is None
    assert reasons.amount_sentence(old, "en") is None


def test_an_explanation_with_labels_travels_as_its_record() -> None:
    contract = load_contract()
    explanation = explanation_of("subsistence_allowance")
    again = decode_record(contract, "explanation", encode_record(contract, "explanation", explanation))
    assert reasons.condition_sentences(again, "zh-CN") == reasons.condition_sentences(explanation, "zh-CN")
    assert reasons.amount_sentence(again, "zh-CN") == (
        "每月 1,650 元：低保标准 650 元 减去人均月收入 100 元，乘以家庭人数 3")
