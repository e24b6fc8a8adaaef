"""Whole-population re-evaluation next to OpenFisca-core on the same population, and memory per monitored person.

    ./run bench reevaluation [--persons 1000000]     (python -m bench.reevaluation)

One synthetic population (bench.synthetic_population) feeds both engines. Ours: as_columns, then
evaluate_population for the subsistence allowance (timed separately). OpenFisca-core: the same rule as a
tax-benefit system (bench/openfisca_dibao.py) fed the same arrays; only the first calculate("subsistence_top_up")
is timed, on a fresh simulation each time. Both must find the same eligible households and total top-up.

Re-evaluation as the matching runtime does it: the demo catalogue against a version raising the Sichuan (510000)
standard by 8.5 % from the evaluation date; the columns for the day, both versions evaluated policy by policy
(outcome_pairs), newly eligible = after & ~before, the ids of the households whose outcome changed decoded. Timed
for the subsistence allowance (against OpenFisca's two runs) and for every re-evaluation policy, with the peak
RSS while doing it; then households are upserted (bench.population_updates) and the runtime path timed again.

Memory: PopulationColumns.nbytes_per_person(), RSS before the population exists (the interpreter and libraries),
after building it and at the peak of re-evaluating; and the JSON state matching keeps per household in its table
(to_dict, as faust's json codec writes it) per member, for registry-loaded households and after a year of
department events applied by the matcher. `national` scales the figures to 66 million persons (formula given).
Each timing is the median of --repeats runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import itertools
import json
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from faust.serializers import codecs

from bench.catalogues import CATALOGUE, raised_standard
from bench.openfisca_dibao import DibaoInputs, DibaoRun, run_dibao
from bench.population_capacity import (
    national,
    peak_rss_bytes,
    release_freed_memory,
    reset_peak_rss,
    reuse_freed_memory,
    rss_bytes,
    run_peak_rss_bytes,
)
from bench.population_updates import measure_updates
from bench.synthetic_population import synthetic_population
from services.core.codec import event_from_json, load_contract
from services.core.identity import Pseudonymiser
from services.core.progress_report import progress_report
from services.core.settings import PROJECT_ROOT, load_settings
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue, load_catalogue
from services.matching.domain.household.risk import load_risk_model
from services.matching.domain.household.state import HouseholdState, to_dict
from services.matching.domain.household.vocabulary import REEVALUATION
from services.matching.domain.population.columns import PopulationColumns
from services.matching.domain.population.evaluation import (
    PopulationOutcome,
    changed_households,
    evaluate_population,
    outcome_pairs,
)
from services.matching.handler import Matcher
from services.matching.runtime import newly_eligible_households
from services.simulator.population import generate_population
from services.simulator.scenario import ScenarioClock, department_events

RISK_MODEL = PROJECT_ROOT / "policies" / "risk.yaml"
RESULTS = PROJECT_ROOT / "bench" / "results" / "reevaluation.json"
POLICY = "subsistence_allowance"
SICHUAN = "510000"
RAISE = 0.085
ON_DATE = dt.date(2026, 7, 1)
"""The first of a month: OpenFisca evaluates the monthly period it starts."""

T = TypeVar("T")


class Disagreement(RuntimeError):
    """The two engines (or two evaluations) did not find the same households or amounts."""


CPU_SECONDS: dict[str, float] = {}
"""The median CPU seconds of each timed step, by the label timed() was given."""


def timed(repeats: int, run: Callable[[], T], label: str | None = None) -> tuple[float, T]:
    """Median wall-clock seconds of `repeats` runs, and the last run's value; with `label`, the median CPU
    seconds of this process go to CPU_SECONDS[label] (the machine is shared: wall clock counts waiting too)."""
    seconds: list[float] = []
    cpu: list[float] = []
    value: T | None = None
    for _ in range(repeats):
        gc.collect()
        started, used = time.perf_counter(), time.process_time()
        value = run()
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    assert value is not None
    if label is not None:
        CPU_SECONDS[label] = statistics.median(cpu)
    return statistics.median(seconds), value


def dibao_inputs(columns: Mapping[str, Any]) -> DibaoInputs:
    return DibaoInputs(columns["member.household"], columns["member.monthly_income_fen"],
                       columns["household.financial_assets_fen"], columns["household.region"],
                       columns["household.urban"])


def agree(what: str, ours: Any, theirs: Any) -> None:
    print(f"  {what}: ours {ours}, OpenFisca {theirs}")
    if ours != theirs:
        raise Disagreement(f"{what} differ: ours {ours}, OpenFisca {theirs}")


def openfisca_runs(catalogue: PolicyCatalogue, inputs: DibaoInputs, repeats: int, way: str) -> tuple[float, DibaoRun]:
    runs = [run_dibao(catalogue, inputs, ON_DATE, way) for _ in range(repeats)]
    CPU_SECONDS[f"openfisca_{way}"] = statistics.median(r.cpu_seconds for r in runs)
    return statistics.median(r.seconds for r in runs), runs[-1]


def reevaluate(population: PopulationColumns, old: PolicyCatalogue, new: PolicyCatalogue, day: dt.date,
               policies: list[str], seconds: dict[str, float] | None = None) -> dict[str, np.ndarray[Any, Any]]:
    """What MatchingRuntime.reevaluate computes before sending commands: the columns for the day, both versions
    policy by policy, the newly eligible household rows and the ids of the households whose outcome changed.
    With `seconds`, each policy's CPU seconds (both versions) are written there."""
    columns = population.as_columns(day)  # same day: the runtime reads the columns once
    member_household = columns.get("member.household")
    newly: dict[str, np.ndarray[Any, Any]] = {}
    changed = [np.zeros(0, dtype=np.int64)]
    started = time.process_time()
    for policy_id, before, after in outcome_pairs(old, columns, day, new, columns, day, policies):
        newly[policy_id] = newly_eligible_households(before, after, member_household)
        changed.append(changed_households(before, after, member_household))
        if seconds is not None:
            seconds[policy_id] = time.process_time() - started
            started = time.process_time()
    rows = np.unique(np.concatenate(changed))
    if len(population.household_ids(rows)) != len(rows):
        raise Disagreement("not every changed household has an id")
    return newly


