"""Outcome figures folded from what the topics record. Pure: records in, figures out.

An offer is any offer id matching published, on assist.offers (offered to the citizen) or inside a task on
assist.tasks (verified by a caseworker first); it is counted once, under its policy, the type of the event that
triggered it ("reevaluation" or "registry" when none did) and its district. What became of it is read from
assist.decisions (accepted, declined by the citizen; approved, rejected by a caseworker) and from its WITHDRAWN
publication (unless a later REVISED one reinstated it). A warning is a task with a risk tier; a visit confirms it
when the caseworker approves the task.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

OUTCOMES = ("accepted", "declined", "approved", "rejected", "withdrawn")
DECIDING = {"ACCEPTED": "accepted", "DECLINED": "declined", "APPROVED": "approved", "REJECTED": "rejected"}


@dataclass(frozen=True)
class OfferSeen:
    offer_id: str
    policy_id: str
    district: str
    created_ms: int
    trigger_event_id: str | None
    change: str = "NEW"


@dataclass(frozen=True)
class TaskSeen:
    task_id: str
    district: str
    created_ms: int
    risk_tier: str | None
    offer: OfferSeen | None
    change: str = "NEW"


@dataclass(frozen=True)
class DecisionSeen:
    action: str
    task_id: str | None
    offer_id: str | None
    at_ms: int


@dataclass(frozen=True)
class EventSeen:
    event_id: str
    type: str
    time_ms: int


@dataclass
class Row:
    """The figures of one (policy, trigger type, district)."""

    made: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    event_to_offer_s: list[float] = field(default_factory=list)
    offer_to_decision_s: list[float] = field(default_factory=list)

    @property
    def median_event_to_offer_s(self) -> float | None:
        return statistics.median(self.event_to_offer_s) if self.event_to_offer_s else None

    @property
    def median_offer_to_decision_s(self) -> float | None:
        return statistics.median(self.offer_to_decision_s) if self.offer_to_decision_s else None


@dataclass
class Warnings:
    raised: int = 0
    confirmed: int = 0
    """Approved after a visit or a check."""
    rejected: int = 0

    @property
    def confirmed_share(self) -> float | None:
        decided = self.confirmed + self.rejected
        return self.confirmed / decided if decided else None


@dataclass(frozen=True)
class Outcomes:
    rows: dict[tuple[str, str, str], Row]
    """(policy id, trigger event type, district) → figures."""
    warnings: dict[str, Warnings]
    """District → its warnings."""

    @property
    def all_warnings(self) -> Warnings:
        return Warnings(sum(w.raised for w in self.warnings.values()),
                        sum(w.confirmed for w in self.warnings.values()),
                        sum(w.rejected for w in self.warnings.values()))


def outcomes(offers: Iterable[OfferSeen], tasks: Iterable[TaskSeen], decisions: Iterable[DecisionSeen],
             events: Iterable[EventSeen]) -> Outcomes:
    """The figures of everything recorded (each input in the order it was recorded)."""
    when = {e.event_id: e for e in events}
    first: dict[str, OfferSeen] = {}
    withdrawn: set[str] = set()
    offer_of_task: dict[str, str] = {}
    warning_district: dict[str, str] = {}
    for task in tasks:
        if task.risk_tier and task.change == "NEW":
            warning_district.setdefault(task.task_id, task.district)
        if task.offer is not None:
            offer_of_task[task.task_id] = task.offer.offer_id
            _seen(first, withdrawn, task.offer, task.change)
    for offer in offers:
        _seen(first, withdrawn, offer, offer.change)

    rows: dict[tuple[str, str, str], Row] = {}

    def row_of(offer: OfferSeen) -> Row:
        trigger = when.get(offer.trigger_event_id or "")
        kind = trigger.type if trigger else ("reevaluation" if offer.trigger_event_id is None else "unknown")
        return rows.setdefault((offer.policy_id, kind, offer.district), Row())

    for offer in first.values():
        row = row_of(offer)
        row.made += 1
        trigger = when.get(offer.trigger_event_id or "")
        if trigger is not None:
            row.event_to_offer_s.append(max(0.0, (offer.created_ms - trigger.time_ms) / 1000))
        if offer.offer_id in withdrawn:
            row.counts["withdrawn"] += 1

    warnings: dict[str, Warnings] = {}
    for district in warning_district.values():
        warnings.setdefault(district, Warnings()).raised += 1
    decided: set[str] = set()
    for decision in decisions:
        if decision.task_id in warning_district and decision.action in ("APPROVED", "REJECTED"):
            w = warnings[warning_district.pop(decision.task_id)]
            w.confirmed += decision.action == "APPROVED"
            w.rejected += decision.action == "REJECTED"
        outcome = DECIDING.get(decision.action)
        offer_id = decision.offer_id or offer_of_task.get(decision.task_id or "")
        if outcome is None or offer_id is None or offer_id in decided or offer_id not in first:
            continue
        decided.add(offer_id)
        offer = first[offer_id]
        row = row_of(offer)
        row.counts[outcome] += 1
        row.offer_to_decision_s.append(max(0.0, (decision.at_ms - offer.created_ms) / 1000))
    return Outcomes(rows, warnings)


def _seen(first: dict[str, OfferSeen], withdrawn: set[str], offer: OfferSeen, change: str) -> None:
    """A withdrawal counts until a later REVISED publication reinstates the offer (matching publishes an id's
    records in order, on one partition)."""
    if change == "WITHDRAWN":
        withdrawn.add(offer.offer_id)
    elif change == "REVISED":
        withdrawn.discard(offer.offer_id)
    first.setdefault(offer.offer_id, offer)


def totals(result: Outcomes, by: int) -> dict[str, Row]:
    """The rows summed over all but one key part: 0 policy, 1 trigger type, 2 district."""
    summed: dict[str, Row] = {}
    for key, row in result.rows.items():
        total = summed.setdefault(key[by], Row())
        total.made += row.made
        for outcome in OUTCOMES:
            total.counts[outcome] += row.counts[outcome]
        total.event_to_offer_s += row.event_to_offer_s
        total.offer_to_decision_s += row.offer_to_decision_s
    return summed
