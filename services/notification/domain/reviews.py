"""Asking for a review of a decision one disagrees with, from the citizen page.

A resident may ask for a review of an offer withdrawn from them or of an application answered "not eligible",
once per decision, with a short reason. The request is a caseworker task of kind REVIEW
(schemas/records/caseworker_task.avsc) for the decision's district, carrying the original explanation and the
resident's reason; it is answered through the same decision flow as every task (APPROVED: the review finds for
the resident; REJECTED: the decision stands, with the caseworker's reason), and the outcome shows on the page.

The task names no offer: a decision on it must not be read as an approval of the withdrawn offer or as an answer
to an offer (matching and notification act on decisions that name an offer). Its id starts with `citizen-review-`
so notification knows its own requests among matching's exit reviews.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_REASON_CHARS = 500
REVIEW_PREFIX = "citizen-review-"
SLA_DAYS = 15
"""A review is due within 15 days, as an administrative reconsideration is answered within weeks, not hours."""
PRIORITY = 50
OUTCOMES = {"APPROVED": "UPHELD", "REJECTED": "STANDS", "INFORMATION_REQUESTED": "INFORMATION_REQUESTED"}
"""What a caseworker's decision on the review means for the resident (other transitions change nothing)."""


class ReviewRefused(ValueError):
    """A request that cannot be taken: `field` names what was wrong, `kind` is invalid, not_found or already."""

    def __init__(self, message: str, field: str, kind: str = "invalid"):
        super().__init__(message)
        self.field, self.kind = field, kind


@dataclass(frozen=True)
class Reviewable:
    """A decision the resident may ask a review of: a withdrawn offer or an application found not eligible."""

    subject_id: str
    """The offer id or the application id."""
    kind: str
    """WITHDRAWN or NOT_ELIGIBLE."""
    policy_id: str
    policy_name: str
    household_id: str
    district: str | None
    """Whose queue receives the review; None when the decision names none (then the page says whom to ask)."""
    explanation: Mapping[str, Any] | None
    amount_fen: int | None = None
    reasons: tuple[str, ...] = ()
    trigger_event_id: str | None = None


@dataclass(frozen=True)
class ReviewRequest:
    """A resident's request and, once decided, its outcome."""

    task_id: str
    """review_task_id of the person and the decision reviewed."""
    policy_id: str
    policy_name: str
    reason: str
    asked_at: dt.datetime
    outcome: str | None = None
    outcome_reason: str | None = None
    decided_at: dt.datetime | None = None


def review_reason(text: object) -> str:
    """The resident's reason, trimmed; ReviewRefused naming `reason` when missing, too long or not plain text."""
    if not isinstance(text, str) or not text.strip():
        raise ReviewRefused("reason: say in a few words why you disagree", "reason")
    reason = " ".join(text.split())
    if len(reason) > MAX_REASON_CHARS:
        raise ReviewRefused(f"reason: at most {MAX_REASON_CHARS} characters, not {len(reason)}", "reason")
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in reason):
        raise ReviewRefused("reason: plain text only", "reason")
    return reason


def review_task_id(person_id: str, subject_id: str) -> str:
    """One review per resident and decision: asking again finds the same task."""
    return REVIEW_PREFIX + hashlib.sha256(f"{person_id}|{subject_id}".encode()).hexdigest()[:24]


def is_citizen_review(task: Mapping[str, Any]) -> bool:
    return task.get("kind") == "REVIEW" and str(task.get("task_id") or "").startswith(REVIEW_PREFIX)


def review_task(subject: Reviewable, person_id: str, reason: str, now: dt.datetime) -> dict[str, Any]:
    """The CaseworkerTask record of a resident's request for a review (no offer: see the module's docstring)."""
    if subject.district is None:
        raise ReviewRefused("subject_id: this decision names no district; ask your local civil affairs office",
                            "subject_id", "not_found")
    what = "the withdrawal of" if subject.kind == "WITHDRAWN" else "the answer 'not eligible' to an application for"
    explanation = dict(subject.explanation or {})
    return {
        "task_id": review_task_id(person_id, subject.subject_id), "kind": "REVIEW",
        "household_id": subject.household_id, "person_id": person_id, "district": subject.district,
        "priority": PRIORITY, "due_at": now + dt.timedelta(days=SLA_DAYS),
        "reason": f"The resident asks for a review of {what} {subject.policy_name}.",
        "offer": None, "risk_tier": None,
        "evidence_event_ids": [subject.trigger_event_id] if subject.trigger_event_id else [],
        "created_at": now, "change": "NEW",
        "review": {"policy_id": subject.policy_id, "policy_name": subject.policy_name,
                   "amount_fen": subject.amount_fen, "explanation": _explanation(explanation, subject),
                   "reasons": [f"The resident says: {reason}", *subject.reasons]},
    }


def _explanation(explanation: Mapping[str, Any], subject: Reviewable) -> dict[str, Any]:
    """The original explanation, whole; a decision that kept none gets one saying so (the record needs one)."""
    if explanation:
        return dict(explanation)
    return {"policy_id": subject.policy_id, "policy_version": "", "legal_basis": "", "eligible": False, "facts": {},
            "conditions": [], "computation": None,
            "summary": "; ".join(subject.reasons) or "The decision kept no explanation."}


def request_of(task: Mapping[str, Any]) -> ReviewRequest:
    """The request a REVIEW task of ours records (read back from assist.tasks by a rebuild)."""
    review = task.get("review") or {}
    said = next((r for r in review.get("reasons") or () if str(r).startswith("The resident says: ")), "")
    return ReviewRequest(str(task["task_id"]), str(review.get("policy_id") or ""),
                         str(review.get("policy_name") or ""), str(said)[len("The resident says: "):],
                         _moment(task["created_at"]))


def decided(request: ReviewRequest, decision: Mapping[str, Any]) -> ReviewRequest | None:
    """The request after a casework decision on its task; None when the transition does not answer it."""
    outcome = OUTCOMES.get(str(decision.get("action")))
    if outcome is None:
        return None
    return ReviewRequest(request.task_id, request.policy_id, request.policy_name, request.reason, request.asked_at,
                         outcome, decision.get("reason") or None, _moment(decision["at"]))


def _moment(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    return dt.datetime.fromisoformat(str(value))
