"""Evaluating the catalogue for one household: on an event (only the policies that event type can fire), on a
registry load or re-evaluation, or all policies to explain a household's situation. Vectorised evaluation over
the whole population is in population_evaluation (re-exported here).

Facts are the vocabulary's dictionaries (household.*, member.* per person id, event.*), taken after the event
was applied to the household. Parameters are resolved for the household's region, urban flag and `on_date`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from services.matching.domain.catalogue.judgements import Judgement
from services.matching.domain.catalogue.policy import AmountPeriod, BenefitPeriod, EventMembers, Policy, Route, Scope
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue
from services.matching.domain.explanation import Explanation, explain_outcome
from services.matching.domain.household.vocabulary import REGISTRY
from services.matching.domain.policy_language.expressions import ABSENT, EvaluationError, Expression, MissingFact, truth
from services.matching.domain.policy_language.forms import round_fen
from services.matching.domain.population.evaluation import PopulationOutcome, evaluate_population

__all__ = [
    "EvaluationError",
    "FactScope",
    "PolicyOutcome",
    "PopulationOutcome",
    "evaluate_event",
    "evaluate_followed",
    "evaluate_household",
    "evaluate_population",
    "explain",
]

FactValue = int | float | bool | str


@dataclass(frozen=True)
class PolicyOutcome:
    """The result of one policy for the household (person_id None) or one member. `amount_fen` is None when not
    eligible or for a service; `district` is the district that handles an offer (the household's unless the
    policy says otherwise, e.g. where the emergency happened); `referral_need` names the need charity programmes
    are matched on."""

    policy_id: str
    policy_version: str
    policy_name: str
    tier: str
    scope: Scope
    person_id: str | None
    eligible: bool
    amount_fen: int | None
    amount_period: AmountPeriod
    route: Route
    priority: int
    sla_hours: int
    benefit_period: str
    district: str
    referral_need: str | None
    explain_with: Callable[[], Explanation] = field(repr=False, compare=False)
    review: bool = False
    """Whether a beneficiary receiving the policy would be reviewed on these facts (its review_when, or: no
    longer eligible)."""
    review_values: str | None = None
    """The review threshold with its values, when it is met."""

    @cached_property
    def explanation(self) -> Explanation:
        """Rendered when first read: the hot path reads it only for the outcomes it offers."""
        return self.explain_with()

    def as_json(self) -> dict[str, Any]:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "explain_with"}
        return {**fields, "explanation": self.explanation}


class FactScope(dict[str, Any]):
    """Facts of one household (and member, and event); a parameter is resolved and a definition computed the
    first time an expression reads it, then kept for the other policies of the same evaluation."""

    def __init__(self, catalogue: PolicyCatalogue, facts: Mapping[str, Any], on_date: dt.date) -> None:
        super().__init__(facts)
        self.catalogue = catalogue
        self.on_date = on_date

    def __missing__(self, name: str) -> Any:
        parameter = self.catalogue.parameters.get(name)
        if parameter is not None:
            value: Any = parameter.resolve(self.get("household.region"), bool(self.get("household.urban")),
                                           self.on_date)
        else:
            definition = self.catalogue.definitions.get(name)
            if definition is None:
                raise KeyError(name)
            value = definition.expression.scalar(self)
        self[name] = value
        return value

    def for_member(self, member: Mapping[str, Any]) -> FactScope:
        """This scope plus one member's facts (what was computed for the household is kept)."""
        scope = FactScope(self.catalogue, self, self.on_date)
        scope.update(member)
        return scope


def evaluate_event(catalogue: PolicyCatalogue, household_facts: Mapping[str, FactValue],
                   member_facts_by_id: Mapping[str, Mapping[str, FactValue]],
                   event_facts: Mapping[str, FactValue], on_date: dt.date,
                   policies: Iterable[Policy] | None = None) -> list[PolicyOutcome]:
    """Outcomes of the policies the event's type triggers (or of `policies`), in catalogue order. Member-scope
    policies are evaluated for the event's subject (for every living member when the policy says
    `event_members: all`)."""
    if policies is None:
        policies = catalogue.policies_for(str(event_facts["event.type"]),
                                          _text(household_facts.get("household.region")),
                                          _text(household_facts.get("household.district")))
    policies = tuple(policies)
    if not policies:
        return []
    scope = FactScope(catalogue, {**household_facts, **event_facts}, on_date)
    subject = str(event_facts.get("event.subject", ""))

    def members(policy: Policy) -> Iterable[str]:
        if policy.event_members == EventMembers.ALL:
            return member_facts_by_id
        return (subject,) if subject in member_facts_by_id else ()

    return _evaluate(catalogue, policies, scope, member_facts_by_id, members)


def evaluate_household(catalogue: PolicyCatalogue, household_facts: Mapping[str, FactValue],
                       member_facts_by_id: Mapping[str, Mapping[str, FactValue]], on_date: dt.date,
                       trigger: str = REGISTRY, policies: Iterable[Policy] | None = None) -> list[PolicyOutcome]:
    """Outcomes of the policies triggered by 'registry' (or 'reevaluation'), or of `policies`; member scope for
    every member."""
    scope = FactScope(catalogue, household_facts, on_date)
    region, district = _text(household_facts.get("household.region")), _text(household_facts.get("household.district"))
    chosen = catalogue.policies_for(trigger, region, district) if policies is None else policies
    return _evaluate(catalogue, chosen, scope, member_facts_by_id, lambda policy: member_facts_by_id)