def compare_engines(population: PopulationColumns, old: PolicyCatalogue, new: PolicyCatalogue,
                    repeats: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    result["as_columns_seconds"], columns = timed(repeats, lambda: population.as_columns(ON_DATE))
    if columns.live_members is not None:
        raise Disagreement("the compared population has freed member rows; OpenFisca would count them")
    # Fresh columns each run: the facts the rule reads are computed inside the timing.
    result["ours_seconds"], outcomes = timed(
        repeats, lambda: evaluate_population(old, population.as_columns(ON_DATE), ON_DATE, [POLICY]), "ours")
    ours: PopulationOutcome = outcomes[POLICY]
    eligible, total = int(np.count_nonzero(ours.eligible)), int(ours.amount_fen.sum(dtype=np.int64))
    result["eligible_households"], result["total_monthly_top_up_fen"] = eligible, total
    inputs = dibao_inputs(columns)
    for way in ("select", "fancy"):
        seconds, run = openfisca_runs(old, inputs, repeats, way)
        print(f"OpenFisca ({way} standard lookup) vs ours, {ON_DATE:%Y-%m}:")
        agree("eligible households", eligible, run.eligible_households)
        agree("total monthly top-up (fen)", total, run.total_top_up_fen)
        if not np.array_equal(ours.eligible, run.eligible):
            raise Disagreement("the same number of households is eligible, but not the same households")
        result[f"openfisca_{way}_seconds"] = seconds
    result["openfisca_simulation_bytes_per_person"] = run.simulation_bytes / population.persons

    result["reevaluation_seconds"], newly = timed(
        repeats, lambda: reevaluate(population, old, new, ON_DATE, [POLICY]), "reevaluation")
    result["newly_eligible_households"] = int(newly[POLICY].size)
    pairs = [(run_dibao(old, inputs, ON_DATE, "select"), run_dibao(new, inputs, ON_DATE, "select"))
             for _ in range(repeats)]
    result["openfisca_reevaluation_seconds"] = statistics.median(b.seconds + a.seconds for b, a in pairs)
    CPU_SECONDS["openfisca_reevaluation"] = statistics.median(b.cpu_seconds + a.cpu_seconds for b, a in pairs)
    before, after = pairs[-1]
    print(f"OpenFisca vs ours, Sichuan standard +{RAISE:.1%}:")
    theirs = np.flatnonzero(after.eligible & ~before.eligible)
    agree("newly eligible households", result["newly_eligible_households"], int(theirs.size))
    if not np.array_equal(newly[POLICY], theirs):
        raise Disagreement("as many households are newly eligible, but not the same households")
    return result


def all_policies(population: PopulationColumns, old: PolicyCatalogue, new: PolicyCatalogue,
                 repeats: int) -> dict[str, Any]:
    """Every re-evaluation policy as the runtime does it: wall-clock and CPU seconds (median), CPU seconds per
    policy, and the peak RSS."""
    policies = [p.id for p in new.policies_for(REEVALUATION) if p.id in old.policy_ids()]
    runs: list[dict[str, float]] = []
    totals: list[float] = []
    cpu: list[float] = []
    every: dict[str, np.ndarray[Any, Any]] = {}
    release_freed_memory()
    rss_before = rss_bytes()
    reset_peak_rss()
    for _ in range(repeats):
        gc.collect()
        runs.append({})
        started, used = time.perf_counter(), time.process_time()
        every = reevaluate(population, old, new, ON_DATE, policies, runs[-1])
        totals.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return {
        "reevaluation_policies": len(policies),
        "reevaluation_all_policies_seconds": statistics.median(totals),
        "reevaluation_all_policies_cpu_seconds": statistics.median(cpu),
        "reevaluation_cpu_seconds_by_policy": {p: statistics.median(r[p] for r in runs) for p in policies},
        "reevaluation_rss_before_bytes": rss_before,
        "reevaluation_peak_rss_bytes": peak_rss_bytes(),
        "newly_eligible_any_policy_households": len(np.unique(np.concatenate(list(every.values())))),
        "newly_eligible_by_policy": {p: int(rows.size) for p, rows in every.items() if rows.size},
    }


def stored_state_bytes(households: int, events_per_household: float, seed: int,
                       catalogue: PolicyCatalogue) -> dict[str, Any]:
    """JSON bytes of the table state per member: households loaded from the registry a year before ON_DATE, then
    after a year of department events applied by the matcher (nobody decides on offers meanwhile)."""
    contract = load_contract()
    matcher = Matcher(load_risk_model(RISK_MODEL.read_text(encoding="utf-8")))
    pseudonymise = Pseudonymiser(load_settings().pseudonym_key).person_id
    end = dt.datetime.combine(ON_DATE, dt.time(), dt.UTC)
    loaded = end - dt.timedelta(days=366)
    population = generate_population(households, seed, census_date=loaded.date(), person_id=pseudonymise)
    states: dict[str, HouseholdState] = {}
    home: dict[str, str] = {}
    for record in population.records(loaded):
        state = matcher.on_registry(None, record, catalogue, loaded).state
        assert state is not None
        states[state.household_id] = state
        home.update((person, state.household_id) for person in state.members)
    registry = _json_bytes_per_member(states.values())
    count = round(households * events_per_household)
    stream = department_events(population, contract, seed=seed, clock=ScenarioClock.ending(
        end, count, dt.timedelta(days=365)))
    applied = 0
    for structured in itertools.islice(stream, count):
        event = event_from_json(contract, structured)
        event = event.with_subject(pseudonymise(event.subject))
        household = home.get(event.subject)
        if household is not None:
            updated = matcher.on_event(states[household], event, catalogue, event.time).state
            assert updated is not None
            states[household] = updated
            applied += 1
    return {"state_households": households, "state_events_applied": applied,
            "state_json_bytes_per_member_registry": registry,
            "state_json_bytes_per_member_after_year": _json_bytes_per_member(states.values())}


def _json_bytes_per_member(states: Any) -> float:
    listed: list[HouseholdState] = list(states)
    size = sum(len(codecs.dumps("json", to_dict(s))) for s in listed)
    return size / max(sum(len(s.members) for s in listed), 1)


STEPS = 5
"""Building, every policy, OpenFisca, household updates, re-evaluation after them."""


def run(args: argparse.Namespace) -> dict[str, Any]:
    text = CATALOGUE.read_text(encoding="utf-8")
    old = load_catalogue(text, str(CATALOGUE))
    new = load_catalogue(raised_standard(text, old, SICHUAN, RAISE, ON_DATE), f"{CATALOGUE} (Sichuan raise)")
    for urban in (True, False):
        was, now = (c.resolve("standard", SICHUAN, urban, ON_DATE) for c in (old, new))
        if now != round(was * (1 + RAISE)):
            raise Disagreement(f"the raised catalogue resolves the Sichuan standard to {now}, not {was} + {RAISE:.1%}")
    with progress_report("re-evaluation benchmark", total=STEPS, unit="steps") as steps:
        interpreter = rss_bytes()
        print(f"building {args.persons:,} persons ...", flush=True)
        built, population = timed(1, lambda: synthetic_population(args.persons, args.seed, ON_DATE))
        release_freed_memory()
        steps.advance()
        result: dict[str, Any] = {
            "persons": population.persons, "households": len(population), "evaluation_date": ON_DATE.isoformat(),
            "repeats": args.repeats, "python": platform.python_version(), "numpy": np.__version__,
            "openfisca_core": version("openfisca-core"), "build_seconds": built, "rss_interpreter_bytes": interpreter,
            "rss_after_build_bytes": rss_bytes(),
            "population_columns_bytes_per_person": population.nbytes_per_person(),
        }
        print("re-evaluating every policy ...", flush=True)
        result.update(all_policies(population, old, new, args.repeats))
        steps.advance()
        print("comparing with OpenFisca ...", flush=True)
        result.update(compare_engines(population, old, new, args.repeats))
        steps.advance()
        result.update(measure_updates(population, args.updates, args.seed, ON_DATE))
        steps.advance()
        result["reevaluation_after_updates_seconds"], _ = timed(
            args.repeats, lambda: reevaluate(population, old, new, ON_DATE, [POLICY]), "reevaluation_after_updates")
        steps.advance()
    result["peak_rss_run_bytes"] = run_peak_rss_bytes()
    result["peak_rss_bytes"] = result["reevaluation_peak_rss_bytes"]  # the figure bench/capacity.py reads
    result.update({f"{label}_cpu_seconds": seconds for label, seconds in CPU_SECONDS.items()})
    result["national"] = national(result)
    if args.state_households:
        result.update(stored_state_bytes(args.state_households, args.events_per_household, args.seed, old))
    return result


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}"


