"""A policy of the catalogue: who it is for (conditions), what it gives (amount), how it is delivered."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from services.matching.domain.catalogue.labels import Label
from services.matching.domain.household.vocabulary import STATE_TRIGGERS
from services.matching.domain.policy_language.expressions import Expression

TIERS = ("basic", "special", "temporary", "specialised", "disability", "elderly", "charity")
"""Assistance tiers, in the order of the social assistance system."""


class Scope(StrEnum):
    """Evaluated once for the household, or for each member (the event's subject on the per-event path)."""

    HOUSEHOLD = "household"
    MEMBER = "member"


class AmountPeriod(StrEnum):
    MONTHLY = "MONTHLY"
    ONE_OFF = "ONE_OFF"
    PER_TERM = "PER_TERM"
    SERVICE = "SERVICE"


class Route(StrEnum):
    """Offered to the citizen directly, or verified by a caseworker first."""

    AUTO_OFFER = "AUTO_OFFER"
    VERIFICATION = "VERIFICATION"


class BenefitPeriod(StrEnum):
    """How the period an offer covers is named: the evaluation month (YYYY-MM), the triggering event id, the
    evaluation year (YYYY), or 'once' for a benefit given once per beneficiary."""

    MONTH = "month"
    EVENT = "event"
    YEAR = "year"
    ONCE = "once"


class EventMembers(StrEnum):
    """Which members a member-scope policy is evaluated for when an event triggers it: the event's subject, or
    every living member (after a death the subject is no longer a member, but the survivors may qualify)."""

    SUBJECT = "subject"
    ALL = "all"


@dataclass(frozen=True)
class Condition:
    """One condition as written; `meaning` says it in words for the citizen's summary; `label` says it to the
    citizen with the values it holds with, `unmet` (optional) when it does not hold."""

    expression: Expression
    meaning: str | None
    line: int
    label: Label | None = None
    unmet: Label | None = None


@dataclass(frozen=True)
class Policy:
    """A programme the matching service evaluates. `reads` lists every name its conditions, amount, district and
    referral read, following definitions (facts, parameters and definitions, in first-use order)."""

    id: str
    name: str
    legal_basis: str
    tier: str
    scope: Scope
    triggers: frozenset[str]
    conditions: tuple[Condition, ...]
    amount: Expression | None
    amount_period: AmountPeriod
    route: Route
    priority: int
    sla_hours: int
    benefit_period: BenefitPeriod
    event_members: EventMembers
    district: Expression | None
    referral_need: Expression | None
    description: str
    line: int
    reads: tuple[str, ...]
    review_when: Expression | None = None
    """When a beneficiary receiving the policy is reviewed (default: when it no longer qualifies)."""
    name_zh: str = ""
    """The programme's name in Simplified Chinese."""
    amount_label: Label | None = None
    """How the amount is said to the citizen (with `{amount}` and the values it is computed from)."""

    @cached_property
    def follows_state(self) -> bool:
        """Decided on the household's state alone (a registry or re-evaluation trigger, no event fact read): its
        pending offers are revised or withdrawn and its beneficiaries reviewed whenever the facts change. A
        policy reading event facts is judged at its event only."""
        return bool(self.triggers & STATE_TRIGGERS) and not any(r.startswith("event.") for r in self.reads)

    @property
    def reviewed(self) -> bool:
        """Whether receiving it is reviewed when the facts change: everything that recurs or lasts, not one-offs."""
        return self.follows_state and self.amount_period != AmountPeriod.ONE_OFF

    @property
    def revised(self) -> bool:
        """Whether a received amount follows the facts: monthly amounts."""
        return self.follows_state and self.amount is not None and self.amount_period == AmountPeriod.MONTHLY


@dataclass(frozen=True)
class Definition:
    """A named derived expression of the catalogue (e.g. `is_marginal`), usable wherever a fact is."""

    name: str
    expression: Expression
    line: int
