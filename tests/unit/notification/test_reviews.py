"""Asking for a review: the reason's bounds, one request per decision, the REVIEW task it becomes (no offer, the
original explanation, the resident's words) and what a caseworker's decision means for the resident."""

from __future__ import annotations

import datetime as dt

import pytest

from services.notification.domain.reviews import (
    MAX_REASON_CHARS,
    Reviewable,
    ReviewRefused,
    decided,
    is_citizen_review,
    request_of,
    review_reason,
    review_task,
    review_task_id,
)

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
WITHDRAWN = Reviewable("o-1", "WITHDRAWN", "subsistence_allowance", "Subsistence allowance", "hh-1", "510107",
                       {"summary": "Income above the standard."}, 65_000, ("Withdrawn: income above the line",),
                       "e-1")


def test_the_reason_is_trimmed_and_bounded_and_a_refusal_names_the_field() -> None:
    assert review_reason("  My income   fell.\n") == "My income fell."
    assert len(review_reason("x" * MAX_REASON_CHARS)) == MAX_REASON_CHARS
    for bad in ("", "   ", None, 42, "x" * (MAX_REASON_CHARS + 1), "bad\x00byte"):
        with pytest.raises(ReviewRefused) as refused:
            review_reason(bad)
        assert refused.value.field == "reason" and str(refused.value).startswith("reason:")


def test_one_review_per_person_and_decision() -> None:
    assert review_task_id("p-1", "o-1") == review_task_id("p-1", "o-1")
    assert review_task_id("p-1", "o-1") != review_task_id("p-2", "o-1") != review_task_id("p-1", "o-2")


def test_the_review_task_carries_the_original_explanation_and_the_residents_words_but_no_offer() -> None:
    task = review_task(WITHDRAWN, "p-1", "My income fell.", NOW)
    assert task["kind"] == "REVIEW" and task["offer"] is None and task["district"] == "510107"
    assert task["review"]["explanation"] == {"summary": "Income above the standard."}
    assert task["review"]["reasons"] == ["The resident says: My income fell.", "Withdrawn: income above the line"]
    assert task["due_at"] == NOW + dt.timedelta(days=15) and task["evidence_event_ids"] == ["e-1"]
    assert is_citizen_review(task) and not is_citizen_review({**task, "task_id": "t-abc"})
    request = request_of(task)
    assert (request.task_id, request.reason, request.outcome) == (task["task_id"], "My income fell.", None)


def test_a_decision_without_a_district_cannot_become_a_task() -> None:
    nowhere = Reviewable("a-1", "NOT_ELIGIBLE", "medical_assistance", "Medical", "hh-1", None, None)
    with pytest.raises(ReviewRefused) as refused:
        review_task(nowhere, "p-1", "why", NOW)
    assert refused.value.field == "subject_id"


@pytest.mark.parametrize(("action", "outcome"), [("APPROVED", "UPHELD"), ("REJECTED", "STANDS"),
                                                 ("INFORMATION_REQUESTED", "INFORMATION_REQUESTED"),
                                                 ("CLAIMED", None), ("LEASE_EXPIRED", None)])
def test_what_a_caseworkers_decision_means_for_the_resident(action: str, outcome: str | None) -> None:
    request = request_of(review_task(WITHDRAWN, "p-1", "My income fell.", NOW))
    after = decided(request, {"action": action, "reason": "Checked.", "at": NOW})
    assert (after.outcome if after else None) == outcome
