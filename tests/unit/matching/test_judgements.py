"""Judgements recalled by the facts a policy reads (catalogue/judgements.py) give the outcomes, explanations
included, that evaluating every policy afresh gives: a catalogue evaluated on many households before (its
judgements kept) against a new catalogue for each household (none kept)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue, load_catalogue
from services.matching.domain.evaluation import evaluate_event, explain

ROOT = Path(__file__).resolve().parents[3]
TEXT = (ROOT / "policies" / "national-demo.yaml").read_text()
WARM = load_catalogue(TEXT, "policies/national-demo.yaml")
"""Shared by every example, so later examples recall what earlier ones judged."""

INCOMES = st.sampled_from((0, 30_000, 79_999, 80_000, 80_000.0, 150_000, 400_000))


def _fresh() -> PolicyCatalogue:
    """The same catalogue with no judgement kept (a copy starts with none)."""
    return replace(WARM)




def _member(person_id: str, age: int, income: Any, grade: int) -> dict[str, Any]:
    return {"member.id": person_id, "member.age": age, "member.monthly_income_fen": income,
            "member.disability_grade": grade, "member.has_phone": True, "member.working_age": 16 <= age <= 59}


members = st.lists(st.tuples(st.sampled_from((3, 10, 40, 62, 75, 85)), INCOMES, st.sampled_from((0, 1, 2, 4))),
                   min_size=1, max_size=4)


def _household(region: str, urban: bool, people: list[tuple[int, Any, int]], assets: int, medical: int,
               receives: bool) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    by_id = {f"p{i}": _member(f"p{i}", age, income, grade) for i, (age, income, grade) in enumerate(people)}
    income = sum(m["member.monthly_income_fen"] for m in by_id.values())
    facts = {
        "household.id": "h1", "household.district": region[:4] + "04", "household.region": region,
        "household.urban": urban, "household.members": len(by_id), "household.monthly_income_fen": income,
        "household.per_capita_income_fen": income / len(by_id), "household.annual_income_fen": income * 12,
        "household.financial_assets_fen": assets, "household.assets_per_capita_fen": assets / len(by_id),
        "household.earners_working_age": sum(1 for m in by_id.values() if m["member.working_age"]
                                             and m["member.monthly_income_fen"]),
        "household.elderly_members": sum(1 for m in by_id.values() if m["member.age"] >= 60),
        "household.children": sum(1 for m in by_id.values() if m["member.age"] < 18),
        "household.severe_disability_members": sum(1 for m in by_id.values() if 1 <= m["member.disability_grade"] <= 2),
        "household.medical_12m_fen": medical, "household.education_12m_fen": 0,
        "household.receives_subsistence_allowance": receives, "household.receives_special_hardship": False,
        "household.lives_alone": len(by_id) == 1, "household.disaster_severity": "NONE",
    }
    return facts, by_id


def _seen(outcomes: list[Any]) -> list[dict[str, Any]]:
    return [o.as_json() for o in outcomes]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(st.sampled_from(("510000", "440000", "110000")), st.booleans(), members,
       st.sampled_from((0, 200_000, 3_000_000)), st.sampled_from((0, 2_000_000)), st.booleans(),
       st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)))
def test_recalled_judgements_explain_every_policy_as_a_fresh_evaluation_does(
        region: str, urban: bool, people: list[tuple[int, Any, int]], assets: int, medical: int, receives: bool,
        day: dt.date) -> None:
    facts, by_id = _household(region, urban, people, assets, medical, receives)
    assert _seen(explain(WARM, facts, by_id, day)) == _seen(explain(_fresh(), facts, by_id, day))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(members, st.sampled_from((0, 100_000, 300_000)), st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)))
def test_recalled_judgements_of_an_event_are_those_of_a_fresh_evaluation(
        people: list[tuple[int, Any, int]], previous: int, day: dt.date) -> None:
    facts, by_id = _household("510000", True, people, 0, 0, False)
    event = {"event.type": "job.lost", "event.id": "e1", "event.subject": "p0", "event.lost_on": day.isoformat(),
             "event.unemployment_registered": True, "event.previous_monthly_income_fen": previous}
    assert _seen(evaluate_event(WARM, facts, by_id, event, day)) == _seen(evaluate_event(_fresh(), facts, by_id,
                                                                                          event, day))


def test_a_changed_fact_read_through_a_definition_is_judged_again() -> None:
    catalogue = _fresh()
    facts, by_id = _household("510000", True, [(40, 0, 0)], 0, 0, False)
    before = {o.policy_id: o.eligible for o in explain(catalogue, facts, by_id, dt.date(2026, 3, 15))}
    richer = {**facts, "household.per_capita_income_fen": 900_000.0, "household.monthly_income_fen": 900_000,
              "household.annual_income_fen": 10_800_000}
    after = {o.policy_id: o.eligible for o in explain(catalogue, richer, by_id, dt.date(2026, 3, 15))}
    assert before["subsistence_allowance"] and not after["subsistence_allowance"]
    assert after == {o.policy_id: o.eligible for o in explain(_fresh(), richer, by_id, dt.date(2026, 3, 15))}
