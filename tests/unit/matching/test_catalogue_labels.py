"""Labels in the catalogue: every condition and amount says itself in zh-CN and en, shows only values it uses, and
every policy has its Chinese name; a catalogue without them is refused naming the policy and the condition."""

from __future__ import annotations

from services.core.settings import PROJECT_ROOT
from services.matching.domain.catalogue.labels import CatalogueWording, Label
from services.matching.domain.catalogue.policy_catalogue import load_catalogue
from tests.unit.matching.test_catalogue import HEADER, line_of, policy, problems

DEMO = load_catalogue((PROJECT_ROOT / "policies" / "national-demo.yaml").read_text(encoding="utf-8"), "demo")


def test_a_condition_without_its_english_label_is_refused_naming_policy_and_condition() -> None:
    text = HEADER + policy("subsistence_allowance").replace(
        "{zh-CN: 另一个条件, en: Another condition}", "{zh-CN: 另一个条件}")
    (problem,) = problems(text)
    assert problem == (f"policies/test.yaml:{line_of(text, 'household.members > 0')} policy subsistence_allowance: "
                       "condition 2: label has no en text (a sentence in zh-CN and en is needed)")


def test_a_condition_without_any_label_is_refused() -> None:
    text = HEADER + policy("p").replace("        label: {zh-CN: 另一个条件, en: Another condition}\n", "")
    (problem,) = problems(text)
    assert problem.endswith("policy p: condition 2: no label (a sentence for citizens in zh-CN and en)")


def test_a_placeholder_naming_a_value_the_condition_does_not_use_is_refused() -> None:
    text = HEADER + policy("subsistence_allowance").replace(
        "en: Another condition}", "en: 'Your household has {household.members} members, earning {cap}'}")
    (problem,) = problems(text)
    assert problem.startswith(f"policies/test.yaml:{line_of(text, 'household.members > 0')} policy "
                              "subsistence_allowance: condition 2: label (en) shows {cap}, a value it does not use")
    assert "(it may show: area, household.members, place)" in problem


def test_a_placeholder_may_name_what_a_definition_reads() -> None:
    text = HEADER + policy("p").replace(
        "{zh-CN: 收入低于标准, en: The income is below the standard}",
        "{zh-CN: '人均月收入 {household.per_capita_income_fen}，低于{place}标准 {standard}', "
        "en: 'Income {household.per_capita_income_fen} below {place} standard {standard}'}")
    assert load_catalogue(text, "t").policy("p").conditions[0].label is not None


def test_an_amount_without_a_label_and_a_policy_without_its_chinese_name_are_refused() -> None:
    text = HEADER + policy("p").replace("    amount_label: {zh-CN: 每月金额, en: The monthly amount}\n", "").replace(
        "    name_zh: 一项政策\n", "")
    assert sorted(p.split(" ", 1)[1] for p in problems(text)) == [
        "policy p: amount: no amount_label (a sentence for citizens in zh-CN and en)",
        "policy p: no name_zh (the programme's name in Chinese)",
    ]


def test_an_amount_label_shows_the_amount_and_what_it_is_computed_from() -> None:
    text = HEADER + policy("p", amount="standard * household.members").replace(
        "{zh-CN: 每月金额, en: The monthly amount}",
        "{zh-CN: '每月 {amount}：{standard} 乘以 {household.members} 人', en: '{amount}: {standard} x {cap}'}")
    (problem,) = problems(text)
    assert "policy p: amount: amount_label (en) shows {cap}, a value it does not use" in problem


def test_money_must_name_parameters_or_definitions() -> None:
    text = HEADER.replace("policies:\n", "money: [standard, stnadard]\npolicies:\n") + policy()
    (problem,) = problems(text)
    assert problem.endswith("money: 'stnadard' is not a parameter or definition of the catalogue")


def test_every_demo_policy_is_labelled_in_both_languages() -> None:
    for p in DEMO.policies:
        assert p.name_zh and all(c.label and c.label.zh_cn and c.label.en for c in p.conditions), p.id
        assert p.amount is None or (p.amount_label and p.amount_label.zh_cn and p.amount_label.en), p.id


def test_values_are_typed_money_number_and_place_words() -> None:
    wording = CatalogueWording({"513433": Label("冕宁县", "Mianning County")}, frozenset({"standard"}))
    facts = {"household.district": "513433", "household.region": "510000", "household.urban": False,
             "household.per_capita_income_fen": 10000, "standard": 65000, "member.age": 81}
    assert wording.value("household.per_capita_income_fen", facts)["kind"] == "money"
    assert wording.value("standard", facts) == {"name": "standard", "kind": "money", "value": "65000", "words": {}}
    assert wording.value("member.age", facts)["kind"] == "number"
    assert wording.value("place", facts)["words"] == {"zh-CN": "冕宁县", "en": "Mianning County"}
    assert wording.value("area", facts)["words"] == {"zh-CN": "农村", "en": "rural"}
    assert wording.value("place", {**facts, "household.district": "999999"})["words"]["en"] == "your area"
