"""From policy outcomes and risk warnings to the records matching publishes: Offer and CaseworkerTask.

Ids are derived from what the record is about, so evaluating the same facts twice (a replayed event, a retried
batch, a re-evaluation) yields the same id and consumers keep one of each:
offer id = hash(beneficiary, policy, benefit period); task id = hash(offer or warning, task kind).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from services.core.topics import OFFERS, TASKS
from services.matching.domain.evaluation import PolicyOutcome
from services.matching.domain.household import HouseholdState
from services.matching.domain.risk import RiskAssessment


@dataclass(frozen=True)
class Output:
    """A record to publish: topic, key (household id), record schema name, value."""

    topic: str
    key: str
    record: str
    value: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.value.get("offer_id") or self.value.get("task_id"))


def stable_id(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def _contact(state: HouseholdState, subject: str | None) -> str | None:
    """Whom to tell about a household offer: the member whose event triggered it, else the first member."""
    if subject in state.members:
        return subject
    return next(iter(state.members), None)


def offer_record(state: HouseholdState, outcome: PolicyOutcome, now: dt.datetime,
                 trigger_event_id: str | None, trigger_subject: str | None = None) -> dict[str, Any]:
    beneficiary = outcome.person_id or state.household_id
    explanation = outcome.explanation
    return {
        "offer_id": stable_id("o-", beneficiary, outcome.policy_id, outcome.benefit_period),
        "household_id": state.household_id,
        "person_id": outcome.person_id,
        "contact_person_id": outcome.person_id or _contact(state, trigger_subject),
        "policy_id": outcome.policy_id,
        "policy_name": outcome.policy_name,
        "tier": outcome.tier,
        "benefit_period": outcome.benefit_period,
        "amount_fen": outcome.amount_fen,
        "amount_period": outcome.amount_period.value,
        "route": outcome.route.value,
        "district": outcome.district or state.district,
        "priority": outcome.priority,
        "created_at": now,
        "trigger_event_id": trigger_event_id,
        "explanation": dict(explanation),
    }


def offer_output(state: HouseholdState, outcome: PolicyOutcome, now: dt.datetime,
                 trigger_event_id: str | None, evidence: tuple[str, ...], trigger_subject: str | None = None
                 ) -> Output:
    """An auto-offer goes to the citizen; a verification offer becomes a caseworker task carrying it."""
    offer = offer_record(state, outcome, now, trigger_event_id, trigger_subject)
    if outcome.route.value == "AUTO_OFFER":
        return Output(OFFERS.name, state.household_id, "offer", offer)
    task = {
        "task_id": stable_id("t-", offer["offer_id"], "VERIFY_ELIGIBILITY"),
        "kind": "VERIFY_ELIGIBILITY",
        "household_id": state.household_id,
        "person_id": outcome.person_id,
        "district": offer["district"],
        "priority": outcome.priority,
        "due_at": now + dt.timedelta(hours=outcome.sla_hours),
        "reason": f"Verify before offering: {offer['explanation']['summary']}",
        "offer": offer,
        "risk_tier": None,
        "evidence_event_ids": list(evidence),
        "created_at": now,
    }
    return Output(TASKS.name, state.household_id, "caseworker_task", task)


def warning_output(state: HouseholdState, risk: RiskAssessment, now: dt.datetime) -> Output | None:
    """A red or orange household gets a visit or a phone check even when no policy matches yet."""
    if risk.task is None or risk.tier is None:
        return None
    warning_id = stable_id("w-", state.household_id, risk.tier, *sorted(risk.evidence_event_ids))
    signals = ", ".join(sorted({c.signal.replace("_", " ") for c in risk.contributions}))
    task = {
        "task_id": stable_id("t-", warning_id, risk.task.kind),
        "kind": risk.task.kind,
        "household_id": state.household_id,
        "person_id": None,
        "district": state.district,
        "priority": risk.task.priority,
        "due_at": now + dt.timedelta(hours=risk.task.sla_hours),
        "reason": f"Risk tier {risk.tier} (score {risk.score}): {signals}.",
        "offer": None,
        "risk_tier": risk.tier,
        "evidence_event_ids": list(risk.evidence_event_ids),
        "created_at": now,
    }
    return Output(TASKS.name, state.household_id, "caseworker_task", task)


def warning_policy(tier: str) -> str:
    """The pseudo-policy id under which a raised warning is remembered as pending until a caseworker acts."""
    return f"warning:{tier}"
