"""Matching throughput per worker with 10, 100 and 1,000 policies, next to a raw aiokafka consume→produce
passthrough of the same records, measured in the same run; and the worker's memory per monitored person.

    ./run bench matching [--households 10000] [--events 30000] [--policies 10,100,1000] [--workers 1] [--profile]

With --workers N, N worker processes of one consumer group share the partitions (rates are of the group). The
workers' web ports start at ASSIST_MATCHING_WEB_PORT when it is set (else 16066). With --profile, py-spy
samples the worker while it processes the events of the largest catalogue; the flame data and the top of the
profile (bench/profile.py) go to bench/results.

Each measurement starts with the consumer (passthrough loop or matching worker) running and idle, then publishes
all events as fast as the producer goes and stops the clock when the last one was processed (matching: applied
to its household and evaluated; passthrough: produced and acknowledged). The registry is loaded before.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.catalogues import catalogue_of
from bench.profile import Profiler
from services.core.codec import Contract, encode_event, encode_record, event_from_json, load_contract
from services.core.identity import Pseudonymiser
from services.core.kafka import commit_group_at_end, durable_producer
from services.core.progress_report import ProgressReport, progress_report
from services.core.settings import PROJECT_ROOT, load_settings
from services.core.topics import EVENTS, MATCHING_INPUTS, MATCHING_MEMBERSHIP, REGISTRY, Topic
from services.matching.adapters.catalogue_feed import publish_catalogue
from services.simulator.population import generate_population
from services.simulator.scenario import ScenarioClock, department_events

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]


Prepared = tuple[list[Record], list[Record], int, tuple[str, ...]]


def prepare(households: int, events: int, contract: Contract) -> Prepared:
    """Registry records and pseudonymised, Avro-encoded events (as intake writes them) of one population."""
    pseudonymise = Pseudonymiser(load_settings().pseudonym_key).person_id
    now = dt.datetime.now(dt.UTC)
    population = generate_population(households, seed=int(time.time()) % 100_000, census_date=now.date(),
                                     person_id=pseudonymise)
    registry: list[Record] = [(r["household_id"].encode(), encode_record(contract, "household", r), [])
                for r in population.records(now - dt.timedelta(days=60))]
    stream = department_events(population, contract, seed=11, clock=ScenarioClock.ending(
        now, events, dt.timedelta(days=30)), bad_fraction=0.0)
    encoded: list[Record] = []
    for structured in stream:
        event = event_from_json(contract, structured)
        event = event.with_subject(pseudonymise(event.subject))
        value, headers = encode_event(contract, event)
        encoded.append((event.subject.encode(), value, headers))
        if len(encoded) == events:
            break
    districts = tuple(sorted({h.district.code for h in population.households}))
    persons = sum(len(h.members) for h in population.households)
    return registry, encoded, persons, districts


async def produce(producer: AIOKafkaProducer, topic: str, records: list[Record]) -> None:
    futures = [await producer.send(topic, value, key=key, headers=headers) for key, value, headers in records]
    await asyncio.gather(*futures)


async def passthrough(bootstrap: str, records: list[Record]) -> float:
    """A raw aiokafka consume→produce loop over the same records; events per second."""
    name = f"bench.passthrough.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(f"{name}.in", 8, 1), NewTopic(f"{name}.out", 8, 1)])
    await admin.close()
    consumer = AIOKafkaConsumer(f"{name}.in", bootstrap_servers=bootstrap, group_id=name,
                                auto_offset_reset="earliest", enable_auto_commit=True)
    out = durable_producer(bootstrap, "bench-passthrough-out")
    source = durable_producer(bootstrap, "bench-passthrough-in")
    await asyncio.gather(consumer.start(), out.start(), source.start())
    try:
        await asyncio.sleep(2)  # joined and assigned
        started = time.perf_counter()
        feeding = asyncio.create_task(produce(source, f"{name}.in", records))
        done = 0
        pending = []
        while done < len(records):
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                for r in batch:
                    pending.append(await out.send(f"{name}.out", r.value, key=r.key, headers=list(r.headers)))
                done += len(batch)
        await asyncio.gather(*pending, feeding)
        return len(records) / (time.perf_counter() - started)
    finally:
        await asyncio.gather(consumer.stop(), out.stop(), source.stop())


POLL_SECONDS = 0.25
"""How often the workers' metrics are read (each read costs the worker a page; 0.25 s on 30 s is under 1 %)."""


