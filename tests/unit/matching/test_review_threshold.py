"""The review threshold of a policy (review_when) is catalogue data, checked like every expression."""

from __future__ import annotations

from services.core.settings import PROJECT_ROOT
from services.matching.domain.catalogue.policy_catalogue import load_catalogue
from tests.unit.matching.test_catalogue import HEADER, line_of, policy, problems


def with_review(text: str, review: str) -> str:
    return text.replace("    amount_period: MONTHLY", f"    review_when: {review}\n    amount_period: MONTHLY")


def test_a_review_threshold_is_read_with_the_policy() -> None:
    catalogue = load_catalogue(with_review(HEADER + policy(), "household.per_capita_income_fen > 2 * standard"),
                               "policies/test.yaml")
    review = catalogue.policy("p").review_when
    assert review is not None and review.source == "household.per_capita_income_fen > 2 * standard"


def test_a_review_threshold_with_an_unknown_name_is_rejected_with_its_line() -> None:
    text = with_review(HEADER + policy(), "household.incme > standard")
    (problem,) = problems(text)
    assert problem.startswith(f"policies/test.yaml:{line_of(text, 'review_when')} policy p: review_when: "
                              "unknown name 'household.incme' at column 1")


def test_a_review_threshold_may_not_read_event_facts() -> None:
    text = with_review(HEADER + policy(triggers="job.lost, registry"), "event.unemployment_registered")
    (problem,) = problems(text)
    assert "review_when: reads 'event.unemployment_registered'" in problem
    assert "decided on the household's state" in problem


def test_a_review_threshold_needs_a_policy_decided_on_the_state() -> None:
    text = with_review(HEADER + policy(triggers="job.lost"), "household.members > 3")
    (problem,) = problems(text)
    assert "review_when: reviews need a policy decided on the household's state" in problem


def test_a_one_off_benefit_has_no_review_threshold() -> None:
    text = with_review(HEADER + policy(), "household.members > 3").replace("amount_period: MONTHLY",
                                                                           "amount_period: ONE_OFF")
    (problem,) = problems(text)
    assert "a ONE_OFF benefit is paid once and has nothing to review" in problem


def test_a_household_policy_review_threshold_may_not_read_member_facts() -> None:
    text = with_review(HEADER + policy(), "member.age > 80")
    (problem,) = problems(text)
    assert "review_when: reads 'member.age', but the scope is household" in problem


def test_the_demo_subsistence_allowance_is_reviewed_above_its_margin() -> None:
    demo = load_catalogue((PROJECT_ROOT / "policies" / "national-demo.yaml").read_text(), "demo")
    review = demo.policy("subsistence_allowance").review_when
    assert review is not None and "exit_review_margin" in review.names
