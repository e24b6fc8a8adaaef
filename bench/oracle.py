"""The second implementation as the oracle: the stream path against the vectorised evaluation of the final state.

    ./run bench oracle [--households 100000] [--seed 7]      (python -m bench.oracle)

Households (members, ages, incomes, disabilities, regions, benefits the registry lists) and their histories
(income changes, job losses, deaths, disability certificates, medical and school spending, age milestones,
members moving out, the household moving region, and decisions on what was offered) go through the Matcher one
message at a time, decisions included, as a consumer would see its records. Halfway, a rising standard (Sichuan
urban 800 → 900 yuan) is applied through the re-evaluation path: changed_households on the population columns
under the old and the new catalogue, then a re-evaluation command for each household it names.

At the end the consumer's view (open offers and tasks, received benefits and their amounts, open reviews per
(beneficiary, policy)) must be what the vectorised evaluation (PopulationColumns, evaluate_population) of the
final states says, for every policy decided on the household's state (Policy.follows_state):

- eligible, not received → an open offer or task with the same amount, or a decline on the same facts;
- not eligible → nothing open; received and reviewed → an open REVIEW when the review mask holds, unless a
  caseworker settled one on the same facts; received with a monthly amount → the amount received is the new one;
- a beneficiary no longer a member → nothing open, a REVIEW for what was received.

tests/unit/matching/test_oracle.py drives the same check with hypothesis (shrinking a disagreement to a minimal
household); this module runs it at scale and reports disagreements (expected 0) and timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.core.codec import Event
from services.core.settings import PROJECT_ROOT
from services.matching.domain.catalogue.policy import BenefitPeriod, Policy, Scope
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue, load_catalogue
from services.matching.domain.household.facts import household_facts, member_facts
from services.matching.domain.household.risk import load_risk_model
from services.matching.domain.household.state import HouseholdState
from services.matching.domain.population.columns import PopulationColumns
from services.matching.domain.population.evaluation import changed_households, evaluate_population
from services.matching.handler import Matcher, Result
from services.matching.offers import Output

DEMO_TEXT = (PROJECT_ROOT / "policies" / "national-demo.yaml").read_text(encoding="utf-8")
CATALOGUE = load_catalogue(DEMO_TEXT, "policies/national-demo.yaml")
RAISED = load_catalogue(DEMO_TEXT.replace('version: "2026.1"', 'version: "2026.2"').replace(
    'region: "510000", urban: 80000, rural: 65000}', 'region: "510000", urban: 90000, rural: 65000}'),
    "policies/national-demo.yaml (Sichuan urban standard 90,000)")
MATCHER = Matcher(load_risk_model((PROJECT_ROOT / "policies" / "risk.yaml").read_text(encoding="utf-8")))
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
REGIONS = ("510000", "310000", "110000", "440000", "320000")
REGISTRY_BENEFITS = ("subsistence_allowance", "marginal_household")
"""Household-scope benefits a registry record may list."""
KINDS = ("income", "job_lost", "death", "disability", "age", "medical", "school", "decide", "move_out",
         "move_region")
RESULTS = PROJECT_ROOT / "bench" / "results" / "oracle.json"


@dataclass(frozen=True)
class Person:
    birth: dt.date
    income: int
    grade: int | None


@dataclass(frozen=True)
class Household:
    region: str
    urban: bool
    assets: int
    people: tuple[Person, ...]
    benefits: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """One message: an event about member `who`, a decision on the `who`-th open item (`value` odd: accept), a
    member moving out, or the household moving to region `value`."""

    kind: str
    who: int
    value: int


@dataclass(frozen=True)
class Scenario:
    household: Household
    before: tuple[Step, ...]
    after: tuple[Step, ...] = ()


Key = tuple[str, str, str]
"""(beneficiary: person id or household id, policy id, need): the need names a one-off benefit's period (a
hospital bill, an emergency), of which a beneficiary may have several open at once; "" for any other policy."""
FactsSeen = tuple[str, str]


@dataclass
class Received:
    amount_fen: int | None
    from_registry: bool


@dataclass
class View:
    """What a consumer of assist.offers and assist.tasks knows about one household, plus the decisions the
    oracle took (and the facts it took them on)."""

    household_id: str
    open: dict[Key, tuple[str, str | None, int | None]] = field(default_factory=dict)
    """offer id, task id (verification), amount"""
    received: dict[Key, Received] = field(default_factory=dict)
    reviews: dict[Key, str] = field(default_factory=dict)
    declined: dict[Key, FactsSeen] = field(default_factory=dict)
    settled: dict[Key, FactsSeen] = field(default_factory=dict)
    protocol: list[str] = field(default_factory=list)
    """Records that made no sense to a consumer (a revision of nothing, ...)."""
    known: set[str] = field(default_factory=set)
    """Every offer and review task id published: a second NEW of one is a duplicate to consumers, never told."""
    withdrawn: dict[str, tuple[Key, int]] = field(default_factory=dict)
    """Offer ids withdrawn (and their last revision): a higher revision that is not a withdrawal reopens one."""

    def read(self, outputs: Iterable[Output]) -> None:
        for output in outputs:
            value = output.value
            if output.record == "caseworker_task" and value["kind"] == "REVIEW":
                key = (value["person_id"] or self.household_id, value["review"]["policy_id"], "")
                if value["change"] == "WITHDRAWN":
                    if self.reviews.pop(key, None) is None:
                        self.protocol.append(f"review withdrawn that was not open: {key}")
                elif value["task_id"] in self.known:
                    self.protocol.append(f"NEW of a review task id already published (never seen in casework): {key}")
                else:
                    self.known.add(value["task_id"])
                    self.reviews[key] = value["task_id"]
                    self.settled.pop(key, None)
                continue
            offer = value.get("offer") if output.record == "caseworker_task" else value
            if not offer:
                continue  # risk warnings
            task_id = value["task_id"] if output.record == "caseworker_task" else None
            self._read_offer(offer, task_id)

    def _read_offer(self, offer: dict[str, Any], task_id: str | None) -> None:
        one_off = CATALOGUE.policy(offer["policy_id"]).benefit_period == BenefitPeriod.EVENT
        key = (offer["person_id"] or self.household_id, offer["policy_id"], offer["benefit_period"] if one_off else "")
        change = offer["change"]
        number = (offer["revision"] or {}).get("number", 0)
        if change == "NEW" and offer["offer_id"] in self.known:
            self.protocol.append(f"NEW of an offer id already published (a duplicate to consumers): {key}")
        elif change == "NEW":
            self.known.add(offer["offer_id"])
            self.open[key] = (offer["offer_id"], task_id, offer["amount_fen"])
            self.declined.pop(key, None)
        elif change == "REVISED" and offer["offer_id"] in self.withdrawn:
            if self.withdrawn[offer["offer_id"]] != (key, number - 1) or key in self.open:
                self.protocol.append(f"reinstatement that does not follow its withdrawal: {key}")
            del self.withdrawn[offer["offer_id"]]
            self.open[key] = (offer["offer_id"], task_id, offer["amount_fen"])
            self.declined.pop(key, None)
        elif offer["revision"]["received"]:
            if key not in self.received:
                self.protocol.append(f"received revision of a benefit not received: {key}")
            self.received[key] = Received(offer["amount_fen"], self.received.get(key, Received(None, False))
                                          .from_registry)
        elif key not in self.open or self.open[key][0] != offer["offer_id"]:
            self.protocol.append(f"{change} of an offer that is not open: {key}")
        elif change == "REVISED":
            self.open[key] = (offer["offer_id"], task_id, offer["amount_fen"])
        else:
            del self.open[key]
            self.withdrawn[offer["offer_id"]] = (key, number)


def facts_seen(state: HouseholdState, person: str | None) -> FactsSeen:
    household = json.dumps(household_facts(state, NOW.date()), sort_keys=True)
    members = member_facts(state, NOW.date())
    if person is None:
        return household, ""
    return household, json.dumps(members[person], sort_keys=True) if person in members else "gone"


def registry_record(household_id: str, spec: Household, present: Sequence[int]) -> dict[str, Any]:
    return {"household_id": household_id, "district": spec.region[:2] + "0104", "region": spec.region,
            "urban": spec.urban, "financial_assets_fen": spec.assets, "current_benefits": list(spec.benefits),
            "as_of": NOW - dt.timedelta(days=40),
            "members": [{"person_id": f"{household_id}-m{i}", "birth_date": spec.people[i].birth,
                         "monthly_income_fen": spec.people[i].income, "disability_grade": spec.people[i].grade,
                         "has_phone": True} for i in present]}


def _event(household_id: str, step: Step, n: int) -> Event:
    subject = f"{household_id}-m{step.who}"
    day = (NOW - dt.timedelta(days=1 + step.value % 20)).date()
    data: dict[str, Any]
    kind: str
    if step.kind == "income":
        kind, data = "income.changed", {"effective_on": day, "monthly_income_fen": step.value}
    elif step.kind == "job_lost":
        kind, data = "job.lost", {"lost_on": day, "unemployment_registered": True, "previous_monthly_income_fen": 1}
    elif step.kind == "death":
        kind, data = "death.registered", {"died_on": day}
    elif step.kind == "disability":
        kind, data = "disability.certified", {"certified_on": day, "category": "PHYSICAL", "grade": 1 + step.value % 4}
    elif step.kind == "age":
        kind, data = "age.milestone_reached", {"reached_on": day, "age": 60}
    elif step.kind == "medical":
        kind, data = "medical_expense.settled", {"settled_on": day, "total_cost_fen": 2 * step.value,
                                                 "out_of_pocket_fen": step.value}
    else:
        kind, data = "school.enrolled", {"enrolled_on": day, "level": "PRIMARY", "school_district": "510104",
                                         "term_fees_fen": step.value}
    return Event(f"{household_id}-e{n}", "/departments/oracle/t", kind, NOW, subject, data)


@dataclass
class Run:
    """One household's stream path: state, consumer view, and the registry composition it was given."""

    household_id: str
    spec: Household
    state: HouseholdState
    view: View
    present: list[int]
    messages: int = 0

    def apply(self, result: Result) -> None:
        assert result.state is not None
        self.state = result.state
        self.view.read(result.outputs)
        self.messages += 1