def web_port() -> int:
    return int(os.environ.get("ASSIST_MATCHING_WEB_PORT", "16066"))


class Worker:
    """One matching worker process of the consumer group `app_id` (workers of one group share the partitions)."""

    def __init__(self, tmp: Path, catalogue: str, port: int, app_id: str):
        self.app_id = app_id
        self.port = port
        data = tmp / f"{app_id}-{port}"
        env = {**os.environ, "ASSIST_MATCHING_APP_ID": app_id, "ASSIST_MATCHING_CATALOGUE": catalogue,
               "ASSIST_MATCHING_WEB_PORT": str(port), "ASSIST_DATA_DIR": str(data)}
        self.log = (tmp / f"{app_id}-{port}.log").open("wb")
        self.process = subprocess.Popen([sys.executable, "-m", "services.matching", "worker"], env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)

    def page(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as refused:
            return refused.code, ""
        except OSError:
            return -1, ""

    def metric(self, name: str, labels: str = "") -> float:
        status, text = self.page("/metrics")
        if status != 200:
            return -1
        found = re.findall(re.escape(name) + (r"\{" + labels + r"\}" if labels else r"(?:\{[^}]*\})?")
                           + r" ([0-9.e+]+)", text)
        return sum(float(v) for v in found) if found else 0

    def log_tail(self, chars: int = 12000) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-chars:]

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


class Group:
    """`count` workers of one consumer group; figures are summed over them."""

    def __init__(self, tmp: Path, catalogue: str, count: int):
        app_id = f"assist-matching-bench-{uuid.uuid4().hex[:8]}"
        self.app_id = app_id
        self.workers = [Worker(tmp, catalogue, web_port() + i, app_id) for i in range(count)]

    def metric(self, name: str, labels: str = "") -> float:
        return sum(max(w.metric(name, labels), 0) for w in self.workers)

    def rss_bytes(self) -> int:
        return sum(w.rss_bytes() for w in self.workers)

    async def until(self, name: str, labels: str, target: float, seconds: float = 600, each: bool = False,
                    shown: str | None = None) -> None:
        """Until the figure summed over the workers (each: every worker's own) reaches `target`; `shown` names the
        work on a progress report (the figure counted against the target)."""
        if shown is None:
            await self._until(name, labels, target, seconds, each, None)
            return
        with progress_report(shown, int(target), "messages") as progress:
            await self._until(name, labels, target, seconds, each, progress)

    async def _until(self, name: str, labels: str, target: float, seconds: float, each: bool,
                     progress: ProgressReport | None) -> None:
        deadline = time.monotonic() + seconds
        while True:
            figures = [w.metric(name, labels) for w in self.workers]
            reached = min(figures) if each else sum(max(f, 0) for f in figures)
            if progress is not None:
                progress.set(int(reached))
            if reached >= target:
                return
            dead = [w for w in self.workers if w.process.poll() is not None]
            if time.monotonic() > deadline or dead:
                worker = dead[0] if dead else self.workers[0]
                raise RuntimeError(f"workers did not reach {name}{{{labels}}} >= {target}; a log ends:\n"
                                   + worker.log_tail())
            await asyncio.sleep(POLL_SECONDS)

    async def ready(self, seconds: float = 180) -> None:
        """Every worker has partitions and a catalogue (/readyz), twice in a row a second apart (settled)."""
        deadline = time.monotonic() + seconds
        settled = 0
        while settled < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("workers not ready; a log ends:\n" + self.workers[-1].log_tail())
            settled = settled + 1 if all(w.page("/readyz")[0] == 200 for w in self.workers) else 0
            await asyncio.sleep(1)

    def stop(self) -> None:
        for worker in self.workers:
            worker.process.terminate()
        for worker in self.workers:
            worker.process.wait(timeout=60)


