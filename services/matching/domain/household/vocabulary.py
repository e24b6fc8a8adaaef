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
    for event_type in EVENT_KINDS:
        et = contract.event_types.get(event_type)
        if et is None:
            raise LookupError(f"event kind {event_type} has no schema in schemas/events/")
        out[event_type] = frozenset(str(f["name"]) for f in et.schema["fields"])
    return MappingProxyType(out)


EVENT_FIELDS = _event_fields()
"""The data fields of each event type (CloudEvents type -> Avro field names), read from the contract's
schemas/events/*.avsc for every kind of event_kinds."""

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
        """What a policy may name as its trigger: the event types that change facts (a request such as an
        application is answered by evaluating the one policy it names, never triggers policies), and the state
        triggers."""
        return frozenset(t for t in self.event_fields if not _requests(t)) | STATE_TRIGGERS

    def is_fact(self, name: str) -> bool:
        if name.startswith("event."):
            field_name = name.removeprefix("event.")
            return name in EVENT_COMMON or any(field_name in fields for fields in self.event_fields.values())
        return name in self.household or name in self.member

    def event_carries(self, event_type: str, name: str) -> bool:
        """Whether events of `event_type` provide the event fact `name`."""
        return name in EVENT_COMMON or name.removeprefix("event.") in self.event_fields.get(event_type, ())


def _requests(event_type: str) -> bool:
    kind = EVENT_KINDS.get(event_type)
    return kind is not None and kind.change == Change.REQUEST


DEFAULT_VOCABULARY = Vocabulary()
