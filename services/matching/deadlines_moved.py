"""Deadlines corrected after the fact. A deadline counts from the day something first held on the household's dated
history (a warning's tier reached, a state-decided benefit qualified for: domain/household/deadlines.py). A report
dated on or before that day that arrives after the task went out can move the day (earlier, or later when it shows
the household did not qualify then), so the pending task is published again (same task id, REVISED) with the
deadline the whole dated history gives, whatever the order its reports arrived in. Only a report can move one: a
registry snapshot or a decision does not. The citizen is told nothing of it: only the caseworker's deadline changes
(the amount stays, revision.previous_amount_fen says so).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace

from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue
from services.matching.domain.evaluation import PolicyOutcome
from services.matching.domain.household.benefits import Item, beneficiary_of, benefit_key, policy_of
from services.matching.domain.household.deadlines import deadline_base, qualified_on, reached_on
from services.matching.domain.household.follow_up import Step, StepKind
from services.matching.domain.household.one_off import for_a_period, judged_at
from services.matching.domain.household.risk import RiskAssessment, RiskModel
from services.matching.domain.household.state import HouseholdState
from services.matching.offers import (
    REVISED,
    Output,
    item_of_output,
    revision_output,
    warning_item,
    warning_output,
)


def moved_warning(state: HouseholdState, key: str, risk: RiskAssessment, model: RiskModel, min_score: int,
                  now: dt.datetime, dated: dt.date) -> tuple[HouseholdState, Output | None]:
    """The pending warning under `key` again (REVISED, same task id) when a report dated `dated` moved the day its
    tier was reached and so its deadline; nothing when it stands (or was raised by a state that did not
    keep its deadline)."""
    item = state.items.get(key)
    if item is None or item.offer_id not in state.pending_offers or risk.tier is None or risk.task is None \
            or not may_move(item, risk.task.sla_hours, dated):
        return state, None
    reached = reached_on(state, model, min_score, now.date())
    if reached is None:
        return state, None
    raised = state.warnings_raised.get(risk.tier, 0) - 1
    output = warning_output(state, risk, now, deadline_base(reached), max(raised, 0))
    if output is None or output.id != item.offer_id or warning_item(output).due_at == item.due_at:
        return state, None
    day = _day(reached)
    output = replace(output, value={**output.value, "change": REVISED,
                                    "reason": f"Due date moved: the score reached tier {risk.tier} with the reports "
                                              f"of {day} (one arrived late). {output.value['reason']}"})
    moved = replace(warning_item(output), revision=item.revision + 1)
    return replace(state, items={**state.items, key: moved}), output


def moved_verifications(state: HouseholdState, catalogue: PolicyCatalogue, outcomes: Iterable[PolicyOutcome],
                        now: dt.datetime, trigger: str | None, evidence: tuple[str, ...], subject: str | None,
                        dated: dt.date) -> tuple[HouseholdState, list[Output]]:
    """Each pending verification of a benefit decided on the state whose deadline moved: its task again, REVISED
    with the same amount and the new deadline (due sla_hours after the end of the day the beneficiary first
    qualified on the dated history)."""
    outputs: list[Output] = []
    for outcome in outcomes:
        policy = catalogue.policy(outcome.policy_id)
        key = benefit_key(outcome.policy_id, outcome.person_id)
        item = _pending_verification(state, key, outcome, dated)
        if not (policy.follows_state and outcome.eligible) or item is None:
            continue
        first = qualified_on(catalogue, state, policy, outcome.person_id, now.date())
        if first is None:
            continue
        said = (f"Due date moved: {'the beneficiary' if beneficiary_of(key) else 'the household'} qualified "
                f"with the reports of {_day(first)} (one arrived late); the amount stays.")
        state, output = _moved(state, catalogue, key, item, outcome, first, said, now, trigger, evidence, subject)
        outputs.extend(() if output is None else (output,))
    return state, outputs


def moved_judgements(state: HouseholdState, catalogue: PolicyCatalogue, now: dt.datetime, trigger: str | None,
                     evidence: tuple[str, ...], subject: str | None, dated: dt.date
                     ) -> tuple[HouseholdState, list[Output]]:
    """Each pending verification of a benefit judged at its events for a longer period (one_off.for_a_period)
    whose deadline moved: due from the report of the earliest event it qualifies at on the dated history (one
    dated earlier arrived late, or a late change of facts made another the earliest), REVISED, same amount."""
    outputs: list[Output] = []
    for key, item in list(state.items.items()):
        if policy_of(key) not in catalogue.policy_ids() or item.withdrawn \
                or state.pending_offers.get(item.offer_id) != key:
            continue
        policy = catalogue.policy(policy_of(key))
        if not for_a_period(policy) or not item.due_at or not may_move(item, policy.sla_hours, dated):
            continue
        judged = judged_at(catalogue, state, policy, beneficiary_of(key), item.benefit_period)
        if judged is None or _pending_verification(state, key, judged[1], dated) is None:
            continue
        need, outcome = judged
        said = f"Due date moved: qualified at the report of {_day(need.time)} (one dated earlier arrived late)."
        state, output = _moved(state, catalogue, key, item, outcome, need.time, said, now, trigger, evidence,
                               subject)
        outputs.extend(() if output is None else (output,))
    return state, outputs


def _pending_verification(state: HouseholdState, key: str, outcome: PolicyOutcome, dated: dt.date) -> Item | None:
    """The pending verification under `key`, if a report dated `dated` can move its deadline with the amount
    `outcome` keeps."""
    item = state.items.get(key)
    if outcome.route.value != "VERIFICATION" or item is None or item.withdrawn \
            or state.pending_offers.get(item.offer_id) != key or item.amount_fen != outcome.amount_fen \
            or not item.due_at or not may_move(item, outcome.sla_hours, dated):
        return None
    return item


def _moved(state: HouseholdState, catalogue: PolicyCatalogue, key: str, item: Item, outcome: PolicyOutcome,
           counted_from: dt.datetime, said: str, now: dt.datetime, trigger: str | None, evidence: tuple[str, ...],
           subject: str | None) -> tuple[HouseholdState, Output | None]:
    """The pending verification's task again (REVISED, same amount) due sla_hours after deadline_base(counted_from);
    nothing when that is its deadline already."""
    due = deadline_base(counted_from) + dt.timedelta(hours=outcome.sla_hours)
    if int(due.timestamp()) == item.due_at:
        return state, None
    step = Step(StepKind.REVISE, key, outcome.policy_id, outcome, replace(item, due_at=int(due.timestamp())),
                offer_id=item.offer_id)
    output = revision_output(state, step, outcome, catalogue.policy(outcome.policy_id), now, trigger, evidence,
                             subject)
    offer = {**output.value["offer"], "revision": {**output.value["offer"]["revision"], "reason": said}}
    output = replace(output, value={**output.value, "offer": offer, "reason": said})
    state = replace(state, items={**state.items, key: replace(item_of_output(output, catalogue.definitions),
                                                              due_at=int(due.timestamp()))})
    return state, output


def may_move(item: Item, sla_hours: int, dated: dt.date) -> bool:
    """Whether a report dated `dated` can move the task's deadline: the day its hours count from is at
    most the day before their start (deadline_base), and a report changes nothing about the days before its own,
    so one dated on or after that start cannot (the test that spares the evaluation on most reports)."""
    start = dt.datetime.fromtimestamp(item.due_at, dt.UTC) - dt.timedelta(hours=sla_hours)
    return dated < start.date()


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).date().isoformat()
