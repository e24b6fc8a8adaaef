"""What a new catalogue version changes for one policy, so the re-evaluation computes only what can differ.

An expression is unchanged between two versions when its text is the same, it reads the same names, every
definition it reaches has the same text and every parameter it reaches resolves to the same value in every region
(rural and urban) on the two days, and both are read over the same columns. Its result is then the same array,
so the new version's evaluation starts from the old one's after the leading unchanged conditions, and a policy
unchanged throughout is not evaluated again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from services.matching.domain.catalogue.checks import reads_of
from services.matching.domain.catalogue.policy import Policy
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue
from services.matching.domain.policy_language.expressions import Expression


@dataclass(frozen=True)
class PolicyChange:
    """How much of a policy's evaluation the new version shares with the old one."""

    shared_conditions: int
    """Leading conditions whose results are the same."""
    same_amount: bool
    same_review: bool
    unchanged: bool
    """Everything the same: the old outcome is the new one."""


class CatalogueChange:
    """Compares two catalogue versions name by name (cached), over the regions of the population."""

    def __init__(self, old: PolicyCatalogue, old_day: dt.date, new: PolicyCatalogue, new_day: dt.date,
                 regions: Sequence[str] | None, same_columns: bool) -> None:
        self.old, self.new = old, new
        self.old_day, self.new_day = old_day, new_day
        self.regions = list(regions) if regions is not None else None
        self.same_columns = same_columns
        self._same: dict[str, bool] = {}
        self._expressions: dict[str, bool] = {}

    def of(self, old: Policy, new: Policy) -> PolicyChange:
        if not self.same_columns or old.scope != new.scope:
            return PolicyChange(0, False, False, False)
        shared = 0
        for before, after in zip(old.conditions, new.conditions, strict=False):
            if not self.same(before.expression, after.expression):
                break
            shared += 1
        conditions = shared == len(old.conditions) == len(new.conditions)
        amount = self.same(old.amount, new.amount)
        review = self.same(old.review_when, new.review_when)
        return PolicyChange(shared, amount, review, conditions and amount and review)

    def same(self, old: Expression | None, new: Expression | None) -> bool:
        """Whether `old` (read under the old version) and `new` (under the new one) give the same values."""
        if old is None or new is None:
            return old is new
        if old.source != new.source:
            return False
        known = self._expressions.get(old.source)
        if known is None:
            known = self._expressions[old.source] = self._same_reads(old, new)
        return known

    def _same_reads(self, old: Expression, new: Expression) -> bool:
        reads_old = {name for name, _ in reads_of(old, self.old.definitions)}
        reads_new = {name for name, _ in reads_of(new, self.new.definitions)}
        return reads_old == reads_new and all(self._name(name) for name in reads_old)

    def _name(self, name: str) -> bool:
        found = self._same.get(name)
        if found is None:
            found = self._same[name] = self._compare(name)
        return found

    def _compare(self, name: str) -> bool:
        parameters = (self.old.parameters.get(name), self.new.parameters.get(name))
        if parameters[0] is not None or parameters[1] is not None:
            before, after = parameters
            if before is None or after is None or self.regions is None:
                return False
            try:
                return all((before.value_for(r, self.old_day).urban, before.value_for(r, self.old_day).rural)
                           == (after.value_for(r, self.new_day).urban, after.value_for(r, self.new_day).rural)
                           for r in self.regions)
            except LookupError:
                return False
        definitions = (self.old.definitions.get(name), self.new.definitions.get(name))
        if definitions[0] is not None or definitions[1] is not None:
            before_definition, after_definition = definitions
            return before_definition is not None and after_definition is not None \
                and before_definition.expression.source == after_definition.expression.source
        return True  # a fact: the same columns
