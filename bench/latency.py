"""End-to-end latency from intake's 202 to the offer on assist.offers and to the task in casework, open loop.

    ./run bench latency [--households 3000] [--seconds 20] [--rates 100,500,1000] [--ceiling 8000] [--tick-ms 10]

Intake (HTTP API), a matching worker, the casework worker and the casework API run as their own processes
(bench/pipeline.py). The simulator's population goes to the registry, then departments' events (the simulator's
stream about that population) are sent at each fixed rate for --seconds: every send time is planned before the
run and requests leave at their time whether or not earlier ones were answered (open loop). Events due in the same
--tick-ms go as one batch per department, as departments' systems send. After the fixed rates the rate doubles
while the pipeline keeps up (bench/open_loop.sustained), up to --ceiling, or halves the gap after the first rate
it did not keep up with; then half of the highest sustained rate is run, where the target is p99 <= 100 ms. No
rate starts after --budget seconds of sweeping, so a slow machine ends the sweep early instead of running long.

Measured per event: planned send time, the 202's arrival; per offer (read from assist.offers) and per task (read
from assist.tasks) when it appeared, matched to the event whose handling made it (header assist_cause), else to an
offer's trigger_event_id or the latest of a task's evidence_event_ids sent in the run. A task counts as visible
in casework once its hash is in the casework store, polled every --poll-ms for all waiting tasks at once (one
pipelined round trip); the first tasks of each rate are also read through GET /api/v1/tasks/{id}, which must
answer them with the same evidence.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.open_loop import Latency, next_rate, percentile, send_times, sustained, ticks
from bench.pipeline import Pipeline, Ports, drop_tables, run_folder, stop_on_sigterm
from services.casework.adapters.redis_layout import Keys
from services.core.codec import Contract, decode_record, load_contract
from services.core.identity import Pseudonymiser
from services.core.kafka import durable_producer
from services.core.settings import PROJECT_ROOT, load_settings
from services.core.topics import EVENTS, MATCHING_INBOX, OFFERS, TASKS
from services.intake.adapters.redis_seen import pooled_redis
from services.matching.stored import CAUSE_HEADER
from services.simulator.adapters.registry import RegistryPublisher
from services.simulator.departments import department_of
from services.simulator.population import generate_population
from services.simulator.scenario import ScenarioClock, department_events

RESULTS = PROJECT_ROOT / "bench" / "results" / "latency.json"
TARGET_P99_MS = 100.0
API_CHECKS = 20
"""Tasks of each rate also read through GET /api/v1/tasks/{id}."""
HOPS = frozenset({EVENTS.name, MATCHING_INBOX.name})
"""Topics an event crosses on its way to an offer, read for their record timestamps only."""
WATCHED = 2000
"""Tasks looked up per poll, oldest first (tasks reach casework about in order)."""


@dataclass
class Observed:
    """What the run saw, by event id: planned send time, 202 time; first offer and task times by trigger."""

    planned: dict[str, float] = field(default_factory=dict)
    answered: dict[str, float] = field(default_factory=dict)
    offers: dict[str, float] = field(default_factory=dict)
    tasks_on_topic: dict[str, float] = field(default_factory=dict)
    tasks_visible: dict[str, float] = field(default_factory=dict)
    waiting_tasks: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    """task id -> (trigger event id, evidence ids) while the task is not in casework yet."""
    further_offers: int = 0
    """Offers after the first one of the same triggering event (other policies, revisions): not timed."""
    api_budget: int = 0
    """Tasks still to read through the API in this rate."""
    api_checked: int = 0
    api_problems: list[str] = field(default_factory=list)
    written: dict[str, dict[str, float]] = field(default_factory=dict)
    """Where each event was written, by topic, then event id: the record's timestamp (its producer's clock at the
    send), on this loop's clock. Tells which hop the time went to."""
    clock_offset: float = field(default_factory=lambda: asyncio.get_running_loop().time() - time.time())
    """loop.time() - time.time(): turns a record timestamp (wall clock) into this loop's clock."""

    def stamp(self, topic: str, event_id: str, timestamp_ms: int) -> None:
        self.written.setdefault(topic, {}).setdefault(event_id, timestamp_ms / 1000 + self.clock_offset)


