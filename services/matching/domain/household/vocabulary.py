"""The names policies may read: household.*, member.* and event.* facts, and the triggers a policy may name.

This mirrors the facts vocabulary shared with household state (facts.py) and the event contract
(schemas/events/*.avsc); catalogue loading checks every name in every expression against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

HOUSEHOLD_FACTS: Mapping[str, type] = MappingProxyType({
    "household.id": str,
    "household.district": str,
    "household.region": str,
    "household.urban": bool,
    "household.members": int,
    "household.monthly_income_fen": int,
    "household.per_capita_income_fen": float,
    "household.annual_income_fen": int,
    "household.financial_assets_fen": int,
    "household.assets_per_capita_fen": float,
    "household.earners_working_age": int,
    "household.elderly_members": int,
    "household.children": int,
    "household.severe_disability_members": int,
    "household.medical_12m_fen": int,
    "household.education_12m_fen": int,
    "household.receives_subsistence_allowance": bool,
    "household.receives_special_hardship": bool,
    "household.lives_alone": bool,
    "household.disaster_severity": str,
})

MEMBER_FACTS: Mapping[str, type] = MappingProxyType({
    "member.id": str,
    "member.age": int,
    "member.monthly_income_fen": int,
    "member.disability_grade": int,
    "member.has_phone": bool,
    "member.working_age": bool,
})

EVENT_COMMON = frozenset({"event.type", "event.id", "event.subject"})

EVENT_FIELDS: Mapping[str, frozenset[str]] = MappingProxyType({
    "age.milestone_reached": frozenset({"reached_on", "age"}),
    "death.registered": frozenset({"died_on"}),
    "disability.certified": frozenset({"certified_on", "category", "grade"}),
    "emergency.occurred": frozenset({"occurred_on", "kind", "severity", "place_district", "home_destroyed"}),
    "hospitalisation.admitted": frozenset({
        "admitted_on", "diagnosis_category", "hospital_district", "estimated_out_of_pocket_fen"}),
    "hospitalisation.discharged": frozenset({
        "discharged_on", "diagnosis_category", "total_cost_fen", "out_of_pocket_fen"}),
    "housing.lost": frozenset({"lost_on", "reason"}),
    "income.changed": frozenset({"effective_on", "monthly_income_fen"}),
    "job.lost": frozenset({"lost_on", "unemployment_registered", "previous_monthly_income_fen"}),
    "medical_expense.settled": frozenset({"settled_on", "total_cost_fen", "out_of_pocket_fen"}),
    "school.enrolled": frozenset({"enrolled_on", "level", "school_district", "term_fees_fen"}),
})
"""The data fields of each event type (CloudEvents type -> Avro field names)."""

REGISTRY = "registry"
REEVALUATION = "reevaluation"
STATE_TRIGGERS = frozenset({REGISTRY, REEVALUATION})
"""Triggers without an event: a registry load of the household, and the periodic re-evaluation."""


@dataclass(frozen=True)
class Vocabulary:
    """Known fact names and event types. The default one is the platform's; tests may pass a smaller one."""

    household: frozenset[str] = field(default_factory=lambda: frozenset(HOUSEHOLD_FACTS))
    member: frozenset[str] = field(default_factory=lambda: frozenset(MEMBER_FACTS))
    event_fields: Mapping[str, frozenset[str]] = field(default_factory=lambda: EVENT_FIELDS)

    def triggers(self) -> frozenset[str]:
        return frozenset(self.event_fields) | STATE_TRIGGERS

    def is_fact(self, name: str) -> bool:
        if name.startswith("event."):
            field_name = name.removeprefix("event.")
            return name in EVENT_COMMON or any(field_name in fields for fields in self.event_fields.values())
        return name in self.household or name in self.member

    def event_carries(self, event_type: str, name: str) -> bool:
        """Whether events of `event_type` provide the event fact `name`."""
        return name in EVENT_COMMON or name.removeprefix("event.") in self.event_fields.get(event_type, ())


DEFAULT_VOCABULARY = Vocabulary()
