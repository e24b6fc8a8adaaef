"""The names policies may read: household.*, member.* and event.* facts, and the triggers a policy may name.

This mirrors the facts vocabulary shared with household state (facts.py); event types are the kinds of
event_kinds and their fields those of the event contract (schemas/events/*.avsc, read once through
services.core.contract). Catalogue loading checks every name in every expression against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from services.core.contract import load_contract
from services.matching.domain.household.event_kinds import EVENT_KINDS, SPENDING_KINDS, Change, spending_fact

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
    **{spending_fact(kind): int for kind in SPENDING_KINDS},
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



def _event_fields() -> Mapping[str, frozenset[str]]:
    contract = load_contract()
    out: dict[str, frozenset[str]] = {}
    for event_type, kind in EVENT_KINDS.items():
        if kind.change == Change.REQUEST:
            continue  # answered, never a policy's trigger
        et = contract.event_types.get(event_type)
        if et is None:
            raise LookupError(f"event kind {event_type} has no schema in schemas/events/")
        out[event_type] = frozenset(str(f["name"]) for f in et.schema["fields"])
    return MappingProxyType(out)


EVENT_FIELDS = _event_fields()
"""The data fields of each change event type (CloudEvents type -> Avro field names), read from the contract's
schemas/events/*.avsc for every kind of event_kinds that changes facts."""

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
