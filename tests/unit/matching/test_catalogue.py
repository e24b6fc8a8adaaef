"""Loading the policy catalogue: every problem reported with its line and policy, dated regional parameters,
the trigger index, the vocabulary against the event contract, and the demo catalogue and charity list."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from services.matching.domain.catalogue.charities import load_charity_programmes, programmes_for
from services.matching.domain.catalogue.policy_catalogue import CatalogueError, PolicyCatalogue, load_catalogue
from services.matching.domain.evaluation import evaluate_event
from services.matching.domain.household.vocabulary import DEFAULT_VOCABULARY, EVENT_FIELDS, STATE_TRIGGERS

ROOT = Path(__file__).resolve().parents[3]

HEADER = """\
catalogue: test
version: "1"
effective_from: 2026-01-01
parameters:
  standard:
    values:
      - {from: 2026-01-01, urban: 90000, rural: 70000}
      - {from: 2026-01-01, region: "510000", urban: 80000, rural: 65000}
      - {from: 2027-01-01, region: "510000", urban: 86800, rural: 70525}
  cap: 5000000
definitions:
  below: household.per_capita_income_fen < standard
policies:
"""

POLICY = """\
  - id: {id}
    name: A policy
    name_zh: 一项政策
    legal_basis: Interim Measures for Social Assistance, art. 9
    tier: basic
    scope: {scope}
    triggers: [{triggers}]
    conditions:
      - check: below
        label: {{zh-CN: 收入低于标准, en: The income is below the standard}}
      - check: {condition}
        label: {{zh-CN: 另一个条件, en: Another condition}}
    amount: {amount}
    amount_label: {{zh-CN: 每月金额, en: The monthly amount}}
    amount_period: MONTHLY
    route: VERIFICATION
    priority: 50
    sla_hours: 72
    benefit_period: month
