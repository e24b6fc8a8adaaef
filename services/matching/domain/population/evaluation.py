"""Re-evaluating the whole monitored population at once with the vectorised form of each expression.

`columns` holds the household.* arrays (length H) and the member.* arrays (length P) of the facts vocabulary,
with `member.household` indexing each member's household (a PopulationFacts computes each when first read; a
plain dict of arrays is accepted too). Parameters resolve once per (region, urban) place and are gathered per
household; household facts reach member-scope policies by indexing with `member.household`. There is no Python
loop over households or members.

Conditions narrow the rows: once at most half of them are still eligible, later conditions, definitions and the
amount are computed for those rows only (most policies start with a selective condition: an age, a disability,
an income under the standard). Values are the same as over every row, elementwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.matching.domain.catalogue.checks import reads_of
from services.matching.domain.catalogue.policy import Policy, Scope
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue
from services.matching.domain.household.vocabulary import REEVALUATION
from services.matching.domain.policy_language.expressions import ABSENT, EvaluationError, MissingFact
from services.matching.domain.policy_language.vectorised import round_fen_columns
from services.matching.domain.population.changes import CatalogueChange
from services.matching.domain.population.facts import REGION_CODES, REGION_TABLE, facts_of

Column = np.ndarray[Any, Any]


@dataclass(frozen=True)
class PopulationOutcome:
    """One policy over the population: per household (scope household) or per member (scope member)."""

    policy_id: str
    scope: Scope
    eligible: Column
    """Boolean mask."""
    amount_fen: Column
    """int64 whole fen; 0 where not eligible or for a service (then possibly a read-only view of one zero)."""
    review: Column | None = None
    """Boolean mask: a beneficiary receiving the policy would be reviewed (its review_when, or not eligible)."""


def _gather(value: Any, rows: Column) -> Any:
    # Freed member rows point past the last household (runs.py): clipped, then masked out by the caller.
    return np.take(value, rows, mode="clip") if isinstance(value, np.ndarray) and value.ndim else value


class _HouseholdColumns(dict[str, Any]):
    def __init__(self, catalogue: PolicyCatalogue, columns: Mapping[str, Column], on_date: dt.date) -> None:
        super().__init__()
        self.catalogue = catalogue
        self.columns = columns
        self.on_date = on_date
        facts = facts_of(columns)
        self.size = facts.households if facts is not None else len(columns["household.region"])
        self._reads_members: dict[str, bool] = {}

    def reads_member_facts(self, name: str) -> bool:
        """Whether `name` is a definition reading member facts (directly or through other definitions)."""
        found = self._reads_members.get(name)
        if found is None:
            definition = self.catalogue.definitions.get(name)
            found = self._reads_members[name] = definition is not None and any(
                n.startswith("member.") for n, _ in reads_of(definition.expression, self.catalogue.definitions))
        return found

    def __missing__(self, name: str) -> Any:
        parameter = self.catalogue.parameters.get(name)
        if name.startswith("household.") or name in (REGION_CODES, REGION_TABLE):
            value: Any = self.columns[name]
        elif parameter is not None and REGION_CODES in self.columns:
            value = self._per_place([parameter.value_for(str(r), self.on_date) for r in self[REGION_TABLE]])
        elif parameter is not None:
            value = parameter.resolve_columns(self["household.region"], self["household.urban"], self.on_date)
        else:
            definition = self.catalogue.definitions.get(name)
            if definition is None:
                raise KeyError(name)
            value = definition.expression.vectorised(self)
        self[name] = value
        return value

    def _per_place(self, per_region: list[Any]) -> Any:
        """A parameter's value per household from its value per region code (rural, urban)."""
        values = np.array([v for p in per_region for v in (p.rural, p.urban)])
        if bool((values == values[0]).all()):
            return values[0]  # the same everywhere: a scalar, broadcast by the expressions
        place = self.get("#place")
        if place is None:
            place = self["#place"] = 2 * self[REGION_CODES].astype(np.intp) + self["household.urban"]
        return values[place]


class _MemberColumns(dict[str, Any]):
    def __init__(self, households: _HouseholdColumns, columns: Mapping[str, Column]) -> None:
        super().__init__()
        self.households = households
        self.columns = columns
        self.index = np.asarray(columns["member.household"])
        self.size = len(self.index)
        facts = facts_of(columns)
        self.live = facts.live_members if facts is not None else None

    def __missing__(self, name: str) -> Any:
        if name.startswith("member."):
            value: Any = self.columns[name]
        elif self.households.reads_member_facts(name):
            value = self.households.catalogue.definitions[name].expression.vectorised(self)
        else:
            # household facts, parameters and household-only definitions: once per household, then spread.
            value = _gather(self.households[name], self.index)
        self[name] = value
        return value


