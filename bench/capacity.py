"""The capacity plan's table, derived from the measured results in bench/results and the public figures of
bench/capacity_inputs.py: every figure with its formula and the measurement it comes from.

    ./run bench capacity [--results bench/results] [--json bench/results/capacity.json]

Reads matching.json (`./run bench matching`), intake.json, latency.json, footprint.json and reevaluation.json;
a figure whose measurement is missing says which one. docs/capacity.md embeds the printed table.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.capacity_inputs import (
    DECIDED_IN_REDIS_DAYS,
    DISASTER_HOURS,
    DISASTER_PERSONS,
    HEADROOM,
    INBOX_RETENTION_YEARS,
    MIN_PARTITIONS,
    MONITORED,
    MONTHLY_BATCH_HOURS,
    OPEN_TASK_DAYS,
    PARTITION_GROWTH,
    PEAK_HOUR_FACTOR,
    PERSONS_PER_HOUSEHOLD,
    REPLICATION,
    RESIDENTS,
    SECONDS_PER_YEAR,
    SEEN_WINDOW_DAYS,
    TASK_RETENTION_YEARS,
    UTILISATION,
    VOLUMES,
    WORKING_SECONDS_PER_YEAR,
)
from services.core.settings import PROJECT_ROOT
from services.core.topics import EVENTS, MATCHING_INBOX, OFFERS, TASKS

RESULTS = PROJECT_ROOT / "bench" / "results"
GB = 1e9
DAY = 86_400


@dataclass(frozen=True)
class Figure:
    name: str
    value: float | None
    unit: str
    formula: str
    source: str


def measured(results: dict[str, Any]) -> dict[str, Any]:
    """The measurements the plan uses, by name, from the results of each benchmark (None where missing)."""
    matching = results.get("matching") or {}
    sizes = sorted(int(m.group(1)) for k in matching if (m := re.fullmatch(r"matching_(\d+)_events_per_second", k)))
    largest = sizes[-1] if sizes else None
    footprint = results.get("footprint") or {}
    store = footprint.get("matching") or {}
    topics = store.get("topics_on_disk") or {}
    redis = footprint.get("redis") or {}
    reevaluation = results.get("reevaluation") or {}
    if isinstance(reevaluation.get("sizes"), dict):  # one run at several sizes: the largest is measured closest
        reevaluation = max(reevaluation["sizes"].values(), key=lambda size: size.get("persons") or 0)
    latency = results.get("latency") or {}
    events = store.get("events") or 0
    # Records per event from what each topic gained against assist.events over the same run, so that another run
    # writing to the same broker meanwhile changes both sides alike.
    on_events = (topics.get(EVENTS.name) or {}).get("records") or events

    def per_record(topic: str) -> float | None:
        return (topics.get(topic) or {}).get("bytes_per_record")

    def per_event(topic: str) -> float | None:
        added = (topics.get(topic) or {}).get("records")
        return added / on_events if on_events and added is not None else None

    changelog = [v for k, v in topics.items() if k.startswith("changelog ")]
    return {
        "worker_events_per_second": matching.get(f"matching_{largest}_events_per_second") if largest
        else store.get("events_per_second"),
        "worker_policies": largest,
        "worker_group": matching.get("workers"),
        "worker_rate_from": results.get("files", {}).get("matching", "matching.json") if largest
        else "footprint.json (demo catalogue)" if store.get("events_per_second") else None,
        "passthrough_events_per_second": matching.get("passthrough_events_per_second"),
        "intake_events_per_second": (results.get("intake") or {}).get("http_batches_events_per_second"),
        "pipeline_capacity_events_per_second": latency.get("capacity_events_per_second"),
        "rocksdb_bytes_per_person": store.get("rocksdb_bytes_per_person_compacted"),
        "rocksdb_bytes_per_person_uncompacted": store.get("rocksdb_bytes_per_person_after_events"),
        "changelog_bytes_per_person": store.get("changelog_bytes_per_person_compacted"),
        "event_bytes": per_record(EVENTS.name),
        "routed_bytes": per_record(MATCHING_INBOX.name),
        "routed_per_event": per_event(MATCHING_INBOX.name),
        "offer_bytes": per_record(OFFERS.name),
        "task_bytes": per_record(TASKS.name),
        "offers_per_event": per_event(OFFERS.name),
        "tasks_per_event": per_event(TASKS.name),
        "changelog_bytes_per_event": sum(v["bytes"] for v in changelog) / events if changelog and events else None,
        "seen_bytes_per_event": redis.get("intake_seen_bytes_per_event"),
        "casework_bytes_per_task": redis.get("casework_bytes_per_task"),
        "notification_bytes_per_offer": store.get("notification_bytes_per_offer"),
        "reevaluation_from": results.get("files", {}).get("reevaluation", "reevaluation.json"),
        "reevaluation_persons": reevaluation.get("persons"),
        "reevaluation_seconds": reevaluation.get("reevaluation_seconds"),
        "reevaluation_all_policies_seconds": reevaluation.get("reevaluation_all_policies_seconds"),
        "reevaluation_all_policies_cpu_seconds": reevaluation.get("reevaluation_all_policies_cpu_seconds"),
        "columns_bytes_per_person": reevaluation.get("population_columns_bytes_per_person"),
        "reevaluation_peak_rss_bytes": reevaluation.get("peak_rss_bytes")
        or reevaluation.get("reevaluation_peak_rss_bytes"),
    }


def derive(m: dict[str, Any]) -> list[Figure]:
    """Every figure of the plan from the measurements `m` (see measured) and the public figures."""
    out: list[Figure] = []

    def add(name: str, value: float | None, unit: str, formula: str, source: str) -> float | None:
        out.append(Figure(name, value, unit, formula, source))
        return value

    def need(*names: str) -> bool:
        return all(m.get(n) is not None for n in names)

    yearly = sum(v.per_year for v in VOLUMES)
    add("events a year, all departments", yearly, "events", "Σ yearly volumes (table above)", "public figures")
    add("mean rate", yearly / SECONDS_PER_YEAR, "events/s", "events a year / 31,536,000 s", "")
    busy = add("busiest working hour", yearly / WORKING_SECONDS_PER_YEAR * PEAK_HOUR_FACTOR, "events/s",
               f"events a year / (250 d × 10 h) × {PEAK_HOUR_FACTOR:g}", "planning choice")
    batch = sum(v.per_year for v in VOLUMES if v.monthly_batch) / 12 / (MONTHLY_BATCH_HOURS * 3600)
    add("monthly batch (income declarations)", batch, "events/s",
        f"yearly income changes / 12 / {MONTHLY_BATCH_HOURS:g} h", "planning choice")
    flood = add("large disaster", DISASTER_PERSONS / (DISASTER_HOURS * 3600), "events/s",
                f"{DISASTER_PERSONS:,} persons / {DISASTER_HOURS:g} h", "planning choice")
    peak = (busy or 0) + batch + (flood or 0)
    add("coincident peak", peak, "events/s", "busiest hour + monthly batch + disaster", "")
    design = add("design rate", peak * HEADROOM, "events/s", f"coincident peak × {HEADROOM:g}", "")
    assert design is not None
    share = MONITORED / RESIDENTS
    add("share of events about monitored persons", share, "", f"{MONITORED:,} / {RESIDENTS:,}", "MCA, NBS")

    rate = m.get("worker_events_per_second")
    if rate and (m.get("worker_group") or 1) > 1:
        rate = rate / m["worker_group"]
    workers = add("matching workers", math.ceil(design / (rate * UTILISATION)) if rate else None, "processes",
                  f"⌈design rate / (r_worker × {UTILISATION:g})⌉, r_worker = {rate} events/s "
                  f"({m.get('worker_policies') or 'the demo'} policies)", str(m.get("worker_rate_from")))
    add("household partitions", max(MIN_PARTITIONS, 2 ** math.ceil(math.log2(
        workers * PARTITION_GROWTH))) if workers else None, "partitions",
        f"max({MIN_PARTITIONS}, next power of 2 ≥ workers × {PARTITION_GROWTH})", "")
    intake = m.get("intake_events_per_second")
    add("intake processes", math.ceil(design / (intake * UTILISATION)) if intake else None, "processes",
        f"⌈design rate / (r_intake × {UTILISATION:g})⌉, r_intake = {intake} events/s (HTTP batches)", "intake.json")
    pipeline = m.get("pipeline_capacity_events_per_second")
    add("pipeline sets at the measured end-to-end capacity", math.ceil(design / (pipeline * UTILISATION))
        if pipeline else None, "sets", f"⌈design rate / (c × {UTILISATION:g})⌉, c = {pipeline} events/s "
        "(intake + one matching worker + casework on this machine)", "latency.json")

    if need("rocksdb_bytes_per_person"):
        total = MONITORED * m["rocksdb_bytes_per_person"]
        add("RocksDB, all workers", total / GB, "GB",
            f"{MONITORED:,} persons × {m['rocksdb_bytes_per_person']} B/person", "footprint.json")
        if workers:
            add("RocksDB per worker", total / workers / GB, "GB", "RocksDB total / workers (one standby copy "
                "doubles it)", "")
    else:
        add("RocksDB, all workers", None, "GB", "needs footprint.json", "")

    monitored_events = yearly * share
    topic_rows = (("assist.events", "event_bytes", 1.0, yearly, EVENTS.retention_ms),
                  ("assist.matching.households", "routed_bytes", m.get("routed_per_event") or 0.0, yearly,
                   MATCHING_INBOX.retention_ms),
                  ("assist.offers", "offer_bytes", m.get("offers_per_event"), monitored_events, OFFERS.retention_ms),
                  ("assist.tasks", "task_bytes", m.get("tasks_per_event"), monitored_events, TASKS.retention_ms))
    disk = 0.0
    for topic, size, ratio, base, retention in topic_rows:
        if m.get(size) is None or ratio is None:
            add(f"broker disk, {topic}", None, "GB", f"needs {size} in footprint.json", "")
            continue
        days = retention / 1000 / DAY
        gb = base * ratio * m[size] * days / 365 * REPLICATION / GB
        disk += gb
        add(f"broker disk, {topic}", gb, "GB", f"{base:,.0f}/yr × {ratio:.3f} per event × {m[size]} B × "
            f"{days:g} d / 365 × {REPLICATION} replicas", "footprint.json")
    if need("changelog_bytes_per_person"):
        changelog = MONITORED * m["changelog_bytes_per_person"] * REPLICATION / GB
        disk += changelog
        add("broker disk, table changelogs (compacted)", changelog, "GB",
            f"{MONITORED:,} persons × {m['changelog_bytes_per_person']} B/person (latest value per key) × "
            f"{REPLICATION} replicas", "footprint.json")
    add("broker disk, total", disk, "GB", "Σ rows above", "")
    if need("event_bytes"):
        per_event = m["event_bytes"] + (m.get("routed_bytes") or 0) * (m.get("routed_per_event") or 0) + \
            (m.get("changelog_bytes_per_event") or 0)
        add("broker writes at the design rate", design * per_event * REPLICATION / 1e6, "MB/s",
            f"design rate × ({m['event_bytes']} event + routed hop + "
            f"{round(m.get('changelog_bytes_per_event') or 0)} changelog B/event) × {REPLICATION}", "footprint.json")

    if need("seen_bytes_per_event"):
        add("Redis, intake idempotency window", yearly / 365 * SEEN_WINDOW_DAYS * m["seen_bytes_per_event"] / GB,
            "GB", f"events a year / 365 × {SEEN_WINDOW_DAYS} d × {m['seen_bytes_per_event']} B/key", "footprint.json")
    if need("casework_bytes_per_task", "tasks_per_event"):
        tasks = monitored_events * m["tasks_per_event"]
        add("Redis, casework (tasks kept 5 years)", tasks * TASK_RETENTION_YEARS * m["casework_bytes_per_task"] / GB,
            "GB", f"{tasks:,.0f} tasks/yr × {TASK_RETENTION_YEARS} y × {m['casework_bytes_per_task']} B/task",
            "footprint.json")
        days = OPEN_TASK_DAYS + DECIDED_IN_REDIS_DAYS
        add("Redis, casework (decided tasks leave after 90 days)",
            tasks * days / 365 * m["casework_bytes_per_task"] / GB, "GB",
            f"{tasks:,.0f} tasks/yr × ({OPEN_TASK_DAYS} open + {DECIDED_IN_REDIS_DAYS} decided) d / 365 × "
            f"{m['casework_bytes_per_task']} B/task", "footprint.json")
    if need("notification_bytes_per_offer", "offers_per_event"):
        offers = monitored_events * m["offers_per_event"]
        add("Redis, notification (offers kept 2 years)",
            offers * INBOX_RETENTION_YEARS * m["notification_bytes_per_offer"] / GB, "GB",
            f"{offers:,.0f} offers/yr × {INBOX_RETENTION_YEARS} y × {m['notification_bytes_per_offer']} B/offer",
            "footprint.json")

    persons, seconds = m.get("reevaluation_persons"), m.get("reevaluation_seconds")
    if persons and seconds:
        add("national re-evaluation, one rule", seconds / persons * MONITORED, "s",
            f"{seconds:.3f} s / {persons:,} persons × {MONITORED:,}", str(m.get("reevaluation_from")))
        every = m.get("reevaluation_all_policies_seconds")
        if every:
            add("national re-evaluation, every re-evaluation policy", every / persons * MONITORED, "s",
                f"{every:.3f} s / {persons:,} persons × {MONITORED:,}", str(m.get("reevaluation_from")))
        cpu = m.get("reevaluation_all_policies_cpu_seconds")
        if cpu:
            add("national re-evaluation, every policy, CPU time", cpu / persons * MONITORED, "s",
                f"{cpu:.3f} CPU s / {persons:,} persons × {MONITORED:,} (the process's CPU time: what a machine of "
                "its own would take, whatever else runs beside)", str(m.get("reevaluation_from")))
        if m.get("columns_bytes_per_person"):
            add("population columns in memory", m["columns_bytes_per_person"] * MONITORED / GB, "GB",
                f"{m['columns_bytes_per_person']:.1f} B/person × {MONITORED:,}", str(m.get("reevaluation_from")))
        if m.get("reevaluation_peak_rss_bytes"):
            add("peak memory of the re-evaluation", m["reevaluation_peak_rss_bytes"] / persons * MONITORED / GB, "GB",
                f"peak RSS {m['reevaluation_peak_rss_bytes'] / GB:.2f} GB / {persons:,} × {MONITORED:,}",
                str(m.get("reevaluation_from")))
    else:
        add("national re-evaluation", None, "s", "needs reevaluation.json", "")
    add("households monitored", MONITORED / PERSONS_PER_HOUSEHOLD, "households",
        f"{MONITORED:,} / {PERSONS_PER_HOUSEHOLD}", "census 2020")
    return out


def _shown(value: float | None, unit: str) -> str:
    if value is None:
        return "not measured"
    if unit == "":
        return f"{value:.2%}"
    digits = 0 if abs(value) >= 100 or unit in ("processes", "partitions", "sets") else 1 if abs(value) >= 1 else 3
    return f"{value:,.{digits}f} {unit}"


def markdown(figures: list[Figure], m: dict[str, Any]) -> list[str]:
    lines = ["| department | events | per year | source |", "|---|---|---:|---|"]
    lines += [f"| {v.department} | {v.event_types} | {v.per_year / 1e6:,.1f} M | {v.source}"
              f"{' (estimate)' if v.estimate else ''} |" for v in VOLUMES]
    lines += ["", "| figure | value | formula | from |", "|---|---:|---|---|"]
    lines += [f"| {f.name} | {_shown(f.value, f.unit)} | {f.formula} | {f.source} |" for f in figures]
    lines += ["", "Measured inputs:", ""]
    lines += [f"- {k}: {v if not isinstance(v, float) else round(v, 4)}" for k, v in m.items()]
    return lines


def read_results(folder: Path) -> dict[str, Any]:
    """Each benchmark's newest result in `folder`: <name>.json or a variant <name>-<label>.json (a run kept
    under its own name, such as matching-after.json; not a baseline named *-before*), the most recently written
    (for matching, of the runs with one worker when there are any); its file name under "files"."""
    found: dict[str, Any] = {"files": {}}
    for name in ("matching", "intake", "latency", "footprint", "reevaluation"):
        candidates = [p for p in folder.glob(f"{name}*.json") if (p.stem == name or p.stem.startswith(f"{name}-"))
                      and "-before" not in p.stem]  # a baseline kept from before a change is not the current speed
        readable = []
        for path in candidates:
            try:
                readable.append((path.stat().st_mtime, path, json.loads(path.read_text(encoding="utf-8"))))
            except ValueError:
                continue
        readable = [r for r in readable if isinstance(r[2], dict)]
        single = [r for r in readable if r[2].get("workers", 1) == 1]
        if name == "matching" and single:  # a worker's own speed: a group on a shared machine is not the sum of them
            readable = single
        if readable:
            _, path, result = max(readable, key=lambda r: r[0])
            found[name] = result
            found["files"][name] = path.name
    return found


def main() -> None:
    parser = argparse.ArgumentParser(prog="./run bench capacity")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--json", type=Path, default=RESULTS / "capacity.json")
    args = parser.parse_args()
    m = measured(read_results(args.results))
    figures = derive(m)
    print("\n".join(markdown(figures, m)))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"measured": m, "figures": [asdict(f) for f in figures]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
