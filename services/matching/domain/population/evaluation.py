"""Re-evaluating the whole monitored population at once with the vectorised form of each expression.

`columns` holds the household.* arrays (length H) and the member.* arrays (length P) of the facts vocabulary,
with `member.household` indexing each member's household. Parameters are resolved per row from the
household.region and household.urban arrays; household facts reach member-scope policies by indexing with
`member.household`. There is no Python loop over households or members.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.matching.domain.catalogue.checks import reads_of
from services.matching.domain.catalogue.policy import Policy, Scope
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue
from services.matching.domain.household.vocabulary import REEVALUATION
from services.matching.domain.policy_language.expressions import ABSENT, EvaluationError, MissingFact
from services.matching.domain.policy_language.vectorised import round_fen_columns
from services.matching.domain.population.columns import REGION_CODES, REGION_TABLE

Column = np.ndarray[Any, Any]


@dataclass(frozen=True)
class PopulationOutcome:
    """One policy over the population: per household (scope household) or per member (scope member)."""

    policy_id: str
    scope: Scope
    eligible: Column
    """Boolean mask."""
    amount_fen: Column
    """int64 whole fen; 0 where not eligible or for a service."""
    review: Column | None = None
    """Boolean mask: a beneficiary receiving the policy would be reviewed (its review_when, or not eligible)."""


class _HouseholdColumns(dict[str, Any]):
    def __init__(self, catalogue: PolicyCatalogue, columns: Mapping[str, Column], on_date: dt.date) -> None:
        super().__init__((k, v) for k, v in columns.items() if k.startswith("household."))
        self.catalogue = catalogue
        self.on_date = on_date
        self.size = len(columns["household.region"])

    def __missing__(self, name: str) -> Any:
        parameter = self.catalogue.parameters.get(name)
        if parameter is not None and REGION_CODES in self:
            value: Any = parameter.resolve_coded(self[REGION_CODES], self[REGION_TABLE], self["household.urban"],
                                                 self.on_date)
        elif parameter is not None:
            value = parameter.resolve_columns(self["household.region"], self["household.urban"], self.on_date)
        else:
            definition = self.catalogue.definitions.get(name)
            if definition is None:
                raise KeyError(name)
            value = definition.expression.vectorised(self)
        self[name] = value
        return value


class _MemberColumns(dict[str, Any]):
    def __init__(self, households: _HouseholdColumns, columns: Mapping[str, Column]) -> None:
        super().__init__((k, v) for k, v in columns.items() if k.startswith("member."))
        self.households = households
        self.index = np.asarray(columns["member.household"])
        self.size = len(self.index)

    def __missing__(self, name: str) -> Any:
        catalogue = self.households.catalogue
        definition = catalogue.definitions.get(name)
        if definition is not None and _reads_member_facts(catalogue, name):
            value: Any = definition.expression.vectorised(self)
        else:
            # household facts, parameters and household-only definitions: once per household, then spread.
            value = self.households[name]
            if isinstance(value, np.ndarray):
                value = value[self.index]
        self[name] = value
        return value


def _reads_member_facts(catalogue: PolicyCatalogue, definition: str) -> bool:
    expression = catalogue.definitions[definition].expression
    return any(name.startswith("member.") for name, _ in reads_of(expression, catalogue.definitions))


def evaluate_population(catalogue: PolicyCatalogue, columns: Mapping[str, Column], on_date: dt.date,
                        policy_ids: Iterable[str] | None = None) -> dict[str, PopulationOutcome]:
    """Eligibility masks and amounts of the given policies (by default those triggered by 'reevaluation')."""
    households = _HouseholdColumns(catalogue, columns, on_date)
    members = _MemberColumns(households, columns) if "member.household" in columns else None
    chosen = [catalogue.policy(p) for p in policy_ids] if policy_ids is not None \
        else list(catalogue.policies_for(REEVALUATION))
    outcomes: dict[str, PopulationOutcome] = {}
    for policy in chosen:
        rows: Mapping[str, Any]
        if policy.scope == Scope.HOUSEHOLD:
            rows, size = households, households.size
        elif members is not None:
            rows, size = members, members.size
        else:
            raise EvaluationError(f"policy {policy.id} is evaluated per member, but there are no member columns")
        try:
            outcomes[policy.id] = _evaluate(policy, rows, size)
        except (MissingFact, TypeError, ValueError, ArithmeticError) as error:
            raise EvaluationError(f"policy {policy.id}: {error}") from error
    return outcomes


def _evaluate(policy: Policy, rows: Mapping[str, Any], size: int) -> PopulationOutcome:
    eligible = np.ones(size, dtype=bool)
    for condition in policy.conditions:
        result = condition.expression.vectorised(rows)
        eligible &= np.broadcast_to(np.asarray(False if result is ABSENT else result, dtype=bool), (size,))
    amounts = np.zeros(size, dtype=np.int64)
    if policy.amount is not None and eligible.any():
        raw = policy.amount.vectorised(rows)
        if raw is ABSENT:
            raise EvaluationError(f"the amount reads a fact re-evaluation does not have: {policy.amount.source}")
        whole = np.maximum(round_fen_columns(np.broadcast_to(np.asarray(raw, dtype=np.float64), (size,))), 0)
        amounts = np.where(eligible, whole, 0).astype(np.int64)
    review = ~eligible
    if policy.review_when is not None:
        result = policy.review_when.vectorised(rows)
        review = np.broadcast_to(np.asarray(False if result is ABSENT else result, dtype=bool), (size,)).copy()
    return PopulationOutcome(policy.id, policy.scope, eligible, amounts, review)


def changed_households(before: PopulationOutcome, after: PopulationOutcome,
                       member_household: Column | None) -> Column:
    """Household rows whose outcome changed: newly eligible, no longer eligible, or with a new amount (for
    member-scope policies: with such a member). The re-evaluation command then offers to the newly eligible,
    revises what is pending or received, and reviews who no longer qualifies; households whose outcome is the
    same are not sent anything."""
    changed = (after.eligible != before.eligible) | (after.amount_fen != before.amount_fen)
    if before.review is not None and after.review is not None:
        changed |= after.review != before.review
    if after.scope == Scope.MEMBER and member_household is not None:
        return np.unique(member_household[changed])
    return np.flatnonzero(changed)
