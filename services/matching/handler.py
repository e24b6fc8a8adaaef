"""Matching's service layer: one household's state in, its new state and the records to publish out.

Pure: no Kafka, no faust. The faust agents call these functions and publish what they return. Every entry
point is safe to call twice with the same input (a replay after a crash): events are applied once per event
id, and outputs carry ids derived from their content.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from services.core.codec import Event
from services.matching.domain import facts as f
from services.matching.domain.catalogue import PolicyCatalogue
from services.matching.domain.evaluation import PolicyOutcome, evaluate_event, evaluate_household
from services.matching.domain.household import HouseholdState, from_registry, prune
from services.matching.domain.risk import RiskModel, assess
from services.matching.domain.vocabulary import REEVALUATION, REGISTRY
from services.matching.offers import Output, offer_output, warning_output, warning_policy


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
        return self._offer(updated, _household_outcomes(catalogue, updated, now.date(), REGISTRY), now, None, ())

    def on_event(self, state: HouseholdState, event: Event, catalogue: PolicyCatalogue, now: dt.datetime) -> Result:
        if event.id in state.applied_event_ids():
            return Result(state, replayed=True)
        occurred = f.event_day(event.type, event.data, event.time.date())
        updated = prune(f.apply_event(state, event.type, event.subject, event.data, event.id, occurred), now.date())
        today = now.date()
        outcomes = evaluate_event(catalogue, f.household_facts(updated, today), f.member_facts(updated, today),
                                  f.event_facts(event.type, event.id, event.subject, event.data), today)
        result = self._offer(updated, outcomes, now, event.id, (event.id,), event.subject)
        return self._warn(result, now)

    def on_decision(self, state: HouseholdState, decision: dict[str, Any], now: dt.datetime) -> Result:
        task_id = decision.get("task_id")
        if task_id and decision["action"] in _SETTLING and _pending_warning(state, str(task_id)):
            # A warning is settled by any final casework action; it may be raised again by new evidence.
            pending = {o: p for o, p in state.pending_offers.items() if o != task_id}
            return Result(replace(state, pending_offers=pending))
        fingerprint = f.fingerprint(f.household_facts(state, now.date()))
        updated = f.apply_decision(state, decision["action"], decision.get("policy_id"), decision.get("offer_id"),
                                   fingerprint)
        return Result(updated)

    def on_reevaluation(self, state: HouseholdState, catalogue: PolicyCatalogue, now: dt.datetime) -> Result:
        outcomes = _household_outcomes(catalogue, state, now.date(), REEVALUATION)
        return self._offer(state, outcomes, now, None, ())

    def _offer(self, state: HouseholdState, outcomes: Iterable[PolicyOutcome], now: dt.datetime,
               trigger: str | None, evidence: tuple[str, ...], subject: str | None = None) -> Result:
        fingerprint = f.fingerprint(f.household_facts(state, now.date()))
        pending = set(state.pending_offers.values())
        outputs: list[Output] = []
        suppressed: list[str] = []
        for outcome in outcomes:
            if not outcome.eligible:
                continue
            if outcome.policy_id in pending or not f.may_offer(state, outcome.policy_id, fingerprint):
                suppressed.append(outcome.policy_id)
                continue
            output = offer_output(state, outcome, now, trigger, evidence, subject)
            state = f.record_offer(state, _offer_id(output), outcome.policy_id)
            pending.add(outcome.policy_id)
            outputs.append(output)
        return Result(state, tuple(outputs), suppressed=tuple(suppressed))

    def _warn(self, result: Result, now: dt.datetime) -> Result:
        state = result.state
        assert state is not None
        risk = assess(state, self.risk_model, now.date())
        if risk.tier is None or warning_policy(risk.tier) in state.pending_offers.values():
            return result
        output = warning_output(state, risk, now)
        if output is None:
            return result
        state = f.record_offer(state, output.id, warning_policy(risk.tier))
        return Result(state, (*result.outputs, output), suppressed=result.suppressed)


def _household_outcomes(catalogue: PolicyCatalogue, state: HouseholdState, on: dt.date,
                        trigger: str) -> list[PolicyOutcome]:
    return evaluate_household(catalogue, f.household_facts(state, on), f.member_facts(state, on), on, trigger)


def _offer_id(output: Output) -> str:
    offer = output.value.get("offer")
    return str(offer["offer_id"]) if isinstance(offer, dict) else output.id


def _pending_warning(state: HouseholdState, task_id: str) -> bool:
    """Whether the task is a pending risk warning (decisions on warnings name the task, not a policy)."""
    return state.pending_offers.get(task_id, "").startswith("warning:")


_SETTLING = frozenset({"APPROVED", "REJECTED", "ACCEPTED", "DECLINED"})