class _Rows(dict[str, Any]):
    """The values of a scope for some of its rows: definitions that vary by row are computed for them only."""

    def __init__(self, source: Callable[[str], Any], computed_here: Callable[[str], bool],
                 catalogue: PolicyCatalogue) -> None:
        super().__init__()
        self.source = source
        self.computed_here = computed_here
        self.catalogue = catalogue

    def __missing__(self, name: str) -> Any:
        value = self.catalogue.definitions[name].expression.vectorised(self) if self.computed_here(name) \
            else self.source(name)
        self[name] = value
        return value

    def narrowed(self, keep: Column) -> _Rows:
        """These rows where `keep` holds."""
        def source(name: str) -> Any:
            return _gather(self[name], keep)
        return _Rows(source, lambda name: not dict.__contains__(self, name) and self.computed_here(name),
                     self.catalogue)


class _Evaluator:
    """One catalogue over one set of columns: household values computed once serve every policy."""

    def __init__(self, catalogue: PolicyCatalogue, columns: Mapping[str, Column], on_date: dt.date) -> None:
        self.catalogue = catalogue
        self.households = _HouseholdColumns(catalogue, columns, on_date)
        self.members = _MemberColumns(self.households, columns) if "member.household" in columns else None

    def outcome(self, policy: Policy, progress: _Progress | None = None) -> PopulationOutcome:
        """The policy over every row; `progress` shares conditions with another version's evaluation."""
        try:
            if policy.scope == Scope.HOUSEHOLD:
                return _evaluate(policy, self.households, self.households.size, None, self._household_rows,
                                 progress)
            if self.members is None:
                raise EvaluationError(f"policy {policy.id} is evaluated per member, but there are no member columns")
            try:
                return _evaluate(policy, self.members, self.members.size, self.members.live, self._member_rows,
                                 progress)
            finally:
                self.members.clear()  # spread arrays are P long: kept for one policy only
        except (MissingFact, TypeError, ValueError, ArithmeticError) as error:
            raise EvaluationError(f"policy {policy.id}: {error}") from error

    def _household_rows(self, rows: Column) -> _Rows:
        households = self.households
        return _Rows(lambda name: _gather(households[name], rows),
                     lambda name: name in self.catalogue.definitions, self.catalogue)

    def _member_rows(self, rows: Column) -> _Rows:
        members = self.members
        assert members is not None
        owners = members.index[rows]

        def source(name: str) -> Any:
            if name.startswith("member."):
                return _gather(members.columns[name], rows)
            return _gather(members.households[name], owners)

        return _Rows(source, members.households.reads_member_facts, self.catalogue)


def evaluate_population(catalogue: PolicyCatalogue, columns: Mapping[str, Column], on_date: dt.date,
                        policy_ids: Iterable[str] | None = None) -> dict[str, PopulationOutcome]:
    """Eligibility masks and amounts of the given policies (by default those triggered by 'reevaluation')."""
    evaluator = _Evaluator(catalogue, columns, on_date)
    chosen = [catalogue.policy(p) for p in policy_ids] if policy_ids is not None \
        else list(catalogue.policies_for(REEVALUATION))
    return {policy.id: evaluator.outcome(policy) for policy in chosen}


def outcome_pairs(old: PolicyCatalogue, old_columns: Mapping[str, Column], old_day: dt.date,
                  new: PolicyCatalogue, columns: Mapping[str, Column], new_day: dt.date,
                  policy_ids: Iterable[str]) -> Iterator[tuple[str, PopulationOutcome, PopulationOutcome]]:
    """(policy, outcome under `old` on `old_day`, outcome under `new` on `new_day`), one policy at a time, so a
    caller keeping only what changed holds two outcomes at once, not two per policy."""
    before, after = _Evaluator(old, old_columns, old_day), _Evaluator(new, columns, new_day)
    regions = [str(r) for r in columns[REGION_TABLE]] if REGION_TABLE in columns \
        else [str(r) for r in np.unique(columns["household.region"])]
    change = CatalogueChange(old, old_day, new, new_day, regions, old_columns is columns)
    for policy_id in policy_ids:
        old_policy, new_policy = old.policy(policy_id), new.policy(policy_id)
        shared = change.of(old_policy, new_policy)
        if shared.unchanged:
            outcome = before.outcome(old_policy)
            yield policy_id, outcome, outcome
            continue
        progress = _Progress(shared.shared_conditions)
        first = before.outcome(old_policy, progress)
        progress.review = first.review if shared.same_review and old_policy.review_when is not None else None
        yield policy_id, first, after.outcome(new_policy, progress)


