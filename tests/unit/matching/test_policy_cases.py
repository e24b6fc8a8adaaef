"""Every table-driven case of policies/cases/*.yaml against the demo catalogue (test ids are the case names)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.matching.domain.catalogue.cases import PolicyCase, load_cases, run_case, run_cases
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue, load_catalogue

ROOT = Path(__file__).resolve().parents[3]
CATALOGUE = ROOT / "policies" / "national-demo.yaml"
CASE_FILES = sorted((ROOT / "policies" / "cases").glob("*.yaml"))
CASES = [case for path in CASE_FILES for case in load_cases(path.read_text(), str(path.relative_to(ROOT)))]


@pytest.fixture(scope="module")
def catalogue() -> PolicyCatalogue:
    return load_catalogue(CATALOGUE.read_text(), "policies/national-demo.yaml")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_policy_case(catalogue: PolicyCatalogue, case: PolicyCase) -> None:
    result = run_case(catalogue, case)
    assert result.passed, f"{case.origin}:{case.line} {case.name}:\n" + "\n".join(result.failures)


def test_case_names_are_unique() -> None:
    names = [case.name for case in CASES]
    assert sorted(n for n in names if names.count(n) > 1) == []


def test_every_policy_has_a_case_file_with_at_least_two_cases(catalogue: PolicyCatalogue) -> None:
    per_file = {path.stem: len(load_cases(path.read_text(), path.name)) for path in CASE_FILES}
    assert {p.id: per_file.get(p.id, 0) >= 2 for p in catalogue.policies} == {p.id: True for p in catalogue.policies}


def test_run_cases_reports_a_wrong_expectation_with_the_explanation(catalogue: PolicyCatalogue) -> None:
    text = """
cases:
  - name: wrong_amount
    date: 2026-03-15
    members: [{id: p1}]
    expected:
      - {policy: subsistence_allowance, eligible: true, amount_fen: 1}
    not_offered: [subsistence_allowance]
"""
    (result,) = run_cases(catalogue, {"cases/wrong.yaml": text})
    assert not result.passed
    assert any("amount_fen=1" in f and "80000 fen" in f for f in result.failures)
    assert any(f.startswith("subsistence_allowance was offered") for f in result.failures)


def test_run_cases_reports_a_case_file_that_does_not_parse(catalogue: PolicyCatalogue) -> None:
    text = "cases:\n  - name: bad\n    date: 2026-02-30\n    household: {incme: 1}\n    expected: []\n"
    (result,) = run_cases(catalogue, [("cases/bad.yaml", text)])
    assert not result.passed
    assert any("cases/bad.yaml:3" in f and "bad date" in f for f in result.failures)
    assert any("cases/bad.yaml:4" in f and "unknown fact 'household.incme'" in f for f in result.failures)


def test_run_cases_reports_an_unknown_policy(catalogue: PolicyCatalogue) -> None:
    text = "cases:\n  - name: typo\n    date: 2026-02-01\n    expected: [{policy: subsistance, eligible: true}]\n"
    (result,) = run_cases(catalogue, {"cases/typo.yaml": text})
    assert result.failures == ("unknown policy 'subsistance'",)
