"""Evaluating the demo catalogue: per event, on registry load, explaining every policy, and over the whole
population with the vectorised forms (which must agree with the per-household evaluation)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from services.core.codec import decode_record, encode_record, load_contract
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue, load_catalogue
from services.matching.domain.evaluation import (
    EvaluationError,
    evaluate_event,
    evaluate_household,
    evaluate_population,
    explain,
)

ROOT = Path(__file__).resolve().parents[3]
DAY = dt.date(2026, 3, 15)


@pytest.fixture(scope="module")
def catalogue() -> PolicyCatalogue:
    return load_catalogue((ROOT / "policies" / "national-demo.yaml").read_text(), "policies/national-demo.yaml")


def household(**overrides: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "household.id": "h1", "household.district": "510104", "household.region": "510000",
        "household.urban": True, "household.members": 3, "household.monthly_income_fen": 150000,
        "household.per_capita_income_fen": 50000.0, "household.annual_income_fen": 1800000,
        "household.financial_assets_fen": 300000, "household.assets_per_capita_fen": 100000.0,
        "household.earners_working_age": 1, "household.elderly_members": 0, "household.children": 1,
        "household.severe_disability_members": 0, "household.medical_12m_fen": 0, "household.education_12m_fen": 0,
        "household.receives_subsistence_allowance": False, "household.receives_special_hardship": False,
        "household.lives_alone": False, "household.disaster_severity": "NONE",
    }
    return facts | {f"household.{k}": v for k, v in overrides.items()}


def member(person_id: str, age: int, income: int = 0, grade: int = 0) -> dict[str, Any]:
    return {"member.id": person_id, "member.age": age, "member.monthly_income_fen": income,
            "member.disability_grade": grade, "member.has_phone": True, "member.working_age": 16 <= age <= 59}


MEMBERS = {"p1": member("p1", 40), "p2": member("p2", 38, 150000), "p3": member("p3", 10)}
JOB_LOST = {"event.type": "job.lost", "event.id": "e1", "event.subject": "p1", "event.lost_on": "2026-03-01",
            "event.unemployment_registered": True, "event.previous_monthly_income_fen": 300000}


def test_job_loss_below_line_offers_subsistence_allowance_with_its_explanation(catalogue: PolicyCatalogue) -> None:
    outcomes = evaluate_event(catalogue, household(), MEMBERS, JOB_LOST, DAY)
    (dibao,) = [o for o in outcomes if o.policy_id == "subsistence_allowance"]
    assert (dibao.eligible, dibao.amount_fen, dibao.amount_period, dibao.route, dibao.benefit_period,
            dibao.person_id, dibao.policy_version, dibao.district) == \
        (True, 90000, "MONTHLY", "VERIFICATION", "2026-03", None, "2026.1", "510104")
    explanation = dibao.explanation
    assert explanation["conditions"][0] == {
        "expression": "household.per_capita_income_fen < standard",
        "values": "household.per_capita_income_fen 50000 < standard 80000", "holds": True,
        "label": {"zh-CN": "您家人均月收入 {household.per_capita_income_fen}，低于{place}{area}低保标准 {standard}",
                  "en": "Your household's income per person is {household.per_capita_income_fen} a month, below "
                        "{place}'s {area} standard of {standard}"},
        "unmet": {"zh-CN": "您家人均月收入 {household.per_capita_income_fen}，不低于{place}{area}低保标准 {standard}",
                  "en": "Your household's income per person is {household.per_capita_income_fen} a month, not below "
                        "{place}'s {area} standard of {standard}"},
        "label_values": [
            {"name": "household.per_capita_income_fen", "kind": "money", "value": "50000", "words": {}},
            {"name": "place", "kind": "words", "value": "Jinjiang District",
             "words": {"zh-CN": "锦江区", "en": "Jinjiang District"}},
            {"name": "area", "kind": "words", "value": "urban", "words": {"zh-CN": "城市", "en": "urban"}},
            {"name": "standard", "kind": "money", "value": "80000", "words": {}}]}
    assert explanation["computation"] == ("(standard 80000 - household.per_capita_income_fen 50000) * "
                                          "household.members 3 = 90000 fen (900.00 yuan)")
    assert explanation["facts"]["standard"] == "80000"
    assert explanation["summary"].startswith("Eligible for Subsistence allowance (dibao): 900.00 yuan per month")


def test_event_touches_only_policies_triggered_by_its_type(catalogue: PolicyCatalogue) -> None:
    outcomes = evaluate_event(catalogue, household(), MEMBERS, JOB_LOST, DAY)
    assert {o.policy_id for o in outcomes} == {p.id for p in catalogue.policies_for("job.lost")}
    # member scope: the subject only, unless the policy evaluates every member
    assert [o.person_id for o in outcomes if o.policy_id == "employment_assistance"] == ["p1"]
    assert sorted(str(o.person_id) for o in outcomes if o.policy_id == "special_hardship") == ["p1", "p2", "p3"]


def test_event_type_without_policies_gives_no_outcomes(catalogue: PolicyCatalogue) -> None:
    event = {"event.type": "something.else", "event.id": "e9", "event.subject": "p1"}
    assert evaluate_event(catalogue, household(), MEMBERS, event, DAY) == []


def test_registry_evaluation_skips_event_only_policies(catalogue: PolicyCatalogue) -> None:
    outcomes = evaluate_household(catalogue, household(), MEMBERS, DAY)
    assert {o.policy_id for o in outcomes} == {p.id for p in catalogue.policies_for("registry")}
    assert "temporary_assistance" not in {o.policy_id for o in outcomes}


def test_explain_gives_every_policy_with_why_not(catalogue: PolicyCatalogue) -> None:
    outcomes = explain(catalogue, household(per_capita_income_fen=95000.0), MEMBERS, DAY)
    household_policies = [p for p in catalogue.policies if p.scope == "household"]
    member_policies = [p for p in catalogue.policies if p.scope == "member"]
    assert len(outcomes) == len(household_policies) + len(MEMBERS) * len(member_policies)
    (dibao,) = [o for o in outcomes if o.policy_id == "subsistence_allowance"]
    assert not dibao.eligible and dibao.amount_fen is None
    assert dibao.explanation["computation"] is None
    assert [c["holds"] for c in dibao.explanation["conditions"]] == [False, True]  # every condition evaluated
    assert dibao.explanation["summary"] == (
        "Not eligible for Subsistence allowance (dibao): it is not the case that the household's monthly "
        "income per person is below the local subsistence standard.")


def test_explanations_conform_to_the_explanation_record(catalogue: PolicyCatalogue) -> None:
    contract = load_contract()
    for outcome in explain(catalogue, household(), MEMBERS, DAY, JOB_LOST):
        payload = encode_record(contract, "explanation", outcome.explanation)
        assert decode_record(contract, "explanation", payload) == outcome.explanation


def test_temporary_assistance_is_handled_where_the_emergency_happened(catalogue: PolicyCatalogue) -> None:
    event = {"event.type": "emergency.occurred", "event.id": "e7", "event.subject": "p2", "event.kind": "FLOOD",
             "event.severity": "SERIOUS", "event.place_district": "510722", "event.home_destroyed": True,
             "event.occurred_on": "2026-03-10"}
    by_policy = {o.policy_id: o for o in evaluate_event(catalogue, household(), MEMBERS, event, DAY)}
    urgent = by_policy["temporary_assistance"]
    assert (urgent.eligible, urgent.amount_fen, urgent.district, urgent.sla_hours, urgent.benefit_period) == \
        (True, 3 * 80000 * 3, "510722", 24, "e7")
    assert by_policy["housing_assistance"].eligible and by_policy["housing_assistance"].district == "510722"


def test_rising_standard_changes_the_amount_only_from_its_date(catalogue: PolicyCatalogue) -> None:
    facts = household(members=1, monthly_income_fen=70000, per_capita_income_fen=70000.0)
    one = {"p1": member("p1", 50, 70000)}
    before = evaluate_household(catalogue, facts, one, dt.date(2026, 12, 31))
    after = evaluate_household(catalogue, facts, one, dt.date(2027, 1, 1))
    amount = {o.policy_id: o.amount_fen for o in before}["subsistence_allowance"], \
        {o.policy_id: o.amount_fen for o in after}["subsistence_allowance"]
    assert amount == (80000 - 70000, 86800 - 70000)


def test_evaluation_error_names_the_policy(catalogue: PolicyCatalogue) -> None:
    with pytest.raises(EvaluationError, match="policy subsistence_allowance"):
        evaluate_household(catalogue, {k: v for k, v in household().items() if k != "household.members"},
                           MEMBERS, DAY)


# ---- whole population -------------------------------------------------------------------------------------------

def random_population(seed: int, households: int) -> dict[str, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    size = rng.integers(1, 5, households)
    monthly = rng.choice([0, 40000, 80000, 100000, 119999, 120000, 160000, 300000], households) * size
    assets = rng.choice([0, 1_000_000, 1_920_000, 5_000_000], households) * size
    columns: dict[str, np.ndarray[Any, Any]] = {
        "household.id": np.array([f"h{i}" for i in range(households)], dtype=object),
        "household.district": rng.choice(["510104", "110105", "440106"], households),
        "household.region": rng.choice(["510000", "110000", "440000", "650000"], households),
        "household.urban": rng.random(households) < 0.6,
        "household.members": size,
        "household.monthly_income_fen": monthly,
        "household.per_capita_income_fen": monthly / size,
        "household.annual_income_fen": 12 * monthly,
        "household.financial_assets_fen": assets,
        "household.assets_per_capita_fen": assets / size,
        "household.earners_working_age": rng.integers(0, 2, households),
        "household.elderly_members": rng.integers(0, 2, households),
        "household.children": rng.integers(0, 2, households),
        "household.severe_disability_members": rng.integers(0, 2, households),
        "household.medical_12m_fen": rng.choice([0, 500000, 3000000], households),
        "household.education_12m_fen": rng.choice([0, 100000], households),
        "household.receives_subsistence_allowance": rng.random(households) < 0.2,
        "household.receives_special_hardship": rng.random(households) < 0.1,
        "household.lives_alone": size == 1,
        "household.disaster_severity": rng.choice(["NONE", "MINOR"], households),
    }
    owner = np.repeat(np.arange(households), size)
    persons = len(owner)
    ages = rng.choice([5, 15, 16, 40, 59, 60, 79, 80, 92], persons)
    columns |= {
        "member.household": owner,
        "member.id": np.array([f"m{j}" for j in range(persons)], dtype=object),
        "member.age": ages,
        "member.monthly_income_fen": rng.choice([0, 0, 50000, 200000], persons),
        "member.disability_grade": rng.choice([0, 0, 0, 1, 2, 3, 4], persons),
        "member.has_phone": rng.random(persons) < 0.8,
        "member.working_age": (ages >= 16) & (ages <= 59),
    }
    return columns


@pytest.mark.parametrize("on_date", [dt.date(2026, 6, 1), dt.date(2027, 2, 1)])
def test_population_evaluation_agrees_with_household_evaluation(catalogue: PolicyCatalogue, on_date: dt.date) -> None:
    columns = random_population(seed=on_date.year, households=150)
    population = evaluate_population(catalogue, columns, on_date)
    assert set(population) == {p.id for p in catalogue.policies_for("reevaluation")}
    owner = columns["member.household"]
    for h in range(len(columns["household.id"])):
        facts = {k: v[h].item() if hasattr(v[h], "item") else v[h] for k, v in columns.items()
                 if k.startswith("household.")}
        rows = np.flatnonzero(owner == h)
        members = {str(columns["member.id"][j]): {k: v[j].item() if hasattr(v[j], "item") else v[j]
                                                  for k, v in columns.items() if k.startswith("member.")}
                   for j in rows}
        for outcome in evaluate_household(catalogue, facts, members, on_date, trigger="reevaluation"):
            row = h if outcome.person_id is None else int(rows[list(members).index(outcome.person_id)])
            vectorised = population[outcome.policy_id]
            assert (bool(vectorised.eligible[row]), int(vectorised.amount_fen[row])) == \
                (outcome.eligible, outcome.amount_fen or 0), (outcome.policy_id, h, outcome.person_id)


def test_population_evaluation_resolves_the_standard_per_region_and_area(catalogue: PolicyCatalogue) -> None:
    columns = random_population(seed=7, households=40)
    columns["household.region"] = np.array([510000, 110000] * 20, dtype=np.int32)  # integer-coded regions
    columns["household.members"] = np.ones(40, dtype=np.int64)
    columns["household.per_capita_income_fen"] = np.zeros(40)
    columns["household.assets_per_capita_fen"] = np.zeros(40)
    result = evaluate_population(catalogue, columns, dt.date(2027, 1, 1), ["subsistence_allowance"])
    expected = [145000 if r == 110000 else (86800 if u else 70525)
                for r, u in zip(columns["household.region"].tolist(), columns["household.urban"].tolist(),
                                strict=True)]
    assert result["subsistence_allowance"].eligible.all()
    assert result["subsistence_allowance"].amount_fen.tolist() == expected