def evaluate_followed(catalogue: PolicyCatalogue, household_facts: Mapping[str, FactValue],
                      member_facts_by_id: Mapping[str, Mapping[str, FactValue]], on_date: dt.date
                      ) -> list[PolicyOutcome]:
    """Outcomes of the policies decided on the household's state (Policy.follows_state) of its region and
    district, member scope for every member: what pending offers and received benefits are checked against."""
    scope = FactScope(catalogue, household_facts, on_date)
    region, district = _text(household_facts.get("household.region")), _text(household_facts.get("household.district"))
    return _evaluate(catalogue, catalogue.followed(region, district), scope, member_facts_by_id,
                     lambda policy: member_facts_by_id)


def explain(catalogue: PolicyCatalogue, household_facts: Mapping[str, FactValue],
            member_facts_by_id: Mapping[str, Mapping[str, FactValue]], on_date: dt.date,
            event_facts: Mapping[str, FactValue] | None = None) -> list[PolicyOutcome]:
    """Outcomes of EVERY policy, eligible or not, each with its explanation (member scope: every member)."""
    scope = FactScope(catalogue, {**household_facts, **(event_facts or {})}, on_date)
    return _evaluate(catalogue, catalogue.policies, scope, member_facts_by_id, lambda policy: member_facts_by_id)


def _evaluate(catalogue: PolicyCatalogue, policies: Iterable[Policy], scope: FactScope,
              member_facts_by_id: Mapping[str, Mapping[str, FactValue]],
              members: Callable[[Policy], Iterable[str]]) -> list[PolicyOutcome]:
    outcomes: list[PolicyOutcome] = []
    member_scopes: dict[str, FactScope] = {}
    for policy in policies:
        if policy.scope == Scope.HOUSEHOLD:
            outcomes.append(evaluate_policy(catalogue, policy, scope, None))
            continue
        for person_id in members(policy):
            member_scope = member_scopes.get(person_id)
            if member_scope is None:
                member_scope = member_scopes[person_id] = scope.for_member(member_facts_by_id[person_id])
            outcomes.append(evaluate_policy(catalogue, policy, member_scope, person_id))
    return outcomes


def evaluate_policy(catalogue: PolicyCatalogue, policy: Policy, scope: FactScope,
                    person_id: str | None) -> PolicyOutcome:
    """One policy in one scope. Every condition is evaluated (no short cut), so the explanation is complete. A
    judgement on facts judged before is recalled (catalogue/judgements.py)."""
    judgements = catalogue.judgements
    key = judgements.key(policy, scope, scope.on_date)
    judged = judgements.recall(key)
    if judged is None:
        judged = _judge(policy, scope, person_id)
        judgements.keep(key, judged)
    eligible = judged.eligible
    try:
        review_values = policy.review_when.render(scope) if judged.review and policy.review_when is not None \
            else None
    except (MissingFact, TypeError, ValueError, ArithmeticError) as error:
        raise EvaluationError(f"policy {policy.id}{_for(person_id)}: {error}") from error
    holds, amount_fen = list(judged.holds), judged.amount_fen
    return PolicyOutcome(
        policy_id=policy.id, policy_version=catalogue.version, policy_name=policy.name, tier=policy.tier,
        scope=policy.scope, person_id=person_id, eligible=eligible, amount_fen=amount_fen,
        amount_period=policy.amount_period, route=policy.route, priority=policy.priority,
        sla_hours=policy.sla_hours, benefit_period=_benefit_period(policy, scope),
        district=judged.district or str(scope.get("household.district", "")), referral_need=judged.referral_need,
        explain_with=lambda: explain_outcome(policy, catalogue.version, scope, holds, amount_fen, catalogue.wording),
        review=judged.review,
        review_values=review_values)


def _judge(policy: Policy, scope: FactScope, person_id: str | None) -> Judgement:
    try:
        holds = tuple(truth(c.expression.scalar(scope)) for c in policy.conditions)
        eligible = all(holds)
        amount_fen = _amount(policy.amount, scope) if eligible and policy.amount is not None else None
        district = _text(policy.district.scalar(scope)) if policy.district is not None else None
        need = _text(policy.referral_need.scalar(scope)) if policy.referral_need is not None and eligible else None
        review = truth(policy.review_when.scalar(scope)) if policy.review_when is not None else not eligible
    except (MissingFact, TypeError, ValueError, ArithmeticError) as error:
        raise EvaluationError(f"policy {policy.id}{_for(person_id)}: {error}") from error
    return Judgement(holds, amount_fen, district, need, review)


def _for(person_id: str | None) -> str:
    return f" for member {person_id}" if person_id else ""


def _amount(amount: Expression, scope: FactScope) -> int:
    raw = amount.scalar(scope)
    if raw is ABSENT:
        raise EvaluationError(f"the amount reads a fact this evaluation does not have: {amount.source}")
    # Amounts are whole fen, rounded half up; a formula can never make an offer negative.
    return max(0, round_fen(raw))


def _text(value: Any) -> str | None:
    return None if value is ABSENT or value is None else str(value)


def _benefit_period(policy: Policy, scope: FactScope) -> str:
    period = policy.benefit_period
    if period == BenefitPeriod.EVENT:
        if "event.need" in scope:
            return str(scope["event.need"])  # named by the need, not by whichever report of it came first
        if "event.id" in scope:
            return str(scope["event.id"])
    if period == BenefitPeriod.ONCE:
        return "once"
    year, month = _periods_of(scope.on_date)
    return year if period == BenefitPeriod.YEAR else month


@lru_cache(maxsize=64)
def _periods_of(day: dt.date) -> tuple[str, str]:
    """The year and month a day's benefits are named by (evaluated for every outcome: kept per day)."""
    return f"{day.year:04d}", f"{day.year:04d}-{day.month:02d}"
