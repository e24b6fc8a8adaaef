"""Applications ("people finding policies"): what an application for one programme leads to.

The application goes through the same matching as an event: the one policy it names is evaluated for the
applicant's household (household scope) or for the applicant (member scope), on the household's facts today.

- the policy is not in the catalogue → UNKNOWN_POLICY; the applicant is not a living member → UNKNOWN_PERSON;
- the beneficiary (or the whole household) receives it → ALREADY_RECEIVING;
- an offer or verification task for it is pending → ALREADY_PENDING, naming it;
- eligible → the same offer (OFFERED) or verification task (VERIFICATION_OPENED) the proactive path sends; an
  earlier decline does not stop it: applying is asking again;
- not eligible → NOT_ELIGIBLE, with one plain-word reason per condition not met (explanation.reasons_not_met).

Pure: the handler turns the decision into the offer or task and the ApplicationAnswer record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from services.matching.domain.catalogue.policy import Route, Scope
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue
from services.matching.domain.evaluation import PolicyOutcome, evaluate_household
from services.matching.domain.explanation import reasons_not_met
from services.matching.domain.household.benefits import benefit_key, task_id_of
from services.matching.domain.household.facts import household_facts, member_facts
from services.matching.domain.household.state import HouseholdState

ANSWERS_KEPT = 64
"""Answers a household keeps to answer a redelivered application the same; the oldest go first."""
VERIFY = "VERIFY_ELIGIBILITY"
NOT_KNOWN = "the applicant is not known to the civil registry as a living member of a household"


class Outcome(StrEnum):
    """schemas/records/application_answer.avsc ApplicationOutcome."""

    OFFERED = "OFFERED"
    VERIFICATION_OPENED = "VERIFICATION_OPENED"
    ALREADY_PENDING = "ALREADY_PENDING"
    ALREADY_RECEIVING = "ALREADY_RECEIVING"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    UNKNOWN_POLICY = "UNKNOWN_POLICY"
    UNKNOWN_PERSON = "UNKNOWN_PERSON"


@dataclass(frozen=True)
class Decision:
    """What the application leads to. `key` is the benefit key applied for; `evaluation` the policy's outcome
    when it was evaluated (to offer with, and to explain); `offer_id`/`task_id` what is already pending or
    received; `reasons` in plain words."""

    outcome: Outcome
    key: str | None = None
    evaluation: PolicyOutcome | None = None
    offer_id: str | None = None
    task_id: str | None = None
    reasons: tuple[str, ...] = ()


def decide(state: HouseholdState | None, catalogue: PolicyCatalogue, person_id: str, policy_id: str,
           on_date: dt.date) -> Decision:
    """The decision on an application by `person_id` for `policy_id` (see the module's rules)."""
    if policy_id not in catalogue.policy_ids():
        return Decision(Outcome.UNKNOWN_POLICY, reasons=(
            f"{policy_id} is not a programme of catalogue {catalogue.name} version {catalogue.version}",))
    if state is None or person_id not in state.members:
        return Decision(Outcome.UNKNOWN_PERSON, reasons=(NOT_KNOWN,))
    policy = catalogue.policy(policy_id)
    key = benefit_key(policy_id, person_id if policy.scope == Scope.MEMBER else None)
    received = state.benefit_keys()
    if key in received or policy_id in received:
        held = state.items.get(key) or state.items.get(policy_id)
        return Decision(Outcome.ALREADY_RECEIVING, key, offer_id=held.offer_id if held else None,
                        reasons=(f"already receiving {policy.name}",))
    pending = {k: offer for offer, k in state.pending_offers.items()}
    waiting = key if key in pending else policy_id if policy_id in pending else None
    if waiting is not None:
        offer_id = pending[waiting]
        item = state.items.get(waiting)
        verified = (item.route if item is not None else policy.route.value) == Route.VERIFICATION.value
        return Decision(Outcome.ALREADY_PENDING, waiting, offer_id=offer_id,
                        task_id=task_id_of(offer_id, VERIFY) if verified else None,
                        reasons=(f"an offer of {policy.name} is already pending: "
                                 + ("a caseworker is verifying it" if verified else "it waits for your answer"),))
    evaluation = _evaluate(state, catalogue, policy_id, person_id if policy.scope == Scope.MEMBER else None,
                           on_date)
    if not evaluation.eligible:
        return Decision(Outcome.NOT_ELIGIBLE, key, evaluation,
                        reasons=tuple(reasons_not_met(policy, evaluation.explanation)))
    opened = Outcome.VERIFICATION_OPENED if policy.route == Route.VERIFICATION else Outcome.OFFERED
    return Decision(opened, key, evaluation, reasons=(evaluation.explanation["summary"],))


def _evaluate(state: HouseholdState, catalogue: PolicyCatalogue, policy_id: str, person_id: str | None,
              on_date: dt.date) -> PolicyOutcome:
    members = member_facts(state, on_date)
    chosen = members if person_id is None else {person_id: members[person_id]}
    [outcome] = [o for o in evaluate_household(catalogue, household_facts(state, on_date), chosen, on_date,
                                               policies=[catalogue.policy(policy_id)])
                 if o.person_id == person_id]
    return outcome


def remember_answer(state: HouseholdState, application_id: str, answer: Mapping[str, Any]) -> HouseholdState:
    """The state keeping `answer` (answered_at in epoch milliseconds), and at most ANSWERS_KEPT answers."""
    answers = {**state.answers, application_id: dict(answer)}
    if len(answers) > ANSWERS_KEPT:
        newest = sorted(answers.items(), key=lambda kv: int(kv[1]["answered_at"]))[-ANSWERS_KEPT:]
        answers = dict(newest)
    return replace(state, answers=answers)
