"""Matching's service layer: one household's state in, its new state and the records to publish out.

Pure: no Kafka, no faust. The faust agents call these functions and publish what they return. Every entry
point is safe to call twice with the same input (a replay after a crash): events are applied once per event
id, and outputs carry ids derived from their content.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from services.core.codec import Event
from services.matching.answers import answer_output, answered_again, kept
from services.matching.deadlines_moved import moved_judgements, moved_verifications, moved_warning
from services.matching.domain.applications import Outcome, decide, remember_answer
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue
from services.matching.domain.evaluation import PolicyOutcome, evaluate_event, evaluate_followed, evaluate_household
from services.matching.domain.household import facts as f
from services.matching.domain.household.benefits import Review, beneficiary_of, derived_id, offered_again_id
from services.matching.domain.household.deadlines import deadline_base, qualified_on, reached_on
from services.matching.domain.household.follow_up import Step, StepKind, follow_up
from services.matching.domain.household.needs import reported
from services.matching.domain.household.one_off import affected, for_a_period, judged_at, one_off, remember
from services.matching.domain.household.one_off import decide as decide_need
from services.matching.domain.household.risk import RiskModel, assess
from services.matching.domain.household.state import HouseholdState, from_registry, prune
from services.matching.domain.household.vocabulary import REEVALUATION, REGISTRY
from services.matching.messages import Application
from services.matching.offers import (
    Output,
    absent_outcome,
    baseline_item,
    item_of_output,
    offer_output,
    reinstated_output,
    review_output,
    review_task_id,
    revision_output,
    warning_item,
    warning_output,
    warning_policy,
)


@dataclass(frozen=True)
class Result:
    """The household after a message, what to publish, and whether the message was seen before."""

    state: HouseholdState | None
    outputs: tuple[Output, ...] = ()
    replayed: bool = False
    suppressed: tuple[str, ...] = field(default=())
    """Policy ids that were eligible but not offered (already received, pending or declined)."""


@dataclass(frozen=True)
class Matcher:
    """Applies registry records, events, decisions and re-evaluations to a household."""

    risk_model: RiskModel

    def on_registry(self, state: HouseholdState | None, record: dict[str, Any], catalogue: PolicyCatalogue,
                    now: dt.datetime) -> Result:
        updated = from_registry(record, state)
        outcomes = _state_outcomes(catalogue, updated, now.date(), REGISTRY)
        return self._follow(updated, catalogue, outcomes, now, None, (), followed=True,
                            since=_moment(record.get("as_of"), now))

    def on_event(self, state: HouseholdState, event: Event, catalogue: PolicyCatalogue, now: dt.datetime) -> Result:
        if event.id in state.applied_event_ids():
            return Result(state, replayed=True)
        occurred = f.event_day(event.type, event.data, event.time.date())
        updated = prune(f.apply_event(state, event.type, event.subject, event.data, event.id, occurred,
                                               event.time), now.date())
        today = now.date()
        household, members = f.household_facts(updated, today), f.member_facts(updated, today)
        region, district = str(updated.region), str(updated.district)
        triggered = catalogue.policies_for(event.type, region, district)
        # Policies decided on the state follow every change of the facts they read, not only their triggers.
        follow = any(p.follows_state for p in triggered) or _facts_changed(state, updated)
        once = one_off(triggered)
        chosen = [p for p in triggered if not (follow and p.follows_state) and p not in once]
        outcomes = evaluate_event(catalogue, household, members, f.event_facts(event.type, event.id, event.subject,
                                                                               event.data, occurred), today, chosen)
        if once:
            need = reported(event.id, event.type, event.subject, event.data, occurred, event.time)
            updated = remember(updated, need)
            outcomes = [*outcomes, *decide_need(catalogue, updated, need, once)]
        if follow:
            outcomes = [*outcomes, *evaluate_followed(catalogue, household, members, today)]
        result = self._follow(updated, catalogue, _in_catalogue_order(catalogue, outcomes), now, event.id,
                              (event.id,), event.subject, follow, (household, members), since=event.time,
                              dated=occurred)
        result = self._decide_again(result, catalogue, event, occurred, now)
        assert result.state is not None
        state, moved = moved_judgements(result.state, catalogue, now, event.id, (event.id,), event.subject, occurred)
        if moved:
            result = Result(state, (*result.outputs, *moved), suppressed=result.suppressed)
        return self._warn(result, now, event.time, occurred)

    def _decide_again(self, result: Result, catalogue: PolicyCatalogue, event: Event, occurred: dt.date,
                      now: dt.datetime) -> Result:
        """The needs dated on or after a change of facts that arrived after them, decided again on the facts as of
        their day (domain/household/one_off.py): revisions, withdrawals or late offers, as a run that received the
        reports in the order of their days would have them."""
        state = result.state
        assert state is not None
        member = event.subject in state.members or event.subject in state.deceased
        outputs = list(result.outputs)
        for need in affected(state, event.type, occurred, event.id, member):
            again = self._follow(state, catalogue, decide_need(catalogue, state, need), now, need.event_id,
                                 (need.event_id, event.id), need.subject, since=need.time)
            assert again.state is not None
            state = again.state
            outputs.extend(again.outputs)
        if len(outputs) == len(result.outputs):
            return replace(result, state=state)
        return Result(state, tuple(outputs), suppressed=result.suppressed)

    def on_decision(self, state: HouseholdState, decision: dict[str, Any], now: dt.datetime,
                    catalogue: PolicyCatalogue | None = None) -> Result:
        """A casework transition or a citizen's answer. With `catalogue`, a decision that changes what the
        household receives (and so facts such as household.receives_subsistence_allowance) is followed like any
        other change of facts: offers, revisions, withdrawals and reviews it implies are returned."""
        task_id = decision.get("task_id")
        action = decision["action"]
        if task_id and action in _SETTLING and _pending_warning(state, str(task_id)):
            # A warning is settled by any final casework action; it may be raised again by new evidence.
            pending = {o: p for o, p in state.pending_offers.items() if o != task_id}
            return Result(replace(state, pending_offers=pending))
        reviewed = _open_review(state, str(task_id)) if task_id else None
        if reviewed is not None:
            if action not in _SETTLING:
                return Result(state)
            updated = _settle_review(state, reviewed, action, now.date())
        else:
            key = f.decided_key(state, decision.get("policy_id"), decision.get("offer_id"))
            if key is None:
                return Result(state)
            fingerprint = f.benefit_fingerprint(state, key, now.date())
            updated = f.apply_decision(state, action, decision.get("policy_id"), decision.get("offer_id"),
                                       fingerprint)
        today = now.date()
        if catalogue is None or updated.benefits() == state.benefits() \
                or f.household_facts(updated, today) == f.household_facts(state, today):
            return Result(updated)
        outcomes = evaluate_followed(catalogue, f.household_facts(updated, today), f.member_facts(updated, today),
                                     today)
        return self._follow(updated, catalogue, outcomes, now, None, (), followed=True,
                            since=_moment(decision.get("at"), now))

    def on_application(self, state: HouseholdState | None, application: Application, catalogue: PolicyCatalogue,
                       now: dt.datetime) -> Result:
        """An application for one programme (domain/applications.py): the same offer or verification task as the
        proactive path, or why not, and one ApplicationAnswer. An application id answered before is answered
        the same again, and nothing new is offered."""
        application_id, person = application.application_id, application.person_id
        if state is not None and application_id in state.answers:
            return Result(state, (answered_again(state.answers[application_id]),), replayed=True)
        decision = decide(state, catalogue, person, application.policy_id, now.date())
        outputs: list[Output] = []
        offer_id = task_id = None
        if state is not None and decision.key is not None and decision.evaluation is not None \
                and decision.outcome in (Outcome.OFFERED, Outcome.VERIFICATION_OPENED):
            step = Step(StepKind.OFFER, decision.key, application.policy_id, decision.evaluation)
            state, output = _take(state, catalogue, step, now, application_id, (application_id,), person,
                                  application.event.time)
            assert output is not None
            outputs.append(output)
            offer_id = _offer_id(output)
            task_id = output.id if output.record == "caseworker_task" else None
        answer = answer_output(application, state.household_id if state is not None else None, decision, catalogue,
                               now, offer_id, task_id)
        if state is not None:
            state = remember_answer(state, application_id, kept(answer))
        return Result(state, (*outputs, answer))

    def on_reevaluation(self, state: HouseholdState, catalogue: PolicyCatalogue, now: dt.datetime) -> Result:
        outcomes = _state_outcomes(catalogue, state, now.date(), REEVALUATION)
        return self._follow(state, catalogue, outcomes, now, None, (), followed=True)

    def _follow(self, state: HouseholdState, catalogue: PolicyCatalogue, outcomes: Iterable[PolicyOutcome],
                now: dt.datetime, trigger: str | None, evidence: tuple[str, ...], subject: str | None = None,
                followed: bool = False, facts: tuple[f.Facts, Mapping[str, f.Facts]] | None = None,
                since: dt.datetime | None = None, dated: dt.date | None = None) -> Result:
        """`since`: when what triggered the outcomes was recorded (the event's time, the registry record's
        as_of, the decision's time): deadlines count from the end of that day (deadline_base), so they depend on
        the household's history only, never on when a message happened to be processed (again), and every
        member's report of one need recorded that day gives one deadline. `dated`: the day of the event applied,
        which may move a pending verification's deadline earlier (deadlines_moved.py)."""
        since = deadline_base(since) if since is not None else None
        outcomes = list(outcomes)
        plan = follow_up(state, catalogue, outcomes, now.date(), followed, facts)
        outputs: list[Output] = []
        for step in plan.steps:
            state, output = _take(state, catalogue, step, now, trigger, evidence, subject, since)
            if output is not None:
                outputs.append(output)
        if followed and dated is not None:
            state, moved = moved_verifications(state, catalogue, outcomes, now, trigger, evidence, subject, dated)
            outputs.extend(moved)
        return Result(state, tuple(outputs), suppressed=plan.suppressed)

    def _warn(self, result: Result, now: dt.datetime, since: dt.datetime, dated: dt.date) -> Result:
        """Every tier the household's score reaches raises its task once while it is pending, lowest first: a
        score reached by one report or by two gives the same warnings, whatever order the reports came in. A
        pending warning is due from the day the score reached its tier; a report dated earlier arriving after the
        warning went out moves that day, and the warning is published again with the deadline it should have."""
        state = result.state
        assert state is not None
        risk = assess(state, self.risk_model, now.date())
        outputs = list(result.outputs)
        for tier in reversed(self.risk_model.tiers):
            if risk.score < tier.min_score or tier.task is None:
                continue
            key = warning_policy(tier.name)
            assessed = replace(risk, tier=tier.name, task=tier.task)
            if key in state.pending_offers.values():
                state, output = moved_warning(state, key, assessed, self.risk_model, tier.min_score, now, dated)
            else:
                raised = state.warnings_raised.get(tier.name, 0)
                reached = reached_on(state, self.risk_model, tier.min_score, now.date())
                output = warning_output(state, assessed, now, deadline_base(reached or since), raised)
                if output is not None:
                    state = replace(f.record_offer(state, output.id, key, warning_item(output)),
                                    warnings_raised={**state.warnings_raised, tier.name: raised + 1})
            if output is not None:
                outputs.append(output)
        if len(outputs) == len(result.outputs):
            return result
        return Result(state, tuple(outputs), suppressed=result.suppressed)


def _take(state: HouseholdState, catalogue: PolicyCatalogue, step: Step, now: dt.datetime, trigger: str | None,
          evidence: tuple[str, ...], subject: str | None, since: dt.datetime | None = None
          ) -> tuple[HouseholdState, Output | None]:
    """The record a step publishes and the state that remembers it."""
    policy = catalogue.policy(step.policy_id)
    outcome = step.outcome or absent_outcome(policy, catalogue.version, step.key, step.item, state,
                                             " ".join(step.reasons))
    if step.kind == StepKind.OFFER:
        before = state.items.get(step.key)
        first = qualified_on(catalogue, state, policy, outcome.person_id, now.date()) \
            if policy.follows_state and step.outcome is not None else None
        judged = judged_at(catalogue, state, policy, outcome.person_id, outcome.benefit_period) \
            if for_a_period(policy) and step.outcome is not None else None
        first = judged[0].time if judged is not None else first
        # An offer not withdrawn and no longer pending was decided (declined, rejected, or accepted and since
        # ended by an exit review): a decision ends an id for good, so the offer made again needs a new one.
        decided = before is not None and not before.withdrawn and before.offer_id not in state.pending_offers
        output = offer_output(state, outcome, now, trigger, evidence, subject,
                              deadline_base(first) if first is not None else since,
                              offer_id=offered_again_id(before) if before is not None and decided else None)
        if before is not None and before.withdrawn:
            output = reinstated_output(before, output, outcome)
        item = item_of_output(output, catalogue.definitions)
        return f.record_offer(state, _offer_id(output), step.key, item), output
    if step.kind == StepKind.ADOPT:
        baseline = baseline_item(state, outcome, catalogue.definitions)
        return replace(state, items={**state.items, step.key: baseline}), None
    if step.kind in (StepKind.REVISE, StepKind.WITHDRAW):
        output = revision_output(state, step, outcome, policy, now, trigger, evidence, subject, since)
        items = dict(state.items)
        pending = dict(state.pending_offers)
        if step.kind == StepKind.WITHDRAW:
            withdrawn = item_of_output(output, catalogue.definitions)
            items[step.key] = replace(withdrawn, amount_fen=None, withdrawn=True,
                                      due_at=step.item.due_at if step.item is not None else withdrawn.due_at)
            pending = {o: k for o, k in pending.items() if o != step.offer_id}
        else:
            items[step.key] = item_of_output(output, catalogue.definitions)
        return replace(state, items=items, pending_offers=pending), output
    reviews = dict(state.reviews)
    previous = reviews.get(step.key)
    if step.kind == StepKind.REVIEW:
        spent = previous.spent if previous is not None else ()
        task_id = review_task_id(state, step.key, step.fingerprint)
        while task_id in spent:  # the facts of a review withdrawn or decided: a new task, named by the one it follows
            task_id = derived_id("t-", task_id, "raised again")
        reviews[step.key] = Review(task_id, step.fingerprint, spent=spent)
    else:
        assert previous is not None
        task_id = previous.task_id
        reviews[step.key] = replace(previous, open=False, withdrawn=True, spent=(*previous.spent, task_id)[-16:])
    return replace(state, reviews=reviews), review_output(state, step, outcome, task_id, now, evidence, since)


def _state_outcomes(catalogue: PolicyCatalogue, state: HouseholdState, on: dt.date, trigger: str
                    ) -> list[PolicyOutcome]:
    """The trigger's policies and every policy decided on the state, for every member."""
    region, district = state.region, state.district
    policies = {p.id: p for p in (*catalogue.policies_for(trigger, region, district),
                                  *catalogue.followed(region, district))}
    ordered = sorted(policies.values(), key=lambda p: catalogue.position(p.id))
    return evaluate_household(catalogue, f.household_facts(state, on), f.member_facts(state, on), on, trigger,
                              ordered)


def _moment(value: Any, fallback: dt.datetime) -> dt.datetime:
    """A record's timestamp (decoded Avro timestamp-millis, aware or naive UTC), else `fallback`."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return fallback


def _in_catalogue_order(catalogue: PolicyCatalogue, outcomes: list[PolicyOutcome]) -> list[PolicyOutcome]:
    return sorted(outcomes, key=lambda o: catalogue.position(o.policy_id))


def _facts_changed(before: HouseholdState, after: HouseholdState) -> bool:
    """Whether an event changed what facts are computed from (the facts themselves are not compared: cheaper)."""
    return (after.members != before.members or after.expenditures != before.expenditures
            or after.last_emergency != before.last_emergency)


def _offer_id(output: Output) -> str:
    offer = output.value.get("offer")
    return str(offer["offer_id"]) if isinstance(offer, dict) else output.id


def _pending_warning(state: HouseholdState, task_id: str) -> bool:
    """Whether the task is a pending risk warning (decisions on warnings name the task, not a policy)."""
    return state.pending_offers.get(task_id, "").startswith("warning:")


def _open_review(state: HouseholdState, task_id: str) -> str | None:
    """The benefit key of the open exit review with this task id."""
    return next((k for k, r in state.reviews.items() if r.task_id == task_id and r.open), None)


def _settle_review(state: HouseholdState, key: str, action: str, today: dt.date) -> HouseholdState:
    """APPROVED confirms the exit: the benefit ends (one the registry lists ends when the registry says so).
    REJECTED keeps it. Either way the review is not raised again while the facts stay as the caseworker saw
    them when deciding."""
    review = state.reviews[key]
    person = beneficiary_of(key)
    seen = review.fingerprint if person is not None and person not in state.members \
        else f.benefit_fingerprint(state, key, today)
    reviews = {**state.reviews, key: replace(review, fingerprint=seen, open=False,
                                              spent=(*review.spent, review.task_id)[-16:])}
    if action != "APPROVED":
        return replace(state, reviews=reviews)
    # The item stays: an offer made again for the key takes a new id derived from the ended one (_take).
    return replace(state, reviews=reviews, receiving=state.receiving - {key})


_SETTLING = frozenset({"APPROVED", "REJECTED", "ACCEPTED", "DECLINED"})
