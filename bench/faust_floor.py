"""What faust-streaming itself costs per event on this machine, without any of our code: a worker that only
iterates, one that also sends one record per event, one that also reads and writes a RocksDB-backed table.

    ./run bench faust_floor [--events 20000]

These are the ceilings any faust agent doing that much work can reach; bench.matching's figures read against them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from services.core.kafka import durable_producer
from services.core.settings import load_settings

MODES = ("iterate", "iterate+send", "iterate+table", "iterate+table+send")

WORKER = '''
import sys, time, faust
mode, source, sink, count, datadir = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
app = faust.App("floor-" + source, broker="kafka://" + sys.argv[6], store="rocksdb://", datadir=datadir,
                topic_partitions=8, key_serializer="raw", value_serializer="json", web_enabled=False,
                consumer_auto_offset_reset="earliest")
src = app.topic(source, key_type=bytes, value_type=bytes, value_serializer="raw")
out = app.topic(sink, key_type=bytes, value_type=bytes, value_serializer="raw")
table = app.Table("t", partitions=8, key_type=bytes)
seen = {"n": 0, "t0": 0.0}
@app.agent(src)
async def work(stream):
    async for event in stream.events():
        seen["t0"] = seen["t0"] or time.perf_counter()
        if "table" in mode:
            table[event.key] = {"c": (table.get(event.key) or {"c": 0})["c"] + 1, "pad": "x" * 400}
        if "send" in mode:
            await out.send(key=event.key, value=event.value)
        seen["n"] += 1
        if seen["n"] == count:
            sys.stderr.write(f"RATE {count / (time.perf_counter() - seen['t0']):.0f}\\n")
            sys.stderr.flush()
        yield None
sys.argv = [sys.argv[0], "worker", "-l", "warn"]
app.main()
'''


async def prepare(bootstrap: str, count: int) -> str:
    name = f"bench.floor.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(f"{name}.in", 8, 1), NewTopic(f"{name}.out", 8, 1)])
    await admin.close()
    producer = durable_producer(bootstrap, "bench-floor")
    await producer.start()
    futures = [await producer.send(f"{name}.in", b"v" * 300, key=str(i % 5000).encode()) for i in range(count)]
    await asyncio.gather(*futures)
    await producer.stop()
    return name


def rate(mode: str, name: str, count: int, bootstrap: str, tmp: Path) -> float:
    process = subprocess.Popen([sys.executable, "-c", WORKER, mode, f"{name}.in", f"{name}.out", str(count),
                                str(tmp / mode), bootstrap], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    assert process.stderr is not None
    deadline = time.monotonic() + 300
    try:
        for line in process.stderr:
            if "RATE " in line:  # faust routes a worker's stderr through its logger
                return float(line.split("RATE ", 1)[1].split()[0])
            if time.monotonic() > deadline:
                break
        raise RuntimeError(f"faust worker for {mode} did not finish")
    finally:
        process.terminate()
        process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(prog="./run bench faust_floor")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--json", type=Path, default=Path("bench/results/faust_floor.json"),
                        help="where the result goes")
    args = parser.parse_args()
    bootstrap = load_settings().kafka_bootstrap
    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in MODES:
            name = asyncio.run(prepare(bootstrap, args.events))
            result[f"faust_{mode}_events_per_second"] = round(rate(mode, name, args.events, bootstrap, Path(tmp)))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    for key, value in result.items():
        print(f"{key:<45} {value}")


if __name__ == "__main__":
    main()