def start(household_id: str, spec: Household, catalogue: PolicyCatalogue) -> Run:
    present = list(range(len(spec.people)))
    result = MATCHER.on_registry(None, registry_record(household_id, spec, present), catalogue, NOW)
    assert result.state is not None
    run = Run(household_id, spec, result.state, View(household_id), present)
    for policy in spec.benefits:
        run.view.received[(household_id, policy, "")] = Received(None, True)
    run.view.read(result.outputs)
    run.messages = 1
    return run


def play(run: Run, steps: Iterable[Step], catalogue: PolicyCatalogue) -> None:
    for step in steps:
        if step.kind == "decide":
            _decide(run, step, catalogue)
        elif step.kind in ("move_out", "move_region"):
            if step.kind == "move_out" and len(run.present) > 1:
                run.present = [i for i in run.present if i != run.present[step.who % len(run.present)]]
            region = REGIONS[step.value % len(REGIONS)] if step.kind == "move_region" else run.spec.region
            run.spec = Household(region, run.spec.urban, run.spec.assets, run.spec.people, run.spec.benefits)
            record = registry_record(run.household_id, run.spec, run.present)
            run.apply(MATCHER.on_registry(run.state, record, catalogue, NOW))
        else:
            run.apply(MATCHER.on_event(run.state, _event(run.household_id, step, run.messages), catalogue, NOW))


