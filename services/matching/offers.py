"""From policy outcomes and risk warnings to the records matching publishes: Offer and CaseworkerTask.

Ids are derived from what the record is about, so evaluating the same facts twice (a replayed event, a retried
batch, a re-evaluation) yields the same id and consumers keep one of each:
offer id = hash(beneficiary, policy, benefit period); task id = hash(offer or warning or review, task kind).
A revision or withdrawal is published under the id of what it revises (schemas/records/offer.avsc, Change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

from services.core.topics import OFFERS, TASKS
from services.matching.domain.catalogue.policy import Policy
from services.matching.domain.evaluation import PolicyOutcome
from services.matching.domain.explanation import summary, yuan
from services.matching.domain.household.benefits import Item, beneficiary_of, derived_id, offer_id_of, task_id_of
from services.matching.domain.household.follow_up import Step, StepKind, changed_facts
from services.matching.domain.household.risk import RiskAssessment
from services.matching.domain.household.state import HouseholdState

NEW, REVISED, WITHDRAWN = "NEW", "REVISED", "WITHDRAWN"
"""schemas/records/offer.avsc Change: what a publication of an offer or task id says."""
RECEIVED_PERIOD = "received"
"""Benefit period naming a benefit the registry lists (no offer was made for it)."""


@dataclass(frozen=True)
class Output:
    """A record to publish: topic, key (household id), record schema name, value."""

    topic: str
    key: str
    record: str
    value: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.value.get("application_id") or self.value.get("offer_id") or self.value.get("task_id"))


stable_id = derived_id


def _contact(state: HouseholdState, subject: str | None) -> str | None:
    """Whom to tell about a household offer: the member whose event triggered it, else the first member."""
    if subject in state.members:
        return subject
    return next(iter(state.members), None)


def event_type_of(state: HouseholdState, event_id: str | None) -> str | None:
    """The CloudEvents type of an event the household applied (kept history), so readers know which department's
    event an offer or task is based on; None for no event or one no longer kept."""
    if event_id is None:
        return None
    return next((e.type for e in reversed(state.recent_events) if e.event_id == event_id), None)


def offer_record(state: HouseholdState, outcome: PolicyOutcome, now: dt.datetime,
                 trigger_event_id: str | None, trigger_subject: str | None = None,
                 offer_id: str | None = None) -> dict[str, Any]:
    """A NEW offer; its id derived from beneficiary, policy and benefit period unless given
    (benefits.offered_again_id)."""
    beneficiary = outcome.person_id or state.household_id
    explanation = outcome.explanation
    return {
        "offer_id": offer_id or offer_id_of(beneficiary, outcome.policy_id, outcome.benefit_period),
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
        "trigger_event_type": event_type_of(state, trigger_event_id),
        "explanation": dict(explanation),
        "change": NEW,
        "revision": None,
    }


def offer_output(state: HouseholdState, outcome: PolicyOutcome, now: dt.datetime,
                 trigger_event_id: str | None, evidence: tuple[str, ...], trigger_subject: str | None = None,
                 since: dt.datetime | None = None, offer_id: str | None = None) -> Output:
    """An auto-offer goes to the citizen; a verification offer becomes a caseworker task carrying it, due
    `sla_hours` after `since` (when what triggered it was recorded: see handler.Matcher), else after `now`."""
    offer = offer_record(state, outcome, now, trigger_event_id, trigger_subject, offer_id)
    if outcome.route.value == "AUTO_OFFER":
        return Output(OFFERS.name, state.household_id, "offer", offer)
    due = (since or now) + dt.timedelta(hours=outcome.sla_hours)
    return _verification_task(state, outcome, offer, due, f"Verify before offering: {offer['explanation']['summary']}",
                              evidence, now, NEW)


def item_of_output(output: Output, definitions: Collection[str]) -> Item:
    """What a published offer (or the verification task carrying it) leaves to revise later: its amount, its
    computation, and the facts and parameters it read (the summary is rendered again from the policy)."""
    offer = output.value.get("offer") if output.record == "caseworker_task" else output.value
    assert isinstance(offer, dict)
    due = output.value["due_at"] if output.record == "caseworker_task" else None
    revision = offer.get("revision") or {}
    explanation = offer["explanation"]
    return Item(str(offer["offer_id"]), offer["amount_fen"], str(offer["route"]), str(offer["benefit_period"]),
                int(revision.get("number", 0)), "", explanation.get("computation"),
                _kept_facts(explanation["facts"], definitions),
                int(due.timestamp()) if isinstance(due, dt.datetime) else 0)


def baseline_item(state: HouseholdState, outcome: PolicyOutcome, definitions: Collection[str]) -> Item:
    """The amount of a benefit the registry lists, taken as computed the first time it is seen."""
    beneficiary = outcome.person_id or state.household_id
    explanation = outcome.explanation
    return Item(offer_id_of(beneficiary, outcome.policy_id, RECEIVED_PERIOD), outcome.amount_fen,
                outcome.route.value, RECEIVED_PERIOD, 0, "", explanation.get("computation"),
                _kept_facts(explanation["facts"], definitions))


def _kept_facts(facts: dict[str, str], definitions: Collection[str]) -> dict[str, str]:
    """Facts and parameters (not definitions, which follow from them): what a revision names as changed."""
    return {name: value for name, value in facts.items() if name not in definitions}


def revision_output(state: HouseholdState, step: Step, outcome: PolicyOutcome, policy: Policy, now: dt.datetime,
                    trigger_event_id: str | None, evidence: tuple[str, ...], trigger_subject: str | None,
                    since: dt.datetime | None = None, offer_id: str | None = None) -> Output:
    """The same offer id again, REVISED with the new amount or WITHDRAWN, and what changed. A pending verification
    goes out as its task (same task id and deadline); a received benefit as an offer record."""
    item = step.item
    assert item is not None
    withdrawn = step.kind == StepKind.WITHDRAW
    change = WITHDRAWN if withdrawn else REVISED
    offer = offer_record(state, outcome, now, trigger_event_id, trigger_subject, offer_id)
    changed = list(step.reasons[1:] if withdrawn else step.reasons)
    if withdrawn:
        reason = f"Withdrawn: {step.reasons[0]}"
    else:
        reason = (f"Amount revised from {_yuan(item.amount_fen)} to {_yuan(outcome.amount_fen)} yuan"
                  + (f" ({'; '.join(changed)})." if changed else "."))
    previous = item.summary or summary(policy, [True] * len(policy.conditions), item.amount_fen, [])
    offer.update({
        "offer_id": item.offer_id, "benefit_period": item.benefit_period, "change": change,
        "amount_fen": None if withdrawn else outcome.amount_fen,
        "revision": {"number": item.revision + 1, "previous_amount_fen": item.amount_fen,
                     "previous_summary": previous, "previous_computation": item.computation, "reason": reason,
                     "changed_facts": changed, "received": step.received},
    })
    if step.received or item.route == "AUTO_OFFER":
        return Output(OFFERS.name, state.household_id, "offer", offer)
    due = dt.datetime.fromtimestamp(item.due_at, dt.UTC) if item.due_at else since or now
    what = reason if withdrawn else f"Verify the revised amount: {reason} {offer['explanation']['summary']}"
    return _verification_task(state, outcome, offer, due, what, evidence, now, change)


def review_output(state: HouseholdState, step: Step, outcome: PolicyOutcome, task_id: str, now: dt.datetime,
                  evidence: tuple[str, ...], since: dt.datetime | None = None) -> Output:
    """An exit review (REVIEW task, NEW) or its withdrawal (END_REVIEW: same task id, WITHDRAWN)."""
    ending = step.kind == StepKind.END_REVIEW
    amount = step.item.amount_fen if step.item is not None else None
    said = " ".join(step.reasons)
    task = {
        "task_id": task_id,
        "kind": "REVIEW",
        "household_id": state.household_id,
        "person_id": outcome.person_id,
        "district": state.district,
        "priority": outcome.priority,
        "due_at": (since or now) + (dt.timedelta(0) if ending else dt.timedelta(hours=outcome.sla_hours)),
        "reason": (f"Review withdrawn for {outcome.policy_name}: {said}" if ending
                   else f"Review {outcome.policy_name}, received by "
                        f"{'the household' if outcome.person_id is None else 'a member'}: {said}"),
        "offer": None,
        "risk_tier": None,
        "evidence_event_ids": list(evidence),
        "evidence_event_types": [event_type_of(state, e) or "" for e in evidence],
        "created_at": now,
        "change": WITHDRAWN if ending else NEW,
        "review": {"policy_id": outcome.policy_id, "policy_name": outcome.policy_name, "amount_fen": amount,
                   "explanation": dict(outcome.explanation), "reasons": list(step.reasons)},
    }
    return Output(TASKS.name, state.household_id, "caseworker_task", task)


def review_task_id(state: HouseholdState, key: str, facts_print: str) -> str:
    """A review's id names the benefit key, the facts it was raised on and the offer the benefit was granted by:
    a benefit ended, offered again and granted again is reviewed under a new id (casework keeps a decided task
    decided). A benefit the registry lists has no such offer."""
    item = state.items.get(key)
    grant = (item.offer_id,) if item is not None and item.benefit_period != RECEIVED_PERIOD else ()
    return task_id_of(derived_id("r-", state.household_id, key, facts_print, *grant), "REVIEW")


def absent_outcome(policy: Policy, version: str, key: str, item: Item | None, state: HouseholdState,
                   reason: str) -> PolicyOutcome:
    """The outcome standing for a beneficiary who is no longer a member: not eligible, because `reason`."""
    explanation = {"policy_id": policy.id, "policy_version": version, "legal_basis": policy.legal_basis,
                   "eligible": False, "facts": {}, "conditions": [], "computation": None,
                   "summary": f"Not eligible for {policy.name}: {reason}",
                   "policy_names": {"zh-CN": policy.name_zh or policy.name, "en": policy.name}}
    return PolicyOutcome(
        policy_id=policy.id, policy_version=version, policy_name=policy.name, tier=policy.tier, scope=policy.scope,
        person_id=beneficiary_of(key), eligible=False, amount_fen=None, amount_period=policy.amount_period,
        route=policy.route, priority=policy.priority, sla_hours=policy.sla_hours,
        benefit_period=item.benefit_period if item is not None else RECEIVED_PERIOD, district=state.district,
        referral_need=None, explain_with=lambda: explanation, review=True)


def reinstated_output(withdrawn: Item, output: Output, outcome: PolicyOutcome) -> Output:
    """A withdrawn offer made again because its beneficiary qualifies again (a report arriving late reversed the
    withdrawal): `output`, the offer as it would be made now, under the withdrawn offer's id (and so its task's
    id), REVISED with the next revision number. Consumers reopen an id's chain when a higher revision that is not a
    withdrawal follows its withdrawal (schemas/records/offer.avsc, Change), so the ids a household ends with do not
    depend on the order its reports arrived in."""
    task = output.value if output.record == "caseworker_task" else None
    offer = dict(task["offer"] if task is not None else output.value)
    said = offer["explanation"]["summary"]
    offer.update({
        "offer_id": withdrawn.offer_id, "change": REVISED,
        "revision": {"number": withdrawn.revision + 1, "previous_amount_fen": None,
                     "previous_summary": "The offer was withdrawn.", "previous_computation": withdrawn.computation,
                     "reason": f"Offered again: {said}",
                     "changed_facts": list(changed_facts(withdrawn.facts, outcome)),
                     "received": False},
    })
    if task is None:
        return replace(output, value=offer)
    return replace(output, value={**task, "task_id": task_id_of(withdrawn.offer_id, "VERIFY_ELIGIBILITY"),
                                  "offer": offer, "change": REVISED, "reason": f"Offered again, verify: {said}"})


def _verification_task(state: HouseholdState, outcome: PolicyOutcome, offer: dict[str, Any], due: dt.datetime,
                       reason: str, evidence: tuple[str, ...], now: dt.datetime, change: str) -> Output:
    task = {
        "task_id": task_id_of(offer["offer_id"], "VERIFY_ELIGIBILITY"),
        "kind": "VERIFY_ELIGIBILITY",
        "household_id": state.household_id,
        "person_id": outcome.person_id,
        "district": offer["district"],
        "priority": outcome.priority,
        "due_at": due,
        "reason": reason,
        "offer": offer,
        "risk_tier": None,
        "evidence_event_ids": list(evidence),
        "evidence_event_types": [event_type_of(state, e) or "" for e in evidence],
        "created_at": now,
        "change": change,
        "review": None,
    }
    return Output(TASKS.name, state.household_id, "caseworker_task", task)


def _yuan(fen: int | None) -> str:
    return "nothing" if fen is None else yuan(fen)


def warning_output(state: HouseholdState, risk: RiskAssessment, now: dt.datetime, since: dt.datetime | None = None,
                   raised_before: int = 0) -> Output | None:
    """A red or orange household gets a visit or a phone check even when no policy matches yet. Its id names the
    household, the tier and how many warnings of that tier it had before (not the evidence seen at the moment
    the tier was reached, which depends on the order members' events arrived in)."""
    if risk.task is None or risk.tier is None:
        return None
    warning_id = derived_id("w-", state.household_id, risk.tier, str(raised_before))
    signals = ", ".join(sorted({c.signal.replace("_", " ") for c in risk.contributions}))
    task = {
        "task_id": task_id_of(warning_id, risk.task.kind),
        "kind": risk.task.kind,
        "household_id": state.household_id,
        "person_id": None,
        "district": state.district,
        "priority": risk.task.priority,
        "due_at": (since or now) + dt.timedelta(hours=risk.task.sla_hours),
        "reason": f"Risk tier {risk.tier} (score {risk.score}): {signals}.",
        "offer": None,
        "risk_tier": risk.tier,
        "evidence_event_ids": list(risk.evidence_event_ids),
        "evidence_event_types": [event_type_of(state, e) or "" for e in risk.evidence_event_ids],
        "created_at": now,
        "change": NEW,
        "review": None,
    }
    return Output(TASKS.name, state.household_id, "caseworker_task", task)


def warning_item(output: Output) -> Item:
    """What a raised warning leaves to correct later: its task id and deadline (route WARNING, no amount)."""
    due = output.value["due_at"]
    assert isinstance(due, dt.datetime)
    return Item(output.id, None, "WARNING", "", 0, "", None, {}, int(due.timestamp()))


def warning_policy(tier: str) -> str:
    """The pseudo-policy id under which a raised warning is remembered as pending until a caseworker acts."""
    return f"warning:{tier}"
