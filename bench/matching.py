"""Matching throughput per worker with 10, 100 and 1,000 policies, next to a raw aiokafka consume→produce
passthrough of the same records, measured in the same run; and the worker's memory per monitored person.

    ./run bench matching [--households 10000] [--events 30000] [--policies 10,100,1000]

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
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.catalogues import catalogue_of
from services.core.codec import Contract, encode_event, encode_record, event_from_json, load_contract
from services.core.identity import Pseudonymiser
from services.core.kafka import commit_group_at_end, durable_producer
from services.core.settings import PROJECT_ROOT, load_settings
from services.core.topics import EVENTS, MATCHING_INPUTS, REGISTRY
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


class Worker:
    def __init__(self, tmp: Path, catalogue: str, port: int):
        self.app_id = f"assist-matching-bench-{uuid.uuid4().hex[:8]}"
        self.port = port
        env = {**os.environ, "ASSIST_MATCHING_APP_ID": self.app_id, "ASSIST_MATCHING_CATALOGUE": catalogue,
               "ASSIST_MATCHING_WEB_PORT": str(port), "ASSIST_DATA_DIR": str(tmp / self.app_id)}
        self.log = (tmp / f"{self.app_id}.log").open("wb")
        self.process = subprocess.Popen([sys.executable, "-m", "services.matching", "worker"], env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)

    def metric(self, name: str, labels: str = "") -> float:
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2).read().decode()
        except OSError:
            return -1
        found = re.findall(re.escape(name) + (r"\{" + labels + r"\}" if labels else r"(?:\{[^}]*\})?")
                           + r" ([0-9.e+]+)", text)
        return sum(float(v) for v in found) if found else 0

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    async def until(self, name: str, labels: str, target: float, seconds: float = 600) -> None:
        deadline = time.monotonic() + seconds
        while self.metric(name, labels) < target:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"worker did not reach {name}{{{labels}}} >= {target}; see {self.log.name}")
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


async def matching_run(bootstrap: str, contract: Contract, policies: int, registry: list[Record],
                       events: list[Record], districts: tuple[str, ...], tmp: Path) -> dict[str, float]:
    name = f"bench-{policies}-{uuid.uuid4().hex[:6]}"
    await publish_catalogue(bootstrap, contract, catalogue_of(policies, districts, name), f"bench {policies}")
    worker = Worker(tmp, name, 16066)
    await commit_group_at_end(bootstrap, worker.app_id, MATCHING_INPUTS)
    try:
        await worker.until("assist_matching_catalogue_info", "", 1, seconds=120)
        await asyncio.sleep(2)
        idle_rss = worker.rss_bytes()
        producer = durable_producer(bootstrap, "bench-matching")
        await producer.start()
        try:
            await produce(producer, REGISTRY.name, registry)
            await worker.until("assist_matching_messages_processed_total", 'kind="registry"', len(registry))
            loaded_rss = worker.rss_bytes()
            started = time.perf_counter()
            await produce(producer, EVENTS.name, events)
            await worker.until("assist_matching_messages_processed_total", 'kind="event"', len(events))
            rate = len(events) / (time.perf_counter() - started)
        finally:
            await producer.stop()
        return {"events_per_second": rate, "rss_growth_bytes": loaded_rss - idle_rss,
                "latency_sum": worker.metric("assist_matching_processing_seconds_sum"),
                "latency_count": worker.metric("assist_matching_processing_seconds_count")}
    finally:
        worker.stop()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    bootstrap = load_settings().kafka_bootstrap
    contract = load_contract()
    registry, events, persons, districts = prepare(args.households, args.events, contract)
    result: dict[str, Any] = {"households": len(registry), "persons": persons, "events": len(events)}
    result["passthrough_events_per_second"] = round(await passthrough(bootstrap, events))
    with tempfile.TemporaryDirectory() as tmp:
        for policies in args.policies:
            run_result = await matching_run(bootstrap, contract, policies, registry, events, districts, Path(tmp))
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
    result = asyncio.run(run(parser.parse_args()))
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "matching.json").write_text(json.dumps(result, indent=2))
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
