"""Table-driven policy cases (policies/cases/*.yaml), for policy authors and the test suite.

A case file::

    policy: subsistence_allowance          # the policy the file is about
    cases:
      - name: job_loss_below_line_offers_subsistence_allowance
        date: 2026-03-15                   # evaluation date
        household: {region: "510000"}      # only what differs from DEFAULT_HOUSEHOLD; names without "household."
        members:                           # only what differs from DEFAULT_MEMBER; names without "member."
          - {id: p1, age: 40}
          - {id: p2, age: 38, monthly_income_fen: 150000}
        event: {type: job.lost, subject: p1, unemployment_registered: true}   # optional; else `trigger`
        trigger: registry                  # without an event: registry (default) or reevaluation
        expected:
          - {policy: subsistence_allowance, eligible: true, amount_fen: 90000, route: VERIFICATION}
        not_offered: [marginal_household]

Household facts not given are derived from the members as the facts vocabulary defines them (members, income
sums and per-capita values, earners of working age, elderly, children, severe disabilities, living alone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from services.matching.domain.catalogue.policy_catalogue import CatalogueError, PolicyCatalogue
from services.matching.domain.catalogue.yaml_document import MISSING, DocumentReader, line_of
from services.matching.domain.evaluation import PolicyOutcome, evaluate_event, evaluate_household
from services.matching.domain.household.vocabulary import HOUSEHOLD_FACTS, MEMBER_FACTS, REGISTRY, STATE_TRIGGERS

FactValue = int | float | bool | str

DEFAULT_HOUSEHOLD: Mapping[str, FactValue] = {
    "id": "case-household", "district": "510104", "region": "510000", "urban": True,
    "financial_assets_fen": 0, "medical_12m_fen": 0, "education_12m_fen": 0,
    "receives_subsistence_allowance": False, "receives_special_hardship": False, "disaster_severity": "NONE",
}
"""A Chengdu (Sichuan, urban) household without assets, spending, benefits or recent disaster."""
DEFAULT_MEMBER: Mapping[str, FactValue] = {"age": 40, "monthly_income_fen": 0, "disability_grade": 0,
                                           "has_phone": True}
"""A 40-year-old without income or disability; the id defaults to p1, p2, ... by position."""

_CASE_KEYS = ("name", "date", "household", "members", "event", "trigger", "expected", "not_offered")
_EXPECTED_KEYS = ("policy", "eligible", "amount_fen", "route", "person", "district", "benefit_period",
                  "referral_need", "review")


@dataclass(frozen=True)
class Expectation:
    policy: str
    eligible: bool
    checks: Mapping[str, Any]
    """Optional: amount_fen, route, person, district, benefit_period, referral_need, review (whether a
    beneficiary already receiving the policy would be reviewed on these facts)."""


@dataclass(frozen=True)
class PolicyCase:
    name: str
    origin: str
    line: int
    on_date: dt.date
    household: Mapping[str, FactValue]
    members: Mapping[str, Mapping[str, FactValue]]
    event: Mapping[str, FactValue] | None
    trigger: str
    expected: tuple[Expectation, ...]
    not_offered: tuple[str, ...]


@dataclass(frozen=True)
class CaseResult:
    name: str
    origin: str
    line: int
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def load_cases(text: str, origin: str) -> list[PolicyCase]:
    """Parse one case file; raises CatalogueError listing every problem."""
    reader = DocumentReader(origin)
    root = reader.compose(text)
    top = reader.mapping(root, "cases file", ("cases",), ("policy", "description")) if root is not None else None
    items = reader.sequence(top["cases"], "cases") if top is not None and "cases" in top else None
    cases = [case for index, item in enumerate(items or [], start=1)
             if (case := _case(reader, item, index)) is not None]
    if reader.problems:
        raise CatalogueError(origin, reader.problems)
    return cases


def run_case(catalogue: PolicyCatalogue, case: PolicyCase) -> CaseResult:
    """Evaluate the case and compare with what it expects."""
    unknown = [p for p in (*(e.policy for e in case.expected), *case.not_offered) if p not in catalogue.policy_ids()]
    if unknown:
        return CaseResult(case.name, case.origin, case.line, tuple(f"unknown policy {p!r}" for p in unknown))
    if case.event is not None:
        outcomes = evaluate_event(catalogue, case.household, case.members, case.event, case.on_date)
    else:
        outcomes = evaluate_household(catalogue, case.household, case.members, case.on_date, case.trigger)
    failures = [f for e in case.expected for f in _check(e, outcomes)]
    failures += [f"{o.policy_id} was offered{_to(o)}: {o.explanation['summary']}"
                 for o in outcomes if o.eligible and o.policy_id in case.not_offered]
    return CaseResult(case.name, case.origin, case.line, tuple(failures))


def run_cases(catalogue: PolicyCatalogue,
              case_texts: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[CaseResult]:
    """Run every case of every (origin, text) case file; a file that does not parse is one failed result."""
    results: list[CaseResult] = []
    for origin, text in case_texts.items() if isinstance(case_texts, Mapping) else case_texts:
        try:
            cases = load_cases(text, origin)
        except CatalogueError as error:
            results.append(CaseResult(origin, origin, 0, error.problems))
            continue
        results.extend(run_case(catalogue, case) for case in cases)
    return results


def _to(outcome: PolicyOutcome) -> str:
    return f" to {outcome.person_id}" if outcome.person_id else ""


def _check(expected: Expectation, outcomes: list[PolicyOutcome]) -> list[str]:
    person = expected.checks.get("person")
    candidates = [o for o in outcomes if o.policy_id == expected.policy and person in (None, o.person_id)]
    label = f"{expected.policy}{f' for {person}' if person else ''}"
    if not candidates:
        return [f"{label} was not evaluated (not triggered, or no such member)"]
    review = expected.checks.get("review")
    if review is not None and any(o.review != review for o in candidates):
        return [f"{label}: a beneficiary receiving it was expected {'' if review else 'not '}to be reviewed, but "
                f"{o.explanation['summary']} ({o.review_values or 'no review threshold met'})"
                for o in candidates if o.review != review]
    if not expected.eligible:
        return [f"{label} was expected not to apply, but: {o.explanation['summary']}" for o in candidates
                if o.eligible]
    eligible = [o for o in candidates if o.eligible]
    if not eligible:
        return [f"{label} was expected to apply, but: {candidates[0].explanation['summary']}"]
    wanted = {k: v for k, v in expected.checks.items() if k not in ("person", "review")}
    if any(all(_field(o, k) == v for k, v in wanted.items()) for o in eligible):
        return []
    found = "; ".join(", ".join(f"{k}={_field(o, k)!r}" for k in wanted) for o in eligible)
    return [f"{label}: expected {', '.join(f'{k}={v!r}' for k, v in wanted.items())}, found {found} "
            f"({eligible[0].explanation['computation']})"]


def _field(outcome: PolicyOutcome, name: str) -> Any:
    value = getattr(outcome, name)
    return str(value) if name == "route" else value


def _case(reader: DocumentReader, node: yaml.Node, index: int) -> PolicyCase | None:
    fields = reader.mapping(node, f"case #{index}", ("name", "date", "expected"), _CASE_KEYS)
    if fields is None or "name" not in fields or "date" not in fields or "expected" not in fields:
        return None
    name = reader.text(fields["name"], f"case #{index}") or f"case #{index}"
    context = f"case {name}"
    on_date = reader.date(fields["date"], context)
    members = _members(reader, fields.get("members"), context)
    household = _household(reader, fields.get("household"), members, context)
    event = _event(reader, fields["event"], context, name, members) if "event" in fields else None
    trigger = reader.choice(fields["trigger"], context, tuple(sorted(STATE_TRIGGERS))) if "trigger" in fields \
        else REGISTRY
    expected = [_expectation(reader, item, context) for item in reader.sequence(fields["expected"], context) or []]
    not_offered = [reader.text(item, context) for item in
                   (reader.sequence(fields["not_offered"], context) or [] if "not_offered" in fields else [])]
    if on_date is None or household is None or trigger is None or None in expected or None in not_offered \
            or (event is None and "event" in fields) or members is None:
        return None
    return PolicyCase(name, reader.origin, line_of(node), on_date, household, members, event, trigger,
                      tuple(e for e in expected if e is not None), tuple(p for p in not_offered if p is not None))


def _facts(reader: DocumentReader, node: yaml.Node, context: str, prefix: str,
           types: Mapping[str, type]) -> dict[str, FactValue] | None:
    if reader.mapping(node, context) is None:
        return None
    facts: dict[str, FactValue] = {}
    for key_node, value_node in node.value:
        name = f"{prefix}.{key_node.value}"
        value = reader.value(value_node, context)
        kind = types.get(name)
        if kind is None:
            reader.problem(key_node, context, f"unknown fact {name!r}")
        elif value is not MISSING:
            converted = _as(kind, value)
            if converted is None:
                reader.problem(value_node, context, f"{name} must be {kind.__name__}, found {value_node.value!r}")
            else:
                facts[name] = converted
    return facts if len(facts) == len(node.value) else None


def _as(kind: type, value: Any) -> FactValue | None:
    if kind is str and isinstance(value, str | int) and not isinstance(value, bool):
        return str(value)
    if kind is bool:
        return value if isinstance(value, bool) else None
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _members(reader: DocumentReader, node: yaml.Node | None,
             context: str) -> dict[str, dict[str, FactValue]] | None:
    items = [None] if node is None else reader.sequence(node, f"{context}: members")
    if items is None:
        return None
    members: dict[str, dict[str, FactValue]] = {}
    for position, item in enumerate(items, start=1):
        given = {} if item is None else _facts(reader, item, f"{context}: member {position}", "member",
                                                MEMBER_FACTS)
        if given is None:
            return None
        facts = {f"member.{k}": v for k, v in DEFAULT_MEMBER.items()} | {"member.id": f"p{position}"} | given
        age = int(facts["member.age"])
        facts["member.working_age"] = given.get("member.working_age", 16 <= age <= 59)
        members[str(facts["member.id"])] = facts
    return members


def _household(reader: DocumentReader, node: yaml.Node | None, members: dict[str, dict[str, FactValue]] | None,
               context: str) -> dict[str, FactValue] | None:
    given = {} if node is None else _facts(reader, node, f"{context}: household", "household", HOUSEHOLD_FACTS)
    if given is None or members is None:
        return None
    people = list(members.values())
    ages = [int(m["member.age"]) for m in people]
    incomes = [int(m["member.monthly_income_fen"]) for m in people]
    size = len(people)
    facts = {f"household.{k}": v for k, v in DEFAULT_HOUSEHOLD.items()} | given
    income = int(given.get("household.monthly_income_fen", sum(incomes)))
    assets = int(facts["household.financial_assets_fen"])
    derived: dict[str, FactValue] = {
        "household.members": size,
        "household.monthly_income_fen": income,
        "household.per_capita_income_fen": income / size if size else 0.0,
        "household.annual_income_fen": 12 * income,
        "household.assets_per_capita_fen": assets / size if size else 0.0,
        "household.earners_working_age": sum(1 for a, i in zip(ages, incomes, strict=True) if 16 <= a <= 59 and i),
        "household.elderly_members": sum(1 for a in ages if a >= 60),
        "household.children": sum(1 for a in ages if a < 16),
        "household.severe_disability_members": sum(1 for m in people if m["member.disability_grade"] in (1, 2)),
        "household.lives_alone": size == 1,
    }
    return facts | {k: v for k, v in derived.items() if k not in given}


def _event(reader: DocumentReader, node: yaml.Node, context: str, name: str,
           members: dict[str, dict[str, FactValue]] | None) -> dict[str, FactValue] | None:
    fields = reader.mapping(node, f"{context}: event", ("type",))
    if fields is None or "type" not in fields:
        return None
    facts: dict[str, FactValue] = {"event.id": f"{name}-event", "event.subject": next(iter(members or {}), "")}
    for key, value_node in fields.items():
        value = reader.value(value_node, f"{context}: event")
        if isinstance(value, dt.date):
            value = value.isoformat()
        if value is MISSING or not isinstance(value, int | float | str):
            reader.problem(value_node, f"{context}: event", f"{key} must be a single value")
            return None
        facts[f"event.{key}"] = value
    return facts


def _expectation(reader: DocumentReader, node: yaml.Node, context: str) -> Expectation | None:
    fields = reader.mapping(node, f"{context}: expected", ("policy", "eligible"), _EXPECTED_KEYS[2:])
    if fields is None or "policy" not in fields or "eligible" not in fields:
        return None
    policy = reader.text(fields["policy"], context)
    eligible = reader.boolean(fields["eligible"], context)
    checks: dict[str, Any] = {}
    for key in _EXPECTED_KEYS[2:]:
        if key in fields:
            if key == "amount_fen":
                checks[key] = reader.integer(fields[key], context)
            elif key == "review":
                checks[key] = reader.boolean(fields[key], context)
            else:
                checks[key] = reader.text(fields[key], context)
    if policy is None or eligible is None or None in checks.values():
        return None
    return Expectation(policy, eligible, checks)
