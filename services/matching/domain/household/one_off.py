"""One-off benefits (benefit_period: event) are decided on the household as it stood on the need's day.

A hospital stay, a medical bill, an emergency... is judged on the facts dated on or before its day: the members
the registry listed with every change dated up to that day applied (in the order of their days, then event ids),
the spending and emergencies up to that day. What was reported later about later days does not count, whatever
the order the reports arrived in; a report dated on or before the need's day that arrives after it has the need
decided again (handler.Matcher.on_event): a pending offer is revised or withdrawn, or an offer made late. So what
the household ends with depends on the set of reports it received, never on their order.

Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace

from services.matching.domain.catalogue.policy import BenefitPeriod, Policy
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue
from services.matching.domain.evaluation import PolicyOutcome, evaluate_event
from services.matching.domain.household.event_kinds import Change, changes, kind_of
from services.matching.domain.household.facts import event_facts, household_facts, in_history_order, member_facts
from services.matching.domain.household.needs import Need
from services.matching.domain.household.state import Emergency, HouseholdState, Member

FACT_CHANGES = frozenset({Change.INCOME, Change.DISABILITY, Change.DEATH, Change.SPENDING, Change.EMERGENCY})
"""Changes of facts a one-off decision reads: a report of one has the needs of its day and after decided again."""


def one_off(policies: Iterable[Policy]) -> list[Policy]:
    """The policies judged at their event (not decided on the state alone) among `policies`: one-off benefits, and
    those reading the event's facts for a longer period (a member's stay in hospital for a monthly allowance).
    Only a one-off's offer is revised or withdrawn when its need is decided again (its key names the need); the
    others may be offered late."""
    return [p for p in policies if not p.follows_state]


def remember(state: HouseholdState, need: Need) -> HouseholdState:
    """The household with the need's report kept (once per event id)."""
    if any(n.event_id == need.event_id for n in state.needs):
        return state
    return replace(state, needs=(*state.needs, need))


def decide(catalogue: PolicyCatalogue, state: HouseholdState, need: Need,
           policies: Iterable[Policy] | None = None) -> list[PolicyOutcome]:
    """The outcomes of the need's one-off policies (or of `policies`) on the household as of the need's day."""
    chosen = one_off(catalogue.policies_for(need.type, state.region, state.district)) if policies is None \
        else list(policies)
    if not chosen:
        return []
    outcomes = _on_its_day(catalogue, state, need, chosen)
    return [o if o.benefit_period == need.name else _first_eligible(catalogue, state, o, need) for o in outcomes]


def _on_its_day(catalogue: PolicyCatalogue, state: HouseholdState, need: Need,
                policies: list[Policy]) -> list[PolicyOutcome]:
    past = as_of(state, need.on)
    facts = event_facts(need.type, need.event_id, need.subject, need.data, need.on)
    return evaluate_event(catalogue, household_facts(past, need.on), member_facts(past, need.on), facts, need.on,
                          policies)


def _first_eligible(catalogue: PolicyCatalogue, state: HouseholdState, outcome: PolicyOutcome,
                    at: Need) -> PolicyOutcome:
    """A policy reading the event for a longer period (one offer per beneficiary and period, whichever of its
    events qualifies): the outcome of the earliest report it qualifies at, else `outcome` (the one at report
    `at`)."""
    policy = catalogue.policy(outcome.policy_id)
    found = judged_at(catalogue, state, policy, outcome.person_id, outcome.benefit_period,
                      before=history_order(at) if outcome.eligible else None)
    return found[1] if found is not None else outcome


def for_a_period(policy: Policy) -> bool:
    """Whether `policy` is judged at its events for a longer period than the need (a monthly allowance judged at
    a member's stay in hospital): one offer per beneficiary and period, whichever of its events qualifies."""
    return not policy.follows_state and policy.benefit_period != BenefitPeriod.EVENT


def judged_at(catalogue: PolicyCatalogue, state: HouseholdState, policy: Policy, person_id: str | None,
              benefit_period: str, before: tuple[dt.date, dt.datetime, str] | None = None
              ) -> tuple[Need, PolicyOutcome] | None:
    """The earliest report (day, time, event id; `before` one at most) at which `policy` qualifies the
    beneficiary for the period, with its outcome: what its offer is made at and where its deadline counts from,
    whatever order the reports arrived in. None when no report does."""
    for need in sorted(state.needs, key=history_order):
        if before is not None and history_order(need) >= before:
            break
        if policy not in catalogue.policies_for(need.type, state.region, state.district):
            continue
        for found in _on_its_day(catalogue, state, need, [policy]):
            if found.eligible and found.person_id == person_id and found.benefit_period == benefit_period:
                return need, found
    return None


def history_order(need: Need) -> tuple[dt.date, dt.datetime, str]:
    """Where a need's report stands in the household's dated history: its day, its time, its event id."""
    return need.on, need.time, need.event_id


def affected(state: HouseholdState, event_type: str, on: dt.date, event_id: str, member: bool) -> list[Need]:
    """The needs an event changes the decision basis of: those dated on or after its day, when it changes facts
    about a member. In the order of their days, then event ids; one report per need (the earliest)."""
    kind = kind_of(event_type)
    if not member or kind is None or kind.change not in FACT_CHANGES:
        return []
    chosen: dict[str, Need] = {}
    for need in sorted(state.needs, key=history_order):
        if need.on >= on and need.event_id != event_id:
            chosen.setdefault(need.name, need)
    return list(chosen.values())


def as_of(state: HouseholdState, day: dt.date) -> HouseholdState:
    """The household as its facts stood on `day`: members from the registry's record with the member changes
    dated from its day up to `day` applied in the order of their days and event ids; spending and the latest
    emergency up to `day`. A state stored before the registry's members were kept keeps its current members."""
    emergencies = [e for e in state.recent_events if e.member and e.on <= day and changes(e.type, Change.EMERGENCY)]
    latest = max(emergencies, key=lambda e: (e.on, e.event_id), default=None)
    emergency = None if latest is None else Emergency(latest.on, latest.detail, "", latest.home_destroyed,
                                                      latest.event_id)
    return replace(state, members=_members_on(state, day), last_emergency=emergency,
                   expenditures=tuple(x for x in state.expenditures if x.on <= day))


def _members_on(state: HouseholdState, day: dt.date) -> dict[str, Member]:
    if state.registered is None:
        return dict(state.members)
    members = dict(state.registered)
    since = state.registry_as_of
    for event in sorted(state.recent_events, key=in_history_order):
        if not event.member or event.on > day or (since is not None and event.on < since):
            continue
        member = members.get(event.subject)
        kind = kind_of(event.type)
        if member is None or kind is None:
            continue
        if kind.change == Change.INCOME:
            members[event.subject] = replace(member, monthly_income_fen=event.amount_fen)
        elif kind.change == Change.DISABILITY and event.detail.isdigit():
            members[event.subject] = replace(member, disability_grade=int(event.detail))
        elif kind.change == Change.DEATH:
            del members[event.subject]
    return members
