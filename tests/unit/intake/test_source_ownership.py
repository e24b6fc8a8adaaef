"""A department publishes only from its own sources; answers never repeat an unfit id."""

from __future__ import annotations

from services.core.codec import load_contract
from services.intake.domain.submission import answerable_id, judge_structured
from tests.conftest import discharge

CONTRACT = load_contract()


def test_a_source_of_another_department_is_forbidden_naming_source():
    event = discharge()
    event["source"] = "/departments/human_resources/jobs"
    verdict = judge_structured(CONTRACT, "health", [event], str)
    assert verdict.forbidden
    assert [(p.field, p.reason) for p in verdict.problems] == [
        ("source", "must be /departments/health/<system> for this department")]


def test_a_source_outside_the_departments_tree_is_forbidden():
    event = discharge()
    event["source"] = "/elsewhere/health/his"
    assert judge_structured(CONTRACT, "health", [event], str).forbidden


def test_a_foreign_type_and_source_are_both_named():
    event = discharge()
    event["source"] = "/departments/education/school"
    verdict = judge_structured(CONTRACT, "education", [event], str)
    assert {p.field for p in verdict.problems} == {"type"}
    verdict = judge_structured(CONTRACT, "human_resources", [event], str)
    assert {p.field for p in verdict.problems} == {"type", "source"}


def test_only_ids_fit_to_repeat_are_echoed():
    assert answerable_id("a-b-c") == "a-b-c"
    assert answerable_id("x" * 10_000) is None
    assert answerable_id("\ud800") is None
    assert answerable_id(7) is None