async def caught_up(bootstrap: str, group: str, topic: Topic, seconds: float = 300) -> None:
    """Until `group` has committed every record of `topic` (faust commits every few seconds)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await asyncio.gather(admin.start(), consumer.start())
    try:
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ends = await consumer.end_offsets(partitions)
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
            if all(ends[tp] == 0 or (tp in committed and committed[tp].offset >= ends[tp]) for tp in partitions):
                return
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{group} did not catch up on {topic.name} in {seconds:.0f} s")
    finally:
        await asyncio.gather(admin.close(), consumer.stop())


async def matching_run(bootstrap: str, contract: Contract, policies: int, registry: list[Record],
                       events: list[Record], districts: tuple[str, ...], tmp: Path, workers: int = 1,
                       profile: Path | None = None) -> dict[str, float]:
    name = f"bench-{policies}-{uuid.uuid4().hex[:6]}"
    await publish_catalogue(bootstrap, contract, catalogue_of(policies, districts, name), f"bench {policies}")
    group = Group(tmp, name, workers)
    await commit_group_at_end(bootstrap, group.app_id, MATCHING_INPUTS)
    try:
        await group.until("assist_matching_catalogue_info", "", 1, seconds=180, each=True)
        await group.ready()
        idle_rss = group.rss_bytes()
        producer = durable_producer(bootstrap, "bench-matching")
        await producer.start()
        try:
            await produce(producer, REGISTRY.name, registry)
            await group.until("assist_matching_messages_processed_total", 'kind="registry"', len(registry),
                              shown=f"registry records ({policies} policies)")
            await caught_up(bootstrap, group.app_id, MATCHING_MEMBERSHIP)  # no event waits for its person
            loaded_rss = group.rss_bytes()
            sampling = Profiler(group.workers[0].process.pid, profile) if profile else None
            started = time.perf_counter()
            await produce(producer, EVENTS.name, events)
            await group.until("assist_matching_messages_processed_total", 'kind="event"', len(events),
                              shown=f"events matched ({policies} policies)")
            rate = len(events) / (time.perf_counter() - started)
            if sampling:
                sampling.stop()
        finally:
            await producer.stop()
        return {"events_per_second": rate, "rss_growth_bytes": loaded_rss - idle_rss,
                "latency_sum": group.metric("assist_matching_processing_seconds_sum"),
                "latency_count": group.metric("assist_matching_processing_seconds_count")}
    finally:
        group.stop()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    bootstrap = load_settings().kafka_bootstrap
    contract = load_contract()
    registry, events, persons, districts = prepare(args.households, args.events, contract)
    result: dict[str, Any] = {"households": len(registry), "persons": persons, "events": len(events),
                              "workers": args.workers}
    result["passthrough_events_per_second"] = round(await passthrough(bootstrap, events))
    with tempfile.TemporaryDirectory() as tmp:
        for policies in args.policies:
            profile = args.profile and policies == max(args.policies)
            run_result = await matching_run(bootstrap, contract, policies, registry, events, districts, Path(tmp),
                                            args.workers, Path(args.profile_name) if profile else None)
            rate = run_result["events_per_second"]
            result[f"matching_{policies}_events_per_second"] = round(rate)
            result[f"matching_{policies}_vs_passthrough"] = round(rate / result["passthrough_events_per_second"], 3)
            result[f"matching_{policies}_mean_handling_ms"] = round(
                1000 * run_result["latency_sum"] / max(run_result["latency_count"], 1), 3)
            result[f"matching_{policies}_rss_bytes_per_person"] = round(run_result["rss_growth_bytes"] / persons)
    smallest, largest = min(args.policies), max(args.policies)
    result[f"per_event_cost_{largest}_vs_{smallest}"] = round(
        result[f"matching_{smallest}_events_per_second"] / result[f"matching_{largest}_events_per_second"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="./run bench matching")
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--policies", type=lambda s: [int(x) for x in s.split(",")], default=[10, 100, 1000])
    parser.add_argument("--workers", type=int, default=1, help="worker processes sharing the partitions")
    parser.add_argument("--json", type=Path, default=Path("bench/results/matching.json"), help="where the result goes")
    parser.add_argument("--profile", action="store_true", help="py-spy the worker (largest catalogue)")
    parser.add_argument("--profile-name", default="bench/results/matching-profile",
                        help="where the profile goes (.txt top, .raw collapsed stacks)")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