def table(r: dict[str, Any]) -> list[str]:
    """The result as rows: measure, ours, OpenFisca, ours / OpenFisca (times in ms)."""
    ms, gb = 1000.0, 1e9  # wall-clock figures count time waiting for a core on a shared machine; CPU ones do not
    ours, select, fancy = r["ours_seconds"], r["openfisca_select_seconds"], r["openfisca_fancy_seconds"]
    again, again_of = r["reevaluation_seconds"], r["openfisca_reevaluation_seconds"]
    nation = r["national"]
    rows: list[tuple[str, str, str, str]] = [
        ("subsistence allowance: evaluation with its facts (ms)", f"{ours * ms:.1f}", f"{select * ms:.1f}",
         _ratio(ours, select)),
        ("  OpenFisca with fancy-indexed standard (ms)", f"{ours * ms:.1f}", f"{fancy * ms:.1f}", _ratio(ours, fancy)),
        ("as_columns alone (ms)", f"{r['as_columns_seconds'] * ms:.3f}", "", ""),
        ("re-evaluation, Sichuan +8.5 %, as the runtime (ms)", f"{again * ms:.1f}", f"{again_of * ms:.1f}",
         _ratio(again, again_of)),
        ("  CPU ms of this process", f"{r['reevaluation_cpu_seconds'] * ms:.1f}",
         f"{r['openfisca_reevaluation_cpu_seconds'] * ms:.1f}",
         _ratio(r["reevaluation_cpu_seconds"], r["openfisca_reevaluation_cpu_seconds"])),
        ("  the same after the updates below (ms)", f"{r['reevaluation_after_updates_seconds'] * ms:.1f}",
         f"{again_of * ms:.1f}", _ratio(r["reevaluation_after_updates_seconds"], again_of)),
        (f"all {r['reevaluation_policies']} re-evaluation policies, both versions (ms)",
         f"{r['reevaluation_all_policies_seconds'] * ms:.1f}", "", ""),
        ("  CPU ms of this process", f"{r['reevaluation_all_policies_cpu_seconds'] * ms:.1f}", "", ""),
        *((f"  {p} (CPU ms)", f"{t * ms:.1f}", "", "") for p, t in r["reevaluation_cpu_seconds_by_policy"].items()),
        ("eligible households", f"{r['eligible_households']:,}", f"{r['eligible_households']:,}", "1.00"),
        ("total monthly top-up (fen)", f"{r['total_monthly_top_up_fen']:,}", f"{r['total_monthly_top_up_fen']:,}",
         "1.00"),
        ("newly eligible households, subsistence", f"{r['newly_eligible_households']:,}",
         f"{r['newly_eligible_households']:,}", "1.00"),
        ("newly eligible households, any policy", f"{r['newly_eligible_any_policy_households']:,}", "", ""),
        ("build from arrays (s)", f"{r['build_seconds']:.2f}", "", ""),
        *((f"upsert, {k[7:-22].replace('_', ' ')} (µs)", f"{v * 1e6:.1f}", "", "")
          for k, v in r.items() if k.startswith("update_") and k.endswith("_seconds_per_household")),
        ("population columns, bytes per person", f"{r['population_columns_bytes_per_person']:.1f}", "", ""),
        ("OpenFisca arrays of this rule, bytes per person", "", f"{r['openfisca_simulation_bytes_per_person']:.1f}",
         ""),
        ("RSS: interpreter, after build, peak re-evaluating (GB)",
         f"{r['rss_interpreter_bytes'] / gb:.2f} / {r['rss_after_build_bytes'] / gb:.2f} / "
         f"{r['reevaluation_peak_rss_bytes'] / gb:.2f}", "", ""),
        ("peak RSS of the whole run, OpenFisca included (GB)", f"{r['peak_rss_run_bytes'] / gb:.2f}", "", ""),
        (f"{nation['persons'] / 1e6:.0f} M persons: all policies (s; CPU s), peak RSS (GB)",
         f"{nation['reevaluation_all_policies_seconds']:.2f} s; {nation['reevaluation_all_policies_cpu_seconds']:.2f}"
         f" s, {nation['peak_rss_bytes'] / gb:.2f} GB", "", ""),
    ]
    if "state_json_bytes_per_member_registry" in r:
        rows += [("table state JSON, bytes per member, registry", f"{r['state_json_bytes_per_member_registry']:.1f}",
                  "", ""),
                 ("  after a year of events", f"{r['state_json_bytes_per_member_after_year']:.1f}", "", "")]
    header = ("", "ours", f"OpenFisca {r['openfisca_core']}", "ours/OpenFisca")
    width = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = [f"{r['persons']:,} persons in {r['households']:,} households, {r['evaluation_date']}, "
             f"median of {r['repeats']} runs"]
    for label, *cells in [header, *rows]:
        lines.append("  ".join([label.ljust(width[0]), *(c.rjust(w) for c, w in zip(cells, width[1:], strict=True))]))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="./run bench reevaluation")
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--state-households", type=int, default=3_000,
                        help="households whose table state is serialised")
    parser.add_argument("--events-per-household", type=float, default=3.0,
                        help="department events over the year before the evaluation date")
    parser.add_argument("--updates", type=int, default=10_000, help="households upserted per kind of change")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where the result goes")
    parser.add_argument("--default-allocator", action="store_true",
                        help="leave glibc's mmap of large blocks on (each NumPy temporary is then fresh pages)")
    args = parser.parse_args()
    allocator = "default" if args.default_allocator else reuse_freed_memory()
    result = {**run(args), "allocator": allocator}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print("\n".join(table(result)))


if __name__ == "__main__":
    main()