def _decide(run: Run, step: Step, catalogue: PolicyCatalogue) -> None:
    view = run.view
    choices: list[tuple[str, Key]] = sorted([("item", k) for k in view.open] + [("review", k) for k in view.reviews])
    if not choices:
        return
    what, key = choices[step.who % len(choices)]
    accept = step.value % 2 == 1
    person = None if key[0] == run.household_id else key[0]
    seen = facts_seen(run.state, person)
    if what == "review":
        review_task = view.reviews.pop(key)
        decision: dict[str, Any] = {"action": "APPROVED" if accept else "REJECTED", "task_id": review_task,
                                    "offer_id": None, "policy_id": None, "person_id": person}
        view.settled[key] = seen
        if accept and key in view.received and not view.received[key].from_registry:
            del view.received[key]
    else:
        offer_id, task_id, amount = view.open.pop(key)
        verified = task_id is not None
        action = ("APPROVED" if accept else "REJECTED") if verified else ("ACCEPTED" if accept else "DECLINED")
        decision = {"action": action, "task_id": task_id, "offer_id": offer_id, "policy_id": key[1],
                    "person_id": person}
        if accept:
            view.received[key] = Received(amount, False)
            view.declined.pop(key, None)
        else:
            view.declined[key] = seen
    run.apply(MATCHER.on_decision(run.state, {**decision, "household_id": run.household_id}, NOW, catalogue))


