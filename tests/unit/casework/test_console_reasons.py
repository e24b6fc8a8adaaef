"""The console's reasons: an explanation's labels in plain words in the console's language, a not-eligible
application's unmet conditions, and matching's own words for explanations written before labels."""

from __future__ import annotations

from services.casework.adapters.console_text import plain_reasons, unmet_reasons
from tests.unit.core.test_reasons import explanation_of


def test_a_labelled_explanation_is_said_in_plain_words_in_either_language() -> None:
    explanation = explanation_of("subsistence_allowance")
    zh, en = plain_reasons(explanation, "zh-CN"), plain_reasons(explanation, "en")
    assert zh["labelled"] and zh["name"] == "最低生活保障"
    assert zh["sentences"][0] == {"text": "您家人均月收入 100 元，低于冕宁县农村低保标准 650 元", "holds": True}
    assert en["amount"].startswith("¥1,650 a month")


def test_an_explanation_without_labels_is_left_to_the_technical_detail() -> None:
    old = {"conditions": [{"expression": "a < b", "values": "1 < 2", "holds": True}], "summary": "Eligible."}
    assert plain_reasons(old, "zh-CN") == {"labelled": False, "name": None, "sentences": [], "amount": None}


def test_a_not_eligible_application_says_the_unmet_condition_else_matchings_reason() -> None:
    explanation = explanation_of("subsistence_allowance", {"household.per_capita_income_fen": 80000})
    assert unmet_reasons({"explanation": explanation, "reasons": ["x"]}, "en") == [
        "Your household's income per person is ¥800 a month, not below Mianning County's rural standard of ¥650"]
    assert unmet_reasons({"explanation": None, "reasons": ["not eligible, because y"]}, "en") == [
        "not eligible, because y"]
    assert unmet_reasons(None, "en") == []