@dataclass
class _Progress:
    """Where one version's evaluation stood after the conditions it shares with the other's."""

    conditions: int
    eligible: Column | None = None
    chosen: Column | None = None
    reached: bool = False
    review: Column | None = None


def _mask(result: Any, size: int) -> Column:
    return np.broadcast_to(np.asarray(False if result is ABSENT else result, dtype=bool), (size,))


def _evaluate(policy: Policy, rows: Mapping[str, Any], size: int, live: Column | None,
              rows_of: Callable[[Column], _Rows], progress: _Progress | None = None) -> PopulationOutcome:
    eligible = np.ones(size, dtype=bool) if live is None else live.copy()
    chosen: Column | None = None
    """Once narrowed: the rows still eligible, and `scope` their values."""
    scope: Mapping[str, Any] = rows
    conditions = list(policy.conditions)
    if progress is not None and progress.reached:
        # The other version's state after the shared conditions is this version's too.
        chosen, conditions = progress.chosen, conditions[progress.conditions:]
        if chosen is None:
            assert progress.eligible is not None
            eligible = progress.eligible.copy()
        else:
            scope = rows_of(chosen)
    elif progress is not None and progress.conditions == 0:
        progress.reached = True
        progress.eligible = eligible.copy()
    for number, condition in enumerate(conditions, 1):
        if chosen is None:
            eligible &= _mask(condition.expression.vectorised(scope), size)
            if 2 * int(np.count_nonzero(eligible)) <= size:
                chosen = np.flatnonzero(eligible)
                scope = rows_of(chosen)
        else:
            keep = _mask(condition.expression.vectorised(scope), len(chosen))
            if not keep.all():
                chosen = chosen[keep]
                assert isinstance(scope, _Rows)
                scope = scope.narrowed(np.flatnonzero(keep))
        empty = chosen is not None and not len(chosen)
        if progress is not None and not progress.reached and (number == progress.conditions or empty):
            progress.reached = True
            progress.eligible, progress.chosen = (eligible.copy() if chosen is None else None), chosen
            if empty:
                progress.conditions = number
        if empty:
            break
    if chosen is not None:
        eligible = np.zeros(size, dtype=bool)
        eligible[chosen] = True
    # No amount, or nobody eligible: a read-only view of one zero, not P zeros to allocate.
    amounts = np.broadcast_to(np.zeros(1, dtype=np.int64), (size,))
    if policy.amount is not None and (len(chosen) if chosen is not None else eligible.any()):
        raw = policy.amount.vectorised(scope)
        if raw is ABSENT:
            raise EvaluationError(f"the amount reads a fact re-evaluation does not have: {policy.amount.source}")
        count = size if chosen is None else len(chosen)
        whole = np.maximum(round_fen_columns(np.broadcast_to(np.asarray(raw, dtype=np.float64), (count,))), 0)
        if chosen is None:
            amounts = np.where(eligible, whole, 0).astype(np.int64)
        else:
            amounts = np.zeros(size, dtype=np.int64)
            amounts[chosen] = whole
    review = ~eligible
    if progress is not None and progress.review is not None:
        review = progress.review
    elif policy.review_when is not None:
        review = _mask(policy.review_when.vectorised(rows), size).copy()
    if live is not None:
        review = review & live
    return PopulationOutcome(policy.id, policy.scope, eligible, amounts, review)


def changed_households(before: PopulationOutcome, after: PopulationOutcome,
                       member_household: Column | None) -> Column:
    """Household rows whose outcome changed: newly eligible, no longer eligible, or with a new amount (for
    member-scope policies: with such a member). The re-evaluation command then offers to the newly eligible,
    revises what is pending or received, and reviews who no longer qualifies; households whose outcome is the
    same are not sent anything."""
    if after is before:  # a policy the new version does not change (outcome_pairs)
        return np.zeros(0, dtype=np.int64)
    changed = (after.eligible != before.eligible) | (after.amount_fen != before.amount_fen)
    if before.review is not None and after.review is not None:
        changed |= after.review != before.review
    if after.scope == Scope.MEMBER and member_household is not None:
        return np.unique(member_household[changed])
    return np.flatnonzero(changed)