"""


def policy(policy_id: str = "p", scope: str = "household", triggers: str = "registry",
           condition: str = "household.members > 0", amount: str = "standard") -> str:
    return POLICY.format(id=policy_id, scope=scope, triggers=triggers, condition=condition, amount=amount)


def problems(text: str) -> tuple[str, ...]:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(text, "policies/test.yaml")
    return caught.value.problems


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)


# ---- errors -----------------------------------------------------------------------------------------------------

def test_unknown_name_is_rejected_with_file_line_policy_and_condition() -> None:
    text = HEADER + policy("medical_assistance", condition="household.incme_fen > 0")
    (problem,) = problems(text)
    line = line_of(text, "household.incme_fen")
    assert problem.startswith(f"policies/test.yaml:{line} policy medical_assistance: condition 2: "
                              "unknown name 'household.incme_fen' at column 1")
    assert "did you mean 'household." in problem


def test_syntax_error_is_rejected_with_line_and_column() -> None:
    text = HEADER + policy("subsistence_allowance", condition="household.members >")
    (problem,) = problems(text)
    assert problem == (f"policies/test.yaml:{line_of(text, 'household.members >')} policy subsistence_allowance: "
                       "condition 2: unexpected end of expression at column 20")


def test_bad_parameter_date_is_rejected_with_its_line() -> None:
    text = HEADER.replace("{from: 2027-01-01,", "{from: 2027-13-01,") + policy()
    (problem,) = problems(text)
    assert problem.startswith(f"policies/test.yaml:{line_of(text, '2027-13-01')} parameter standard: "
                              "bad date '2027-13-01'")


def test_every_problem_is_reported_not_only_the_first() -> None:
    text = (HEADER.replace("value: 5000000", "value: x").replace("cap: 5000000", "cap: lots")
            + policy("a", condition="(household.members")
            + policy("b", triggers="job.lost, job.found")
            + policy("c", condition="member.age >= 80")
            + policy("d", triggers="registry", condition="event.severity == 'MINOR'")
            + policy("e", triggers="job.lost", condition="event.out_of_pocket_fen > 0")
            + policy("a")
            + policy("f").replace("    priority: 50", "    priority: 101")
            + policy("g").replace("    amount_period: MONTHLY", "    amount_period: SERVICE")
            + policy("h").replace("    tier: basic", "    tier: basic\n    colour: blue"))
    found = "\n".join(problems(text))
    expected = [
        f":{line_of(text, 'cap: lots')} parameter cap: expected a number, found 'lots'",
        f":{line_of(text, '(household.members')} policy a: condition 2: expected ')' to close the parenthesis",
        "policy b: triggers: unknown trigger 'job.found'",
        f":{line_of(text, 'member.age >= 80')} policy c: condition 2: reads 'member.age', but the scope is household",
        "policy d: condition 2: reads 'event.severity', which none of its triggering events carries",
        "policy e: condition 2: reads 'event.out_of_pocket_fen', which none of its triggering events carries",
        "policy a: duplicate policy id",
        "policy f: priority: 101 is outside 0..100",
        "policy g: a SERVICE has no amount; every other amount_period needs one",
        f":{line_of(text, 'colour: blue')} policy #9: unknown key 'colour'",
    ]
    assert [e for e in expected if e not in found] == []


def test_definitions_that_refer_to_themselves_are_rejected() -> None:
    text = HEADER.replace("  below: household.per_capita_income_fen < standard",
                          "  below: household.per_capita_income_fen < line\n  line: if(below, standard, 0)") + policy()
    (problem,) = problems(text)
    assert "definition below: refers to itself: below -> line -> below" in problem


def test_policy_ids_must_be_snake_case() -> None:
    assert any("policy id 'Medical-Aid' must be snake_case" in p for p in problems(HEADER + policy("Medical-Aid")))


def test_a_document_that_is_not_yaml_is_rejected_with_its_line() -> None:
    (problem,) = problems(HEADER + "  - id: [unclosed\n")
    assert problem.startswith("policies/test.yaml:") and "not valid YAML" in problem


def test_a_catalogue_arrives_as_a_document_string_and_keeps_its_version_text() -> None:
    catalogue = load_catalogue(HEADER.replace('version: "1"', "version: 2026.10") + policy(), "assist.policies")
    assert (catalogue.version, catalogue.name, catalogue.origin) == ("2026.10", "test", "assist.policies")


# ---- parameters -------------------------------------------------------------------------------------------------

def test_rising_standard_is_used_only_from_its_date() -> None:
    catalogue = load_catalogue(HEADER + policy(), "t")
    assert catalogue.resolve("standard", "510000", True, dt.date(2026, 12, 31)) == 80000
    assert catalogue.resolve("standard", "510000", True, dt.date(2027, 1, 1)) == 86800
    assert catalogue.resolve("standard", "510000", False, dt.date(2027, 1, 1)) == 70525
    assert catalogue.resolve("standard", "440000", True, dt.date(2027, 1, 1)) == 90000  # the default
    assert catalogue.resolve("standard", "510000", True, dt.date(2025, 6, 1)) == 80000  # before any date


def test_parameters_resolve_per_row_for_string_and_integer_region_codes() -> None:
    catalogue = load_catalogue(HEADER + policy(), "t")
    urban = np.array([True, False, True, False])
    on = dt.date(2027, 3, 1)
    expected = [catalogue.resolve("standard", r, u, on) for r, u in
                zip(["510000", "510000", "440000", "440000"], urban.tolist(), strict=True)]
    for regions in (np.array(["510000", "510000", "440000", "440000"]), np.array([510000, 510000, 440000, 440000])):
        assert catalogue.parameters["standard"].resolve_columns(regions, urban, on).tolist() == expected


# ---- index -------------------------------------------------------------------------------------------------------

def _synthetic(policies_per_other_type: int, on_job_loss: int) -> PolicyCatalogue:
    others = sorted(t for t in DEFAULT_VOCABULARY.triggers() - STATE_TRIGGERS if t != "job.lost")  # event triggers
    blocks = [policy(f"job_{i}", triggers="job.lost") for i in range(on_job_loss)]
    # Evaluating any of these would fail (a district code is not a number): the index must never reach them.
    blocks += [policy(f"other_{t.replace('.', '_')}_{i}", triggers=t, condition="household.district < 5")
               for t in others for i in range(policies_per_other_type)]
    return load_catalogue(HEADER + "".join(blocks), "synthetic")


FACTS = {"household.id": "h", "household.district": "510104", "household.region": "510000",
         "household.urban": True, "household.members": 2, "household.per_capita_income_fen": 40000.0}
EVENT = {"event.type": "job.lost", "event.id": "e1", "event.subject": "p1"}


def test_thousand_policy_catalogue_evaluates_an_event_touching_only_its_indexed_policies() -> None:
    large = _synthetic(policies_per_other_type=99, on_job_loss=10)
    small = _synthetic(policies_per_other_type=0, on_job_loss=10)
    assert len(large.policies) == 1000
    outcomes = evaluate_event(large, FACTS, {}, EVENT, dt.date(2026, 3, 1))
    assert [o.policy_id for o in outcomes] == [f"job_{i}" for i in range(10)]
    assert all(o.eligible and o.amount_fen == 80000 for o in outcomes)
    assert [o.policy_id for o in evaluate_event(small, FACTS, {}, EVENT, dt.date(2026, 3, 1))] == \
        [o.policy_id for o in outcomes]


# ---- vocabulary and demo files -----------------------------------------------------------------------------------

def test_vocabulary_event_fields_match_the_event_contract() -> None:
    contract = {}
    for path in (ROOT / "schemas" / "events").glob("*.avsc"):
        schema = json.loads(path.read_text())
        contract[schema["ce_type"]] = frozenset(f["name"] for f in schema["fields"])
    assert dict(EVENT_FIELDS) == contract


def test_demo_catalogue_loads_with_every_programme() -> None:
    catalogue = load_catalogue((ROOT / "policies" / "national-demo.yaml").read_text(), "policies/national-demo.yaml")
    assert (catalogue.name, catalogue.version, catalogue.effective_from) == ("national-demo", "2026.1",
                                                                              dt.date(2026, 1, 1))
    assert catalogue.policy_ids() >= {
        "subsistence_allowance", "marginal_household", "marginal_single_person_inclusion", "special_hardship",
        "temporary_assistance", "medical_assistance", "education_assistance", "employment_assistance",
        "housing_assistance", "disability_living_subsidy", "severe_disability_nursing_subsidy",
        "old_age_allowance", "elderly_care_services", "essential_expenditure_hardship", "charity_referral"}
    urgent = catalogue.policy("temporary_assistance")
    assert (urgent.sla_hours, urgent.route, urgent.district is not None) == (24, "VERIFICATION", True)
    assert urgent.priority == max(p.priority for p in catalogue.policies)


def test_charity_programmes_serve_every_need_the_demo_catalogue_refers_to() -> None:
    programmes = load_charity_programmes((ROOT / "policies" / "charities.yaml").read_text(), "policies/charities.yaml")
    for need in ("medical", "disaster"):
        for region in ("110000", "510000", "440000", "650000"):
            assert programmes_for(programmes, need, region), (need, region)
    assert [p.id for p in programmes_for(programmes, "disaster", "440000")] == \
        ["disaster_recovery_fund", "guangdong_typhoon_relief"]


def test_charity_list_problems_name_their_lines() -> None:
    with pytest.raises(CatalogueError) as caught:
        load_charity_programmes("programmes:\n  - id: fund\n    name: F\n    organisation: O\n"
                                "    registration: R\n    needs: [food]\n    regions: ['*']\n", "charities.yaml")
    assert caught.value.problems == ("charities.yaml:6 programme fund: needs: unknown need 'food' "
                                     "(known: medical, disaster, education, housing, elderly, disability)",)
