"""The ApplicationAnswer record (schemas/records/application_answer.avsc) matching publishes once per
application on assist.applications.answers, keyed by the household id (the person id when the household is
unknown), and how a household keeps it to answer a redelivered application the same."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from services.core.topics import APPLICATION_ANSWERS
from services.matching.domain.applications import Decision
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue
from services.matching.messages import Application
from services.matching.offers import Output

RECORD = "application_answer"


def answer_output(application: Application, household_id: str | None, decision: Decision,
                  catalogue: PolicyCatalogue | None, now: dt.datetime, offer_id: str | None = None,
                  task_id: str | None = None) -> Output:
    """The answer to `application`; `offer_id`/`task_id` those of the offer or task it led to, else the
    decision's (what is already pending or received)."""
    policy_id = application.policy_id
    known = catalogue is not None and policy_id in catalogue.policy_ids()
    evaluation = decision.evaluation
    value: dict[str, Any] = {
        "application_id": application.application_id,
        "person_id": application.person_id,
        "household_id": household_id,
        "policy_id": policy_id,
        "policy_name": catalogue.policy(policy_id).name if catalogue is not None and known else None,
        "outcome": decision.outcome.value,
        "offer_id": offer_id or decision.offer_id,
        "task_id": task_id or decision.task_id,
        "reasons": list(decision.reasons),
        "explanation": dict(evaluation.explanation) if evaluation is not None else None,
        "catalogue_version": catalogue.version if catalogue is not None else "",
        "applied_by": application.applied_by,
        "answered_at": now,
    }
    return Output(APPLICATION_ANSWERS.name, household_id or application.person_id, RECORD, value)


def kept(answer: Output) -> dict[str, Any]:
    """The answer as the household state keeps it (JSON: answered_at in epoch milliseconds)."""
    at = answer.value["answered_at"]
    return {**answer.value, "answered_at": int(at.timestamp() * 1000)}


def answered_again(stored: Mapping[str, Any]) -> Output:
    """The answer given before, to publish again unchanged."""
    value = {**stored, "answered_at": dt.datetime.fromtimestamp(int(stored["answered_at"]) / 1000, dt.UTC)}
    return Output(APPLICATION_ANSWERS.name, str(value["household_id"] or value["person_id"]), RECORD, value)
