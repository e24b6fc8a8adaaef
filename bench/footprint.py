"""What the platform stores per person, event, offer and task, measured: the matching worker's RocksDB stores, the
bytes each topic's records take on the broker's disk, and Redis memory per key family. Input of the capacity plan.

    ./run bench footprint [--households 10000] [--events-per-household 2]

1. A matching worker (its own consumer group and data folder) reads the simulator's population of --households
   from the registry, stops (RocksDB flushes on close) and its data folder is measured; it starts again, reads
   --events-per-household department events each (published at once; their rate through the worker is reported
   too, with the demo catalogue), stops, and is measured again.
2. Broker: the bytes of the log segments (*.log) of each topic before and after, with the records added (end
   offsets), give bytes per record on disk for assist.registry, assist.events, the routing hop
   assist.matching.households, assist.offers, assist.tasks and the worker's changelog topics (one replica; Kafka's
   own batch framing included).
3. A notification worker (its own group, Redis database 9, flushed first) reads the offers of step 1: its memory per
   offer is the offer views, delivery jobs and verification holds it keeps (the synthetic persons have no contacts,
   so nothing is delivered and no inbox entry is written).
4. Redis (the stack's, ASSIST_REDIS_URL): MEMORY USAGE of every assist:* key, summed per family (the key's first
   three parts), with INFO memory; units counted the way each service stores them (a task is a task hash, an
   inbox entry is an element of an inbox list, an idempotency entry is one key).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis

from bench.pipeline import Pipeline, Ports, drop_tables, run_folder, stop_on_sigterm
from services.core.codec import encode_event, event_from_json, load_contract
from services.core.identity import Pseudonymiser
from services.core.kafka import durable_producer
from services.core.settings import PROJECT_ROOT, Settings, load_settings
from services.core.topics import EVENTS, MATCHING_INBOX, OFFERS, REGISTRY, TASKS
from services.simulator.adapters.registry import RegistryPublisher
from services.simulator.population import generate_population
from services.simulator.scenario import ScenarioClock, department_events

RESULTS = PROJECT_ROOT / "bench" / "results" / "footprint.json"
NOTIFICATION_DB = 9
"""The Redis database (of the stack's server) the notification worker of the run writes to; flushed first."""


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def compacted_sst_bytes(store: Path) -> int:
    """Bytes of the stores' SST files after a full compaction of each (the worker stopped): the live data only,
    without the versions a store keeps until RocksDB compacts them in its own time."""
    from rocksdict import Options, Rdict

    for current in store.rglob("CURRENT"):
        db = Rdict(str(current.parent), options=Options(raw_mode=True))
        db.compact_range(None, None)
        db.close()
    return sum(p.stat().st_size for p in store.rglob("*.sst"))


def topic_log_bytes(kafka_dir: Path) -> dict[str, int]:
    """Bytes of every topic's log segments in the broker's data folder (folders are <topic>-<partition>)."""
    sizes: Counter[str] = Counter()
    for partition in kafka_dir.iterdir():
        if partition.is_dir() and "-" in partition.name:
            topic = partition.name.rsplit("-", 1)[0]
            sizes[topic] += sum(f.stat().st_size for f in partition.glob("*.log"))
    return dict(sizes)


def partition_folders(kafka_dir: Path, topics: list[str]) -> list[TopicPartition]:
    return [TopicPartition(d.name.rsplit("-", 1)[0], int(d.name.rsplit("-", 1)[1]))
            for d in kafka_dir.iterdir() if d.is_dir() and d.name.rsplit("-", 1)[0] in topics]


async def record_counts(bootstrap: str, kafka_dir: Path, topics: list[str]) -> dict[str, int]:
    """Records ever written to each of `topics` (the sum of its partitions' end offsets); the partitions are the
    broker's <topic>-<n> folders."""
    partitions = partition_folders(kafka_dir, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        counts: Counter[str] = Counter()
        for tp, end in (await consumer.end_offsets(partitions)).items():
            counts[tp.topic] += end
        return dict(counts)
    finally:
        await consumer.stop()


async def latest_per_key(bootstrap: str, kafka_dir: Path, topic: str) -> tuple[int, int, int]:
    """(distinct keys, bytes of their latest key and value, bytes of every record's key and value) of `topic`:
    what compaction leaves of a changelog, against what was written."""
    partitions = partition_folders(kafka_dir, [topic])
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=16 * 1024 * 1024)
    await consumer.start()
    latest: dict[bytes, int] = {}
    written = 0
    try:
        ends = await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        for _ in range(100_000):  # bounded: a few hundred batches are expected
            behind = [tp for tp in partitions if await consumer.position(tp) < ends[tp]]
            if not behind:
                break
            for records in (await consumer.getmany(*behind, timeout_ms=1000, max_records=5000)).values():
                for r in records:
                    size = len(r.key or b"") + len(r.value or b"")
                    written += size
                    latest[r.key or b""] = size
    finally:
        await consumer.stop()
    return len(latest), sum(latest.values()), written


async def matching_and_broker(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    contract = load_contract()
    pseudonymise = Pseudonymiser(settings.pseudonym_key).person_id
    now = dt.datetime.now(dt.UTC)
    population = generate_population(args.households, seed=args.seed, census_date=now.date(), person_id=pseudonymise)
    persons = sum(len(h.members) for h in population.households)
    n_events = round(args.households * args.events_per_household)
    stream = department_events(population, contract, seed=args.seed, clock=ScenarioClock.ending(
        now, n_events, dt.timedelta(days=365)), bad_fraction=0.0)
    events = []
    for _ in range(n_events):
        event = event_from_json(contract, next(stream))
        event = event.with_subject(pseudonymise(event.subject))
        events.append((event.subject.encode(), *encode_event(contract, event)))
    kafka_dir = settings.data_dir / "kafka" / "data"
    run_dir = run_folder(settings, "footprint")
    server = settings.redis_url.rsplit("/", 1)[0] if settings.redis_url.count("/") > 2 else settings.redis_url
    inboxes = f"{server}/{NOTIFICATION_DB}"
    flushed = Redis.from_url(inboxes)
    await flushed.flushdb()
    await flushed.aclose()
    pipeline = Pipeline(settings, contract, run_dir, Ports(args.port_base), notification_redis=inboxes)
    store = run_dir / "matching"
    try:
        await pipeline.start(only=("matching", "notification"))
        topics = [REGISTRY.name, EVENTS.name, MATCHING_INBOX.name, OFFERS.name, TASKS.name]
        logs_before = topic_log_bytes(kafka_dir)
        producer = durable_producer(settings.kafka_bootstrap, "bench-footprint")
        await producer.start()
        try:
            counts_before = await record_counts(settings.kafka_bootstrap, kafka_dir, topics)
            records = list(population.records(now - dt.timedelta(days=60)))
            await RegistryPublisher(producer, contract).publish(records)
            if await pipeline.until_processed("registry", len(records), 600) == float("inf"):
                raise RuntimeError("matching did not read the registry in 600 s")
            pipeline.stop()
            registry_store = folder_bytes(store)
            await pipeline.resume("matching")
            started = asyncio.get_running_loop().time()
            pending = [await producer.send(EVENTS.name, value, key=key, headers=headers)
                       for key, value, headers in events]
            await asyncio.gather(*pending)
            if await pipeline.until_processed("event", n_events, 900) == float("inf"):
                raise RuntimeError("matching did not read the events in 900 s")
            rate = n_events / (asyncio.get_running_loop().time() - started)
            await asyncio.sleep(5)  # outputs and changelog writes acknowledged
            notification = await settled_inboxes(inboxes, 180)
        finally:
            await producer.stop()
        pipeline.stop()
        events_store = folder_bytes(store)
        compacted_store = compacted_sst_bytes(store)
        changelogs = sorted(t for t in topic_log_bytes(kafka_dir) if t.startswith(pipeline.app_id))
        logs_after = topic_log_bytes(kafka_dir)
        counts_after = await record_counts(settings.kafka_bootstrap, kafka_dir, topics + changelogs)
    finally:
        pipeline.stop()
        drop_tables(run_dir)
    per_record: dict[str, dict[str, Any]] = {}
    compacted = 0.0
    for topic in topics + changelogs:
        added = counts_after.get(topic, 0) - counts_before.get(topic, 0)
        grown = logs_after.get(topic, 0) - logs_before.get(topic, 0)
        name = "changelog " + topic.removeprefix(pipeline.app_id + "-") if topic in changelogs else topic
        per_record[name] = {"records": added, "bytes": grown,
                            "bytes_per_record": round(grown / added, 1) if added > 0 else None}
        if topic in changelogs and added > 0:
            keys, latest, written = await latest_per_key(settings.kafka_bootstrap, kafka_dir, topic)
            framing = (grown - written) / added  # Kafka's bytes per record beyond key and value
            per_record[name].update(distinct_keys=keys, compacted_bytes=round(latest + keys * framing))
            compacted += latest + keys * framing
    return {"logs": str(run_dir), "households": args.households, "persons": persons, "events": n_events,
            "events_per_second": round(rate, 1),
            "rocksdb_bytes_after_registry": registry_store,
            "rocksdb_bytes_per_person_after_registry": round(registry_store / persons, 1),
            "rocksdb_bytes_after_events": events_store,
            "rocksdb_bytes_per_person_after_events": round(events_store / persons, 1),
            "rocksdb_sst_bytes_compacted": compacted_store,
            "rocksdb_bytes_per_person_compacted": round(compacted_store / persons, 1),
            "changelog_bytes_per_person_compacted": round(compacted / persons, 1),
            "topics_on_disk": per_record, "notification_redis": notification,
            "notification_bytes_per_offer": round(sum(f["bytes"] for f in notification["families"].values())
                                                  / per_record[OFFERS.name]["records"], 1)
            if per_record[OFFERS.name]["records"] else None}


SIZE_OF: dict[bytes, Callable[[Redis, bytes], Awaitable[int]]] = {
    b"list": lambda r, k: r.llen(k), b"zset": lambda r, k: r.zcard(k), b"hash": lambda r, k: r.hlen(k),
    b"set": lambda r, k: r.scard(k), b"stream": lambda r, k: r.xlen(k)}
"""Elements of a key, by its type."""


async def settled_inboxes(url: str, seconds: float) -> dict[str, Any]:
    """Redis families of notification's database once its inbox entries stopped growing for 5 s (bounded)."""
    loop = asyncio.get_running_loop()
    deadline, last, still_since = loop.time() + seconds, -1, loop.time()
    while loop.time() < deadline:
        families = await redis_families(url)
        if families["notification_inbox_entries"] != last:
            last, still_since = families["notification_inbox_entries"], loop.time()
        elif loop.time() - still_since >= 5:
            return families
        await asyncio.sleep(1)
    return await redis_families(url)


async def redis_families(url: str) -> dict[str, Any]:
    redis = Redis.from_url(url, decode_responses=False)
    try:
        bytes_by: Counter[str] = Counter()
        keys_by: Counter[str] = Counter()
        inbox_entries = 0
        batch: list[bytes] = []

        async def measure(keys: list[bytes]) -> None:
            nonlocal inbox_entries
            pipe = redis.pipeline(transaction=False)
            for key in keys:
                pipe.memory_usage(key, samples=0)
            sizes = await pipe.execute()
            for key, size in zip(keys, sizes, strict=True):
                family = ":".join(key.decode(errors="replace").split(":")[:3])
                bytes_by[family] += int(size or 0)
                keys_by[family] += 1
                if family == "assist:notification:inbox":
                    kind = await redis.type(key)
                    inbox_entries += await SIZE_OF[kind if isinstance(kind, bytes) else kind.encode()](redis, key)

        async for key in redis.scan_iter(match="assist:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                await measure(batch)
                batch = []
        if batch:
            await measure(batch)
        memory = await redis.info("memory")
        families = {f: {"keys": keys_by[f], "bytes": bytes_by[f], "bytes_per_key": round(bytes_by[f] / keys_by[f], 1)}
                    for f in sorted(bytes_by)}
        casework = sum(v for f, v in bytes_by.items() if f.startswith("assist:casework:"))
        tasks = keys_by.get("assist:casework:task", 0)
        notification_inbox = bytes_by.get("assist:notification:inbox", 0) + \
            bytes_by.get("assist:notification:inbox-ids", 0)
        return {"used_memory": memory.get("used_memory"), "used_memory_dataset": memory.get("used_memory_dataset"),
                "families": families, "casework_tasks": tasks,
                "casework_bytes_per_task": round(casework / tasks, 1) if tasks else None,
                "notification_inbox_entries": inbox_entries,
                "notification_inbox_bytes_per_entry": round(notification_inbox / inbox_entries, 1)
                if inbox_entries else None,
                "intake_seen_bytes_per_event": families.get("assist:intake:seen", {}).get("bytes_per_key")}
    finally:
        await redis.aclose()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = load_settings()
    result: dict[str, Any] = {"load_average_1m": round(os.getloadavg()[0], 2)}
    if not args.redis_only:
        result["matching"] = await matching_and_broker(settings, args)
    result["redis"] = await redis_families(settings.redis_url)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="./run bench footprint")
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--events-per-household", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--port-base", type=int, default=18190, help="the matching worker's web port is this + 6")
    parser.add_argument("--redis-only", action="store_true", help="only measure Redis as it is")
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()
    stop_on_sigterm()
    result = asyncio.run(run(args))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
