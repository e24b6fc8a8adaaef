"""Following a household's facts: what its outcomes mean for what it has pending and receives.

Given the household after a change and the policies' outcomes on it, each benefit key (benefits.benefit_key)
gets at most one step:

- eligible, nothing pending or received, not declined on the same facts → OFFER;
- pending, and the policy is decided on the state (Policy.follows_state): a new amount → REVISE, no longer
  eligible or the beneficiary gone → WITHDRAW;
- received, and the policy is reviewed: the review condition holds (or the beneficiary is gone) → one REVIEW
  (not again for the facts it was raised on); it no longer holds while a review is open → END_REVIEW;
  a monthly amount that changed → REVISE (received); a registry benefit whose amount was never seen → ADOPT
  (its amount becomes the baseline, nothing is published).

Pure: the caller turns steps into records and state (handler, offers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from services.matching.domain.catalogue.policy import BenefitPeriod
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue
from services.matching.domain.evaluation import PolicyOutcome
from services.matching.domain.household.benefits import Item, beneficiary_of, benefit_key, policy_of
from services.matching.domain.household.facts import Facts, fingerprint, household_facts, may_offer, member_facts
from services.matching.domain.household.state import HouseholdState

GONE = "gone"
"""Fingerprint of a review raised because the beneficiary is no longer a living member."""


class StepKind(StrEnum):
    OFFER = "offer"
    REVISE = "revise"
    WITHDRAW = "withdraw"
    REVIEW = "review"
    END_REVIEW = "end_review"
    ADOPT = "adopt"


@dataclass(frozen=True)
class Step:
    """One thing to do about a benefit key. `outcome` is the evaluation on the current facts (None when the
    beneficiary is gone); `item` what was sent before; `received` whether the benefit is received; `reasons`
    what changed, in words; `fingerprint` the facts the step was decided on."""

    kind: StepKind
    key: str
    policy_id: str
    outcome: PolicyOutcome | None
    item: Item | None = None
    received: bool = False
    reasons: tuple[str, ...] = ()
    fingerprint: str = ""
    offer_id: str | None = None


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    suppressed: tuple[str, ...]
    """Policy ids eligible but not offered (received, pending or declined)."""


def follow_up(state: HouseholdState, catalogue: PolicyCatalogue, outcomes: Iterable[PolicyOutcome],
              on_date: dt.date, followed: bool, facts: tuple[Facts, Mapping[str, Facts]] | None = None) -> Plan:
    """The steps for `outcomes` on `state`. With `followed`, the outcomes include every policy decided on the
    state for every member, so pending offers and received benefits of beneficiaries who are gone are found too.
    `facts` are the household's and members' facts on `on_date` when the caller has them already."""
    household, members = facts or (household_facts(state, on_date), member_facts(state, on_date))
    whole_fingerprint = fingerprint(household)
    prints: dict[str, str] = {}

    def facts_print(person: str | None) -> str:
        if person is None:
            return whole_fingerprint
        found = prints.get(person)
        if found is None:
            # A beneficiary who died or left has no facts of their own now, as when a decision was remembered.
            found = prints[person] = fingerprint(household, members.get(person))
        return found

    pending = {key: offer for offer, key in state.pending_offers.items()}
    received = state.benefit_keys()
    known = catalogue.policy_ids()
    steps: list[Step] = []
    suppressed: list[str] = []
    seen: set[str] = set()
    for outcome in outcomes:
        policy = catalogue.policy(outcome.policy_id)
        need = outcome.benefit_period if policy.benefit_period == BenefitPeriod.EVENT else None
        key = benefit_key(outcome.policy_id, outcome.person_id, need)
        if key in seen:
            continue
        seen.add(key)
        person = outcome.person_id
        whole = outcome.policy_id
        if key in received:
            steps.extend(_follow_received(state, policy.reviewed, policy.revised, key, outcome,
                                          partial(facts_print, person)))
        elif key != whole and (whole in received or whole in pending):
            pass  # the whole household receives it or has it pending (a registry benefit, a state written before)
        elif key in pending:
            item = state.items.get(key)
            # Decided on the state, or again at a report of a need dated on or before a later one (one_off).
            if item is not None and item.offer_id == pending[key]:
                steps.extend(_follow_pending(key, outcome, item))
        elif outcome.eligible and (not (key in state.declined or whole in state.declined)
                                   or may_offer(state, key, facts_print(person), whole_fingerprint)):
            steps.append(Step(StepKind.OFFER, key, outcome.policy_id, outcome))
            continue
        if outcome.eligible:
            suppressed.append(outcome.policy_id)
    if followed:
        steps.extend(_gone(state, pending, known, catalogue))
    return Plan(tuple(steps), tuple(suppressed))


def _follow_pending(key: str, outcome: PolicyOutcome, item: Item) -> list[Step]:
    if not outcome.eligible:
        return [Step(StepKind.WITHDRAW, key, outcome.policy_id, outcome, item,
                     reasons=(outcome.explanation["summary"], *changed_facts(item.facts, outcome)),
                     offer_id=item.offer_id)]
    if outcome.amount_fen != item.amount_fen:
        return [Step(StepKind.REVISE, key, outcome.policy_id, outcome, item, reasons=changed_facts(item.facts, outcome),
                     offer_id=item.offer_id)]
    return []


def _follow_received(state: HouseholdState, reviewed: bool, revised: bool, key: str, outcome: PolicyOutcome,
                     facts_print: Callable[[], str]) -> list[Step]:
    item = state.items.get(key)
    review = state.reviews.get(key)
    if reviewed and outcome.review:
        if review is None or review.withdrawn or (not review.open and review.fingerprint != facts_print()):
            reasons = [outcome.explanation["summary"]]
            if outcome.review_values is not None:
                reasons.append(f"The review threshold is met: {outcome.review_values}.")
            reasons.extend(changed_facts(item.facts if item else {}, outcome))
            return [Step(StepKind.REVIEW, key, outcome.policy_id, outcome, item, True, tuple(reasons), facts_print())]
        return []
    steps: list[Step] = []
    if review is not None and review.open:
        steps.append(Step(StepKind.END_REVIEW, key, outcome.policy_id, outcome, item, True,
                          (f"The review is no longer needed: {outcome.explanation['summary']}",), review.fingerprint))
    if revised and outcome.eligible and outcome.amount_fen is not None:
        if item is None:
            steps.append(Step(StepKind.ADOPT, key, outcome.policy_id, outcome, None, True))
        elif item.amount_fen != outcome.amount_fen:
            steps.append(Step(StepKind.REVISE, key, outcome.policy_id, outcome, item, True,
                              changed_facts(item.facts, outcome), offer_id=item.offer_id))
    return steps


def _gone(state: HouseholdState, pending: Mapping[str, str], known: AbstractSet[str],
          catalogue: PolicyCatalogue) -> list[Step]:
    """Withdrawals and reviews for beneficiaries who died or left the household."""
    steps: list[Step] = []
    for key in sorted(set(pending) | state.receiving):
        person, policy_id = beneficiary_of(key), policy_of(key)
        if person is None or person in state.members or policy_id not in known:
            continue
        policy = catalogue.policy(policy_id)
        why = (f"The beneficiary {'died' if person in state.deceased else 'is no longer a member of the household'}.",)
        item = state.items.get(key)
        if key in pending and policy.follows_state and item is not None and item.offer_id == pending[key]:
            steps.append(Step(StepKind.WITHDRAW, key, policy_id, None, item, reasons=why, offer_id=item.offer_id))
        elif key in state.receiving and policy.reviewed:
            review = state.reviews.get(key)
            if review is None or review.withdrawn or (not review.open and review.fingerprint != GONE):
                steps.append(Step(StepKind.REVIEW, key, policy_id, None, item, True, why, GONE))
    return steps


def changed_facts(before: Mapping[str, str], outcome: PolicyOutcome) -> tuple[str, ...]:
    """'name old -> new' for each fact the explanation read whose value differs from `before`."""
    after: Mapping[str, str] = outcome.explanation["facts"]
    return tuple(f"{name} {before[name]} -> {value}" for name, value in after.items()
                 if name in before and before[name] != value)
