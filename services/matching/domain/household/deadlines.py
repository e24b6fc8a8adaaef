"""Where deadlines count from when what brought a task about is the household's state, not one report: a warning
from the day the household's score first reached its tier, an offer decided on the state from the day the household
first qualified for it (the registry record's day counts as one), each from the latest report recorded that day
(its time). Named by the dated history the
household holds, so the order its members' reports arrived in does not move a deadline.

Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from services.matching.domain.catalogue.policy import Policy
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue
from services.matching.domain.evaluation import evaluate_household
from services.matching.domain.household.facts import household_facts, member_facts
from services.matching.domain.household.one_off import as_of
from services.matching.domain.household.risk import RiskModel, assess
from services.matching.domain.household.state import HouseholdState


def reached_on(state: HouseholdState, model: RiskModel, min_score: int, today: dt.date) -> dt.datetime | None:
    """When the household's score (scored on `today`) first reached `min_score`, counting the reports day by day;
    None when no reported day did."""
    for day, reported in _report_days(state):
        earlier = replace(state, recent_events=tuple(e for e in state.recent_events if e.on <= day))
        if assess(earlier, model, today).score >= min_score:
            return reported
    return None


def qualified_on(catalogue: PolicyCatalogue, state: HouseholdState, policy: Policy, person: str | None,
                 today: dt.date) -> dt.datetime | None:
    """When the beneficiary (`person`, None for the household) first qualified for `policy` (decided on `today`)
    on the household's facts as of a reported day or the registry record's day; None when on none of them."""
    days = dict(_report_days(state))
    if state.registry_as_of is not None:
        registry = dt.datetime.combine(state.registry_as_of, dt.time(0), dt.UTC)
        days[state.registry_as_of] = max(days.get(state.registry_as_of, registry), registry)
    for day, reported in sorted(days.items()):
        past = as_of(state, day)
        if person is not None and person not in past.members:
            continue
        members = member_facts(past, today)
        if person is not None:  # the beneficiary's outcome reads the household's facts and theirs only
            members = {person: members[person]}
        outcomes = evaluate_household(catalogue, household_facts(past, today), members, today, policies=[policy])
        if any(o.eligible and o.person_id == person for o in outcomes):
            return reported
    return None


def _report_days(state: HouseholdState) -> list[tuple[dt.date, dt.datetime]]:
    """The days of the household's recorded events about members, each with its latest report time, in order."""
    latest: dict[dt.date, int] = {}
    for event in state.recent_events:
        if event.member and event.reported_ms:
            latest[event.on] = max(latest.get(event.on, 0), event.reported_ms)
    return [(day, dt.datetime.fromtimestamp(ms / 1000, dt.UTC)) for day, ms in sorted(latest.items())]


def deadline_base(recorded: dt.datetime) -> dt.datetime:
    """Where a deadline's hours start: the end (UTC) of the day the trigger was recorded on. A task is never due
    before its hours have passed, and reports recorded on one day count from one moment, whatever their order."""
    day = recorded.astimezone(dt.UTC).date() if recorded.tzinfo else recorded.date()
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), dt.UTC)