async def read_outputs(consumer: AIOKafkaConsumer, contract: Contract, seen: Observed, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        batches = await consumer.getmany(timeout_ms=50, max_records=2000)
        now = loop.time()
        for tp, records in batches.items():
            for r in records:
                if r.value is None:
                    continue
                if tp.topic in HOPS:
                    event_id = next((bytes(v).decode() for k, v in r.headers or [] if k == "ce_id"), None)
                    if event_id in seen.planned:
                        seen.stamp(tp.topic, event_id, r.timestamp)
                    continue
                cause = next((bytes(v).decode() for k, v in r.headers or [] if k == CAUSE_HEADER), None)
                if tp.topic == OFFERS.name:
                    # Timed from the report whose handling made the offer: a need decided again at a later report
                    # keeps the need's event as trigger_event_id, and timing it from that event's 202 measured the
                    # gap between two reports of one household (seconds), not the pipeline.
                    trigger = cause if cause in seen.planned else \
                        decode_record(contract, "offer", r.value).get("trigger_event_id")
                    if trigger in seen.planned:
                        seen.stamp(OFFERS.name, trigger, r.timestamp)
                    if trigger in seen.answered or trigger in seen.planned:
                        if trigger in seen.offers:
                            seen.further_offers += 1
                        else:
                            seen.offers[trigger] = now
                else:
                    task = decode_record(contract, "caseworker_task", r.value)
                    evidence = [e for e in task.get("evidence_event_ids") or [] if e in seen.planned]
                    if evidence:
                        trigger = cause if cause is not None and cause in evidence else \
                            max(evidence, key=lambda e: seen.planned[e])
                        seen.tasks_on_topic.setdefault(trigger, now)
                        seen.waiting_tasks.setdefault(task["task_id"], (trigger, list(evidence)))


async def watch_casework(redis: Any, keys: Keys, seen: Observed, api: aiohttp.ClientSession, url: str,
                         stop: asyncio.Event, poll: float) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        waiting = list(itertools.islice(seen.waiting_tasks.items(), WATCHED))
        if waiting:
            pipe = redis.pipeline(transaction=False)
            for task_id, _ in waiting:
                pipe.exists(keys.task(task_id))
            found = await pipe.execute()
            now = loop.time()
            for (task_id, (trigger, evidence)), present in zip(waiting, found, strict=True):
                if present:
                    del seen.waiting_tasks[task_id]
                    seen.tasks_visible.setdefault(trigger, now)
                    if seen.api_budget > 0:
                        seen.api_budget -= 1
                        seen.api_checked += 1
                        await check_api(api, url, task_id, evidence, seen)
        await asyncio.sleep(poll)


async def check_api(api: aiohttp.ClientSession, url: str, task_id: str, evidence: list[str], seen: Observed) -> None:
    async with api.get(f"{url}/api/v1/tasks/{task_id}") as answer:
        body = await answer.json(content_type=None)
        if answer.status != 200:
            seen.api_problems.append(f"{task_id}: HTTP {answer.status}")
        elif not set(evidence) <= set(body.get("evidence_event_ids", [])):
            seen.api_problems.append(f"{task_id}: the API names other evidence")


async def send_open_loop(session: aiohttp.ClientSession, url: str, tokens: dict[str, str],
                         events: list[dict[str, Any]], rate: float, seconds: float, tick: float,
                         seen: Observed) -> tuple[int, list[float]]:
    """Send `events` at `rate` for `seconds` (open loop); (accepted, seconds each request left late). Every
    request body is encoded before the first send, so the sender's own work does not delay the schedule."""
    loop = asyncio.get_running_loop()
    offsets = send_times(rate, seconds, 0.0)
    plan: list[tuple[float, str, bytes, list[str], list[float]]] = []
    for at, indexes in ticks(offsets, tick):
        by_department: dict[str, list[int]] = {}
        for i in indexes:
            by_department.setdefault(department_of(events[i]), []).append(i)
        plan += [(at, d, json.dumps([events[i] for i in chosen]).encode(), [events[i]["id"] for i in chosen],
                  [offsets[i] for i in chosen]) for d, chosen in by_department.items()]
    accepted = 0
    late: list[float] = []

    async def post(department: str, body: bytes, ids: list[str], at: float) -> None:
        nonlocal accepted
        await asyncio.sleep(max(0.0, at - loop.time()))
        late.append(loop.time() - at)
        headers = {"Authorization": f"Bearer {tokens[department]}",
                   "Content-Type": "application/cloudevents-batch+json"}
        try:
            async with session.post(f"{url}/v1/events", data=body, headers=headers) as answer:
                await answer.read()
                if answer.status == 202:
                    now = loop.time()
                    accepted += len(ids)
                    for event_id in ids:
                        seen.answered[event_id] = now
        except aiohttp.ClientError:
            pass

    start = loop.time() + 0.2
    for _, _, _, ids, planned in plan:
        for event_id, offset in zip(ids, planned, strict=True):
            seen.planned[event_id] = start + offset
    await asyncio.gather(*(post(d, body, ids, start + at) for at, d, body, ids, _ in plan))
    return accepted, sorted(late)


def figures(seen: Observed, ids: list[str]) -> dict[str, Any]:
    def latencies(outputs: dict[str, float], since: dict[str, float]) -> Latency:
        return Latency.of(outputs[i] - since[i] for i in ids if i in outputs and i in since)
    return {"intake_202_from_send": asdict(latencies(seen.answered, seen.planned)),
            "offer_from_202": asdict(latencies(seen.offers, seen.answered)),
            "offer_from_send": asdict(latencies(seen.offers, seen.planned)),
            "task_on_topic_from_202": asdict(latencies(seen.tasks_on_topic, seen.answered)),
            "task_in_casework_from_202": asdict(latencies(seen.tasks_visible, seen.answered)),
            "hops": hops(seen, ids)}


def hops(seen: Observed, ids: list[str]) -> dict[str, Any]:
    """The offer's way through the pipeline, hop by hop, from the record timestamps of each topic it crossed:
    intake writing the event (send → record on assist.events), matching's routing hop (→ its household's inbox),
    the household hop (→ the offer on assist.offers), and the reader (→ the offer read here)."""
    events, inbox = seen.written.get(EVENTS.name, {}), seen.written.get(MATCHING_INBOX.name, {})
    offers = seen.written.get(OFFERS.name, {})

    def between(later: dict[str, float], earlier: dict[str, float]) -> dict[str, Any]:
        return asdict(Latency.of(later[i] - earlier[i] for i in ids if i in later and i in earlier and i in offers))
    return {"send_to_events": between(events, seen.planned), "routing_hop": between(inbox, events),
            "household_hop": between(offers, inbox), "offer_read": between(seen.offers, offers)}


async def one_rate(pipeline: Pipeline, session: aiohttp.ClientSession, stream: Iterator[dict[str, Any]],
                   rate: float, args: argparse.Namespace, seen: Observed, sent_before: float) -> dict[str, Any]:
    events = [next(stream) for _ in range(round(rate * args.seconds))]
    seen.api_budget = API_CHECKS
    ids = [e["id"] for e in events]
    accepted, late = await send_open_loop(session, pipeline.intake_url, pipeline.tokens, events, rate, args.seconds,
                                          args.tick_ms / 1000, seen)
    backlog = await pipeline.until_processed("event", sent_before + accepted, args.drain_seconds)
    await asyncio.sleep(1.0)  # the last outputs reach the topics and casework
    if backlog == float("inf"):  # let the queue empty before the next rate, uncounted
        await pipeline.until_processed("event", sent_before + accepted, 3 * args.drain_seconds)
    result = {"rate": rate, "planned": len(events), "accepted": accepted,
              "send_late_p99_ms": round(percentile(late, 99) * 1000, 1) if late else None,
              "matching_caught_up_after_s": round(backlog, 2) if backlog != float("inf") else None,
              **figures(seen, ids)}
    verdict = sustained(len(events), accepted, percentile(late, 99) if late else 0.0,
                        result["offer_from_202"]["p99_ms"], backlog)
    result["sustained"], result["why"] = verdict.sustained, verdict.why
    return result


def plan_size(args: argparse.Namespace) -> int:
    """An upper bound of the events the sweep sends (it only spaces the simulated clock)."""
    return int((sum(args.rates) + 5 * args.ceiling) * args.seconds + 100 * args.warmup)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = load_settings()
    contract = load_contract()
    pseudonymise = Pseudonymiser(settings.pseudonym_key).person_id
    now = dt.datetime.now(dt.UTC)
    population = generate_population(args.households, seed=args.seed, census_date=now.date(), person_id=pseudonymise)
    stream = department_events(population, contract, seed=args.seed, clock=ScenarioClock.ending(
        now, plan_size(args), dt.timedelta(days=30)), bad_fraction=0.0)
    districts = sorted({h.district.code for h in population.households})
    run_dir = run_folder(settings, "latency")
    print(f"logs in {run_dir}", flush=True)
    pipeline = Pipeline(settings, contract, run_dir, Ports(args.port_base))
    try:
        await pipeline.start()
        return {**await measure(pipeline, population, contract, stream, districts, args), "logs": str(run_dir)}
    finally:
        pipeline.stop()
        drop_tables(run_dir)


async def measure(pipeline: Pipeline, population: Any, contract: Contract, stream: Iterator[dict[str, Any]],
                  districts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    settings = pipeline.settings
    producer = durable_producer(settings.kafka_bootstrap, "bench-latency")
    await producer.start()
    try:
        records = list(population.records(dt.datetime.now(dt.UTC) - dt.timedelta(days=60)))
        await RegistryPublisher(producer, contract).publish(records)
    finally:
        await producer.stop()
    if await pipeline.until_processed("registry", len(records), 300) == float("inf"):
        raise RuntimeError("matching did not read the registry within 300 s")
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False,
                                fetch_max_wait_ms=20, isolation_level="read_committed")
    await consumer.start()
    partitions = [TopicPartition(t.name, p) for t in (OFFERS, TASKS, EVENTS, MATCHING_INBOX)
                  for p in range(t.partitions)]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for tp in partitions:
        await consumer.position(tp)
    seen, stop = Observed(), asyncio.Event()
    redis = pooled_redis(settings.redis_url, 8, 2.0)
    headers = {"Authorization": f"Bearer {pipeline.staff_token(districts)}"}
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session, \
            aiohttp.ClientSession(headers=headers) as api:
        readers = [asyncio.create_task(read_outputs(consumer, contract, seen, stop)),
                   asyncio.create_task(watch_casework(redis, Keys(), seen, api, pipeline.casework_url, stop,
                                                      args.poll_ms / 1000))]
        try:
            rates: list[dict[str, Any]] = []
            await send_open_loop(session, pipeline.intake_url, pipeline.tokens,
                                 [next(stream) for _ in range(round(100 * args.warmup))], 100, args.warmup, 0.01, seen)
            await asyncio.sleep(2.0)
            began = time.monotonic()
            while (rate := next_rate([(r["rate"], r["sustained"]) for r in rates], args.rates,
                                     args.ceiling)) is not None:
                if time.monotonic() - began > args.budget:
                    print(f"time budget of {args.budget:.0f} s spent: no further rates", flush=True)
                    break
                sent = await pipeline.matching_processed("event")
                result = await one_rate(pipeline, session, stream, rate, args, seen, sent)
                rates.append(result)
                print(line(result), flush=True)
            capacity = max((r["rate"] for r in rates if r["sustained"]), default=0.0)
            half = capacity / 2
            at_half = next((r for r in rates if r["rate"] == half), None)
            if capacity and at_half is None and time.monotonic() - began <= args.budget + 120:
                sent = await pipeline.matching_processed("event")
                at_half = await one_rate(pipeline, session, stream, half, args, seen, sent)
                at_half["half_of_capacity"] = True
                rates.append(at_half)
                print(line(at_half), flush=True)
        finally:
            stop.set()
            await asyncio.gather(*readers, return_exceptions=True)
            await consumer.stop()
            await redis.aclose()
    p99 = at_half["offer_from_202"]["p99_ms"] if at_half else None
    task_p99 = at_half["task_in_casework_from_202"]["p99_ms"] if at_half else None
    return {"load_average_1m_at_end": round(os.getloadavg()[0], 2), "households": len(population.households),
            "seconds_per_rate": args.seconds, "tick_ms": args.tick_ms,
            "poll_ms": args.poll_ms, "rates": sorted(rates, key=lambda r: r["rate"]),
            "capacity_events_per_second": capacity, "half_capacity_events_per_second": half,
            "half_capacity_offer_p99_ms": p99, "half_capacity_task_p99_ms": task_p99,
            "target_p99_ms": TARGET_P99_MS,
            "target_met": p99 is not None and task_p99 is not None and max(p99, task_p99) <= TARGET_P99_MS,
            "sweep_seconds": round(time.monotonic() - began), "further_offers_per_event": seen.further_offers,
            "api_checked_tasks": seen.api_checked,
            "api_problems": seen.api_problems[:10]}


def line(r: dict[str, Any]) -> str:
    o, t = r["offer_from_202"], r["task_in_casework_from_202"]
    ways = "  ".join(f"{name} p50 {h['p50_ms']} p99 {h['p99_ms']}" for name, h in r["hops"].items())
    return (f"{r['rate']:>7,.0f}/s  accepted {r['accepted']:>6,}/{r['planned']:<6,}  offers {o['count']:>5,} "
            f"p50 {o['p50_ms']} p99 {o['p99_ms']} max {o['max_ms']} ms  tasks {t['count']:>5,} p50 {t['p50_ms']} "
            f"p99 {t['p99_ms']} max {t['max_ms']} ms  {'kept up' if r['sustained'] else r['why']}\n"
            f"         hops (ms): {ways}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="./run bench latency")
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rates", type=lambda s: [float(x) for x in s.split(",")], default=[100, 500, 1000])
    parser.add_argument("--ceiling", type=float, default=8000, help="highest rate the sweep tries")
    parser.add_argument("--tick-ms", type=float, default=10)
    parser.add_argument("--poll-ms", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=3, help="seconds at 100/s before measuring")
    parser.add_argument("--drain-seconds", type=float, default=60)
    parser.add_argument("--budget", type=float, default=600,
                        help="seconds of sweeping after which no further rate starts (half of capacity may still run)")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--port-base", type=int, default=18180, help="intake on it, casework +2/+4, matching +6")
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()
    stop_on_sigterm()
    result = asyncio.run(run(args))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"capacity {result['capacity_events_per_second']:,.0f} events/s; at half of it p99 offer "
          f"{result['half_capacity_offer_p99_ms']} ms, task {result['half_capacity_task_p99_ms']} ms: target "
          f"{'met' if result['target_met'] else 'not met'} (p99 <= {TARGET_P99_MS:.0f} ms)")


if __name__ == "__main__":
    main()