def raise_standard(runs: Sequence[Run]) -> int:
    """The rising standard through the re-evaluation path; returns the number of households sent a command."""
    population = PopulationColumns.build([r.state for r in runs], NOW.date())
    columns = population.as_columns(NOW.date())
    ids = [str(i) for i in population.household_ids()]
    followed = [p.id for p in RAISED.followed()]
    before = evaluate_population(CATALOGUE, columns, NOW.date(), followed)
    after = evaluate_population(RAISED, columns, NOW.date(), followed)
    rows: set[int] = set()
    for policy_id in followed:
        rows.update(int(r) for r in changed_households(before[policy_id], after[policy_id],
                                                       columns.get("member.household")))
    by_id = {r.household_id: r for r in runs}
    for row in sorted(rows):
        run = by_id[ids[row]]
        run.apply(MATCHER.on_reevaluation(run.state, RAISED, NOW))
    return len(rows)


def disagreements(runs: Sequence[Run], catalogue: PolicyCatalogue) -> list[str]:
    """Every difference between the consumers' view and the vectorised evaluation of the final states."""
    population = PopulationColumns.build([r.state for r in runs], NOW.date())
    columns = population.as_columns(NOW.date())
    policies = list(catalogue.followed())
    outcomes = evaluate_population(catalogue, columns, NOW.date(), [p.id for p in policies])
    household_row = {str(h): i for i, h in enumerate(population.household_ids())}
    person_row = {person: row for r in runs
                  for person, row in zip(r.state.members, population.member_rows(r.household_id), strict=True)}
    found: list[str] = []
    for run in runs:
        found.extend(f"{run.household_id}: {p}" for p in run.view.protocol)
        for policy in policies:
            outcome = outcomes[policy.id]
            rows = _rows(run, policy, household_row, person_row)
            for beneficiary, row in rows.items():
                amount = int(outcome.amount_fen[row]) if policy.amount is not None else None
                expected = (bool(outcome.eligible[row]), amount,
                            bool(outcome.review[row]) if outcome.review is not None else False)
                found.extend(_compare(run, policy, beneficiary, expected))
            for key in _keys_of(run.view, policy.id):
                if key[0] not in rows:
                    found.extend(_compare_gone(run, policy, key))
    return found


def _rows(run: Run, policy: Policy, household_row: dict[str, int], person_row: dict[str, int]) -> dict[str, int]:
    if policy.scope == Scope.HOUSEHOLD:
        return {run.household_id: household_row[run.household_id]}
    return {person: person_row[person] for person in run.state.members}


def _keys_of(view: View, policy_id: str) -> set[Key]:
    return {k for k in (*view.open, *view.received, *view.reviews) if k[1] == policy_id}


def _compare(run: Run, policy: Policy, beneficiary: str, expected: tuple[bool, int | None, bool]) -> list[str]:
    eligible, amount, review = expected
    view, key = run.view, (beneficiary, policy.id, "")
    person = None if beneficiary == run.household_id else beneficiary
    said = (f"{run.household_id} {policy.id} for {beneficiary}: vectorised eligible={eligible} amount={amount} "
            f"review={review}; stream")
    problems: list[str] = []
    received = view.received.get(key)
    if received is not None:
        wanted_review = policy.reviewed and review and view.settled.get(key) != facts_seen(run.state, person)
        if wanted_review != (key in view.reviews):
            problems.append(f"{said} {'has no' if wanted_review else 'has an'} open review")
        if key in view.open:
            problems.append(f"{said} has an open offer besides the benefit received")
        if policy.revised and eligible:
            got = received.amount_fen
            if got is None and received.from_registry:
                item = run.state.items.get(policy.id if person is None else f"{policy.id}@{person}")
                got = item.amount_fen if item is not None else None
            if got != amount:
                problems.append(f"{said} receives amount {got}")
        return problems
    if key in view.reviews:
        problems.append(f"{said} has an open review of a benefit not received")
    if not eligible:
        if key in view.open:
            problems.append(f"{said} has an open offer {view.open[key]}")
        return problems
    if key in view.open:
        if view.open[key][2] != amount:
            problems.append(f"{said} offers amount {view.open[key][2]}")
    elif key not in view.declined or view.declined[key] != facts_seen(run.state, person):
        problems.append(f"{said} has nothing open (declined on other facts: {key in view.declined})")
    return problems


def _compare_gone(run: Run, policy: Policy, key: Key) -> list[str]:
    view = run.view
    said = f"{run.household_id} {policy.id} for {key[0]} (no longer a member): stream"
    problems = []
    if key in view.open:
        problems.append(f"{said} has an open offer")
    wanted_review = key in view.received and policy.reviewed and view.settled.get(key, ("", ""))[1] != "gone"
    if wanted_review != (key in view.reviews):
        problems.append(f"{said} {'has no' if wanted_review else 'has an'} open review")
    return problems


