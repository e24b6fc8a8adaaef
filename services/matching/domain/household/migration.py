"""Reading household states written in an older form.

Event types by position: before event kinds had codes (state FORMAT 3), a recorded event's type was stored as
its position in the alphabetical list of the eleven types then known (LEGACY_POSITIONS, frozen: never extend it).

Benefit keys: states written before benefit keys named members remember a pending offer as offer id → policy id. For
a member-scope policy the member is recovered from the offer id itself, which is hash(beneficiary, policy, benefit
period): every living or deceased member is tried with the benefit periods the state's dates allow (months and years
around them, 'once', the recorded events' ids). An offer whose beneficiary is not found keeps the bare policy id,
which covers the whole household, as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from services.matching.domain.household.benefits import benefit_key, offer_id_of

_MONTHS_AROUND = 14

LEGACY_POSITIONS = ("age.milestone_reached", "death.registered", "disability.certified", "emergency.occurred",
                    "hospitalisation.admitted", "hospitalisation.discharged", "housing.lost", "income.changed",
                    "job.lost", "medical_expense.settled", "school.enrolled")
"""The alphabetical list states before FORMAT 3 stored event types by (position → type)."""


def legacy_event_type(position: int) -> str:
    """The event type a state written before codes stored as `position`."""
    return LEGACY_POSITIONS[position]


def name_beneficiaries(pending: Mapping[str, str], household_id: str, persons: Iterable[str],
                       event_ids: Iterable[str], days: Iterable[dt.date]) -> dict[str, str]:
    """`pending` with each legacy entry of a member's offer keyed by (policy, member)."""
    legacy = {offer: policy for offer, policy in pending.items() if "@" not in policy and ":" not in policy}
    if not legacy:
        return dict(pending)
    periods = _periods(days, event_ids)
    people = sorted(set(persons))
    named = dict(pending)
    for offer_id, policy in legacy.items():
        if any(offer_id_of(household_id, policy, p) == offer_id for p in periods):
            continue
        for person in people:
            if any(offer_id_of(person, policy, p) == offer_id for p in periods):
                named[offer_id] = benefit_key(policy, person)
                break
    return named


def _periods(days: Iterable[dt.date], event_ids: Iterable[str]) -> list[str]:
    months: set[str] = set()
    years: set[str] = set()
    for day in days:
        for shift in range(-_MONTHS_AROUND, _MONTHS_AROUND + 1):
            index = day.year * 12 + day.month - 1 + shift
            months.add(f"{index // 12:04d}-{index % 12 + 1:02d}")
            years.add(f"{index // 12:04d}")
    return [*sorted(months), *sorted(years), "once", *event_ids]
