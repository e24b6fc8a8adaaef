"""Every benchmark of bench/, one after the other, each in its own process; one table and one JSON.

    ./run bench all [--only intake,latency] [--skip oracle] [--timeout 900] [--json bench/results/all.json]

Sizes are chosen so the whole runs in about 30 minutes on two cores (the oracle at 10,000 households instead of
its 100,000). Each benchmark writes its JSON result to bench/results/<name>.json, where the next run of capacity (the
plan's derivation, last) reads them; a benchmark that fails or runs past --timeout is reported as such and the
others still run. Each one's output goes to a log in the run's folder, named at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.pipeline import wait_or_kill
from bench.summary import Row, headlines, table
from services.core.settings import PROJECT_ROOT, load_settings

RESULTS = PROJECT_ROOT / "bench" / "results"
PORT_BASE = int(os.environ.get("ASSIST_BENCH_PORT_BASE", "18180"))
"""Ports of the processes the latency and footprint benchmarks start (ASSIST_BENCH_PORT_BASE)."""


@dataclass(frozen=True)
class Benchmark:
    name: str
    args: tuple[str, ...] = ()
    takes_json: bool = True
    """Whether it takes --json PATH (given bench/results/<name>.json); the others write there themselves."""
    env: tuple[tuple[str, str], ...] = ()
    """Settings for its process and the services it starts."""


BENCHMARKS = (
    # Throttling is not what intake's benchmark measures: its one department may send as fast as intake takes it.
    Benchmark("intake", env=(("ASSIST_INTAKE_RATE_PER_SECOND", "1000000"), ("ASSIST_INTAKE_RATE_BURST", "1000000"))),
    Benchmark("matching", takes_json=False),
    Benchmark("reevaluation", takes_json=False),
    Benchmark("casework"),
    Benchmark("notification"),
    Benchmark("faust_floor"),
    Benchmark("oracle", ("--households", "10000")),
    Benchmark("latency", ("--port-base", str(PORT_BASE))),
    Benchmark("footprint", ("--port-base", str(PORT_BASE + 10))),
    Benchmark("capacity"),
)
"""In this order: capacity derives the plan from the results the others wrote."""


def run_one(bench: Benchmark, out_dir: Path, timeout: float) -> dict[str, Any]:
    target = RESULTS / f"{bench.name}.json"
    command = [sys.executable, "-m", f"bench.{bench.name}", *bench.args]
    if bench.takes_json:
        command += ["--json", str(target)]
    log_path = out_dir / f"{bench.name}.log"
    started = time.time()
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
                                   env={**os.environ, **dict(bench.env)})
        try:
            code: int | None = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.terminate()
            wait_or_kill(process)
            code = None
    seconds = time.time() - started
    fresh = target.exists() and target.stat().st_mtime >= started
    result = json.loads(target.read_text(encoding="utf-8")) if fresh else None
    status = "timed out" if code is None else "ok" if code == 0 and fresh else \
        f"exit {code}" if code else "no result written"
    return {"status": status, "seconds": round(seconds, 1), "command": command[1:], "log": str(log_path),
            "result": result}


def _names(text: str) -> list[str]:
    return [x for x in text.split(",") if x]


def main() -> None:
    parser = argparse.ArgumentParser(prog="./run bench all")
    names = [b.name for b in BENCHMARKS]
    parser.add_argument("--only", type=_names, default=names, help="comma-separated benchmarks to run")
    parser.add_argument("--skip", type=_names, default=[], help="comma-separated benchmarks to leave out")
    parser.add_argument("--timeout", type=float, default=900, help="seconds one benchmark may take")
    parser.add_argument("--json", type=Path, default=RESULTS / "all.json")
    args = parser.parse_args()
    unknown = sorted(set(args.only + args.skip) - set(names))
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)} (there are {', '.join(names)})")
    chosen = [b for b in BENCHMARKS if b.name in args.only and b.name not in args.skip]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    out_dir = load_settings().data_dir / "bench-all" / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    began = time.time()
    runs: dict[str, Any] = {}
    rows: list[Row] = []
    for bench in chosen:
        print(f"{bench.name}: running (log {out_dir / bench.name}.log)", flush=True)
        runs[bench.name] = run_one(bench, out_dir, args.timeout)
        outcome = runs[bench.name]
        print(f"{bench.name}: {outcome['status']} in {outcome['seconds']:.0f} s", flush=True)
        if outcome["result"] is not None:
            rows += headlines(bench.name, outcome["result"])
        else:
            rows.append((bench.name, "result", "—", f"{outcome['status']}; see {outcome['log']}"))
    total = time.time() - began
    print()
    print("\n".join(table(rows)))
    print(f"\n{len(chosen)} benchmarks in {total / 60:.1f} min; load average now {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores; logs in {out_dir}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "started_at": dt.datetime.fromtimestamp(began, dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(total, 1), "cpu_count": os.cpu_count(), "load_average_1m_at_end": os.getloadavg()[0],
        "table": [dict(zip(("benchmark", "figure", "value", "next_to"), row, strict=True)) for row in rows],
        "benchmarks": runs}, indent=2) + "\n")
    if any(r["status"] != "ok" for r in runs.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