@dataclass(frozen=True)
class Figures:
    households: int
    members: int
    messages: int
    reevaluated: int
    disagreements: tuple[str, ...]
    stream_seconds: float
    vectorised_seconds: float


def check(scenarios: Sequence[Scenario], rise: bool = True) -> Figures:
    """Run `scenarios` through the stream path (with a rising standard between their two halves when `rise`)
    and compare with the vectorised evaluation of the final states."""
    started = time.perf_counter()
    runs = [start(f"h{n}", s.household, CATALOGUE) for n, s in enumerate(scenarios)]
    for run, scenario in zip(runs, scenarios, strict=True):
        play(run, scenario.before, CATALOGUE)
    reevaluated = raise_standard(runs) if rise else 0
    final = RAISED if rise else CATALOGUE
    for run, scenario in zip(runs, scenarios, strict=True):
        play(run, scenario.after, final)
    stream = time.perf_counter() - started
    started = time.perf_counter()
    found = disagreements(runs, final)
    vectorised = time.perf_counter() - started
    return Figures(len(runs), sum(len(s.household.people) for s in scenarios), sum(r.messages for r in runs),
                   reevaluated, tuple(found), stream, vectorised)


# ---- random populations for the long run -----------------------------------------------------------------------

_INCOMES = (0, 0, 20_000, 40_000, 60_000, 80_000, 100_000, 120_000, 160_000, 250_000, 400_000)


def random_household(rng: random.Random) -> Household:
    people = tuple(Person(dt.date(rng.randint(1930, 2024), rng.randint(1, 12), rng.randint(1, 28)),
                          rng.choice(_INCOMES), rng.choice((None, None, None, None, 1, 2, 3, 4)))
                   for _ in range(rng.randint(1, 5)))
    benefits = tuple(b for b in REGISTRY_BENEFITS if rng.random() < 0.15)
    return Household(rng.choice(REGIONS), rng.random() < 0.7, rng.choice((0, 0, 500_000, 5_000_000)), people,
                     benefits)


def random_step(rng: random.Random) -> Step:
    kind = rng.choices(KINDS, weights=(6, 2, 1, 2, 1, 2, 1, 6, 1, 1))[0]
    value = rng.choice(_INCOMES) if kind == "income" else rng.randint(0, 400_000)
    return Step(kind, rng.randint(0, 4), value)


def random_scenarios(households: int, seed: int) -> list[Scenario]:
    rng = random.Random(seed)
    return [Scenario(random_household(rng), tuple(random_step(rng) for _ in range(rng.randint(0, 6))),
                     tuple(random_step(rng) for _ in range(rng.randint(0, 3)))) for _ in range(households)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=10_000, help="households evaluated together")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where the result goes")
    args = parser.parse_args(argv)
    totals = {"households": 0, "members": 0, "messages": 0, "reevaluated": 0, "disagreements": 0,
              "stream_seconds": 0.0, "vectorised_seconds": 0.0}
    shown: list[str] = []
    for first in range(0, args.households, args.batch):
        size = min(args.batch, args.households - first)
        figures = check(random_scenarios(size, args.seed * 1_000_003 + first))
        for name in ("households", "members", "messages", "reevaluated"):
            totals[name] += getattr(figures, name)
        totals["disagreements"] += len(figures.disagreements)
        totals["stream_seconds"] += figures.stream_seconds
        totals["vectorised_seconds"] += figures.vectorised_seconds
        shown.extend(figures.disagreements[: max(0, 20 - len(shown))])
        print(f"{totals['households']:>8} households, {totals['messages']:>9} messages, "
              f"{totals['disagreements']} disagreements", flush=True)
    for line in shown:
        print("DISAGREEMENT", line)
    print(f"oracle: {totals['households']} households ({totals['members']} persons), {totals['messages']} messages "
          f"through the Matcher ({totals['reevaluated']} re-evaluation commands after the standard rose), "
          f"{totals['disagreements']} disagreements; stream path {totals['stream_seconds']:.1f} s "
          f"({totals['messages'] / max(totals['stream_seconds'], 1e-9):,.0f} messages/s), vectorised evaluation "
          f"and comparison {totals['vectorised_seconds']:.1f} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({**totals, "seed": args.seed, "examples": shown}, indent=2) + "\n",
                       encoding="utf-8")
    return 1 if totals["disagreements"] else 0


if __name__ == "__main__":
    sys.exit(main())
