"""Intake throughput and latency against a raw aiokafka producer, measured in the same run.

    ./run bench intake [--events 100000] [--batch 1000] [--concurrency 4] [--rate 500] [--seconds 20]

1. raw: one aiokafka producer (acks=all, idempotent) sends the same, already encoded events to assist.events;
2. batches: HTTP batches of --batch events from --concurrency clients to a separate intake process;
3. latency: single events at a fixed --rate for --seconds, open loop (latency counts from the scheduled send
   time, so a stall is not hidden by the client waiting).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from services.core.codec import encode_event, event_from_json, load_contract
from services.core.identity import Pseudonymiser, check_character
from services.core.kafka import durable_producer
from services.core.progress_report import ProgressReport, progress_report
from services.core.settings import load_settings
from services.core.topics import EVENTS
from services.intake.adapters.tokens import TokenFile

PORT = 18080
PROGRESS_EVERY = 1000


def make_events(n: int) -> list[dict[str, Any]]:
    events = []
    for i in range(n):
        first17 = f"510107{1950 + i % 60:04d}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        events.append({
            "specversion": "1.0", "id": str(uuid.uuid4()), "source": "/departments/health/bench",
            "type": "hospitalisation.discharged", "time": "2026-11-20T08:30:00Z",
            "subject": first17 + check_character(first17),
            "data": {"discharged_on": "2026-11-19", "diagnosis_category": "CHRONIC", "total_cost_fen": 2_500_000,
                     "out_of_pocket_fen": 600_000 + i},
        })
    return events


async def raw_producer(events: list[dict[str, Any]], progress: ProgressReport) -> float:
    settings = load_settings()
    contract = load_contract()
    pseudonymiser = Pseudonymiser(settings.pseudonym_key)
    encoded = []
    for e in events:
        event = event_from_json(contract, e)
        event = event.with_subject(pseudonymiser.person_id(event.subject))
        encoded.append((event.subject.encode(), *encode_event(contract, event)))
    producer = durable_producer(settings.kafka_bootstrap, "bench-raw")
    await producer.start()
    try:
        started = time.perf_counter()
        futures = []
        for i, (key, value, headers) in enumerate(encoded, 1):
            futures.append(await producer.send(EVENTS.name, value, key=key, headers=headers))
            if i % PROGRESS_EVERY == 0:  # in steps, so that counting costs the baseline nothing
                progress.set(i)
        await asyncio.gather(*futures)
        progress.set(len(encoded))
        return len(events) / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def http_batches(events: list[dict[str, Any]], batch: int, concurrency: int, token: str,
                       progress: ProgressReport) -> float:
    bodies = [json.dumps(events[i:i + batch]).encode() for i in range(0, len(events), batch)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/cloudevents-batch+json"}
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def client(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            async with session.post(f"http://127.0.0.1:{PORT}/v1/events", data=body, headers=headers) as r:
                if r.status != 202:
                    raise RuntimeError(f"batch refused: {r.status} {await r.text()}")
            progress.advance(batch)

    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        return len(events) / (time.perf_counter() - started)


async def single_latency(events: list[dict[str, Any]], rate: float, token: str,
                         progress: ProgressReport) -> list[float]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/cloudevents+json"}
    bodies = [json.dumps(e).encode() for e in events]
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=200)

    async def one(session: aiohttp.ClientSession, body: bytes, scheduled: float) -> None:
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        async with session.post(f"http://127.0.0.1:{PORT}/v1/events", data=body, headers=headers) as r:
            await r.read()
            if r.status != 202:
                raise RuntimeError(f"event refused: {r.status}")
        latencies.append(loop.time() - scheduled)
        progress.advance()

    async with aiohttp.ClientSession(connector=connector) as session:
        start = loop.time() + 0.5
        await asyncio.gather(*(one(session, b, start + i / rate) for i, b in enumerate(bodies)))
    return sorted(latencies)


def percentile(sorted_values: list[float], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


async def wait_healthy() -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            try:
                async with session.get(f"http://127.0.0.1:{PORT}/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("intake did not start")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        tokens = TokenFile(Path(tmp) / "tokens.json")
        token = tokens.issue("health")
        env = {**os.environ, "ASSIST_INTAKE_PORT": str(PORT),
               "ASSIST_INTAKE_TOKENS_FILE": str(Path(tmp) / "tokens.json")}
        log = args.log.open("wb")  # one line per event accepted: kept out of the terminal
        server = await asyncio.to_thread(subprocess.Popen, [sys.executable, "-m", "services.intake", "serve"], env=env,
                                         stdout=log, stderr=subprocess.STDOUT)
        singles = int(args.rate * args.seconds)
        try:
            await wait_healthy()
            with progress_report("raw producer", args.events, "events") as progress:
                raw_rate = await raw_producer(make_events(args.events), progress)
            with progress_report("HTTP batches", args.events, "events") as progress:
                batch_rate = await http_batches(make_events(args.events), args.batch, args.concurrency, token,
                                                progress)
            with progress_report("single events", singles, "events") as progress:
                latencies = await single_latency(make_events(singles), args.rate, token, progress)
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    return {
        "events": args.events, "batch": args.batch, "concurrency": args.concurrency,
        "raw_producer_events_per_second": round(raw_rate),
        "http_batches_events_per_second": round(batch_rate),
        "batches_vs_raw": round(batch_rate / raw_rate, 3),
        "single_rate_per_second": args.rate,
        "single_p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "single_p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "single_max_ms": round(latencies[-1] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="./run bench intake")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--json", type=Path, default=Path("bench/results/intake.json"), help="where the result goes")
    parser.add_argument("--log", type=Path, default=Path("bench/results/intake-server.log"),
                        help="where the intake process's log lines go")
    args = parser.parse_args()
    args.log.parent.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(run(args))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
