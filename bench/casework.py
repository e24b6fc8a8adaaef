"""Casework claim+decide throughput against the real Redis, with concurrent claimers racing for the same tasks,
verifying that no task was claimed twice or decided twice.

    ./run bench casework [--tasks 20000] [--claimers 50] [--processes 2] [--mode race|next] [--publish both|on|off]

Tasks are loaded into five district queues of Redis DB 13 (flushed; never DB 0). --claimers caseworkers (spread
over the districts and over --processes processes) then work until the queues are empty:
  race: read the head of the queue, claim a task picked at random among the first 16 (so claimers collide and
        get 409s), then approve it (one in ten is rejected with a reason);
  next: claim the next task atomically (claim-next), then decide it.
An operation is one transition: a successful claim or a decision (refused claims are counted apart).
With --publish on, the outbox publisher runs in its own process during the run and the decisions are read back
from assist.decisions; --publish both measures without, then with.

Checks: every task has exactly one successful claim and one decision, by the claimer that claimed it; its audit
trail is RECEIVED, CLAIMED, APPROVED|REJECTED; with publishing, assist.decisions holds exactly the decision ids
of the audit trails (none lost, none invented).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.casework.adapters.rebuild import declare_built
from services.casework.adapters.redis_layout import Keys
from services.casework.domain.scope import Staff, district_queue, staff
from services.casework.domain.tasks import CaseworkerTask, Verdict
from services.casework.service import Conflict, TaskNotFound
from services.casework.wiring import casework_parts
from services.core.codec import decode_record, load_contract
from services.core.progress_report import ProgressReport, progress_report
from services.core.settings import Settings, load_settings
from services.core.topics import DECISIONS

BENCH_DB = 13
"""The Redis database of the stack's server (ASSIST_REDIS_URL) the benchmark flushes and fills; never 0."""
DISTRICTS = ("110101", "110105", "110108", "510107", "440103")
WINDOW = 16


def bench_settings() -> Settings:
    settings = load_settings()
    server = settings.redis_url.rsplit("/", 1)[0] if settings.redis_url.count("/") > 2 else settings.redis_url
    return replace(settings, redis_url=f"{server}/{BENCH_DB}", lease_seconds=600)


def bench_tasks(run: str, n: int) -> list[CaseworkerTask]:
    rng = random.Random(run)
    now = int(time.time() * 1000)
    tasks = []
    for i in range(n):
        district = DISTRICTS[i % len(DISTRICTS)]
        body = {"task_id": f"t-bench-{run}-{i}", "kind": "VERIFY_ELIGIBILITY", "district": district,
                "offer": {"policy_id": "subsistence_allowance", "explanation": {
                    "summary": "Income below the local line.", "legal_basis": "Interim Measures, art. 9",
                    "conditions": [{"expression": "income < line", "values": f"{40_000 + i} < 145000",
                                    "holds": True}]}}}
        tasks.append(CaseworkerTask(
            task_id=f"t-bench-{run}-{i}", kind="VERIFY_ELIGIBILITY", household_id=f"h-bench-{run}-{i}",
            person_id=f"p-bench-{run}-{i}", district=district, priority=rng.randint(0, 100),
            due_ms=now + rng.randint(1, 240) * 3_600_000, created_ms=now, reason="Verify before offering.",
            offer_id=f"o-bench-{run}-{i}", policy_id="subsistence_allowance", policy_name="Subsistence allowance",
            amount_fen=rng.randint(10_000, 300_000), body=json.dumps(body)))
    return tasks


@dataclass
class Tally:
    claims: int = 0
    decisions: int = 0
    refused: int = 0
    won: dict[str, str] = field(default_factory=dict)
    """Task id → the claimer whose claim succeeded (a second success would be a double claim)."""
    doubles: list[str] = field(default_factory=list)


async def claimer(parts: Any, who: Staff, district: str, mode: str, tally: Tally, rng: random.Random) -> None:
    casework, redis, keys = parts.casework, parts.redis, parts.keys
    queue = keys.queue(district_queue(district))
    while True:
        if mode == "next":
            try:
                answer = await casework.claim_next(who, district)
            except TaskNotFound:
                return
            task_id = answer.detail("task_id")
        else:
            head = await redis.zrange(queue, 0, WINDOW - 1)
            if not head:
                return
            task_id = str(rng.choice(head))
            try:
                await casework.claim(who, task_id)
            except Conflict:
                tally.refused += 1
                continue
        tally.claims += 1
        if task_id in tally.won:
            tally.doubles.append(task_id)
        tally.won[task_id] = who.sub
        if rng.random() < 0.1:
            await casework.decide(who, task_id, Verdict.REJECT, "Household income above the local line.")
        else:
            await casework.decide(who, task_id, Verdict.APPROVE, None)
        tally.decisions += 1


def _claimers(claimers: int, processes: int, index: int) -> list[tuple[Staff, str]]:
    mine = []
    for c in range(claimers):
        if c % processes == index:
            district = DISTRICTS[c % len(DISTRICTS)]
            mine.append((staff(f"cw-{c}", "caseworker", [district]), district))
    return mine


async def _work(index: int, claimers: int, processes: int, mode: str, start_at: float) -> Tally:
    async with casework_parts(bench_settings(), kafka=False, max_connections=claimers + 8) as parts:
        await parts.redis.ping()
        tally = Tally()
        rng = random.Random(index)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        await asyncio.gather(*(claimer(parts, who, district, mode, tally, rng)
                               for who, district in _claimers(claimers, processes, index)))
        return tally


def _work_process(index: int, claimers: int, processes: int, mode: str, start_at: float, out: Any) -> None:
    tally = asyncio.run(_work(index, claimers, processes, mode, start_at))
    out.put((tally.claims, tally.decisions, tally.refused, tally.won, tally.doubles, time.time()))


async def _publish(stop_after_empty: Any) -> None:
    async with casework_parts(bench_settings(), client_id="assist-casework-bench") as parts:
        publisher = parts.publisher()
        stop = asyncio.Event()
        running = asyncio.create_task(publisher.run(stop, block_ms=50))
        while True:
            if stop_after_empty.is_set() and await parts.redis.xlen(parts.keys.outbox) == 0:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await running


def _publish_process(stop_after_empty: Any) -> None:
    asyncio.run(_publish(stop_after_empty))


async def _decision_ends(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets([TopicPartition(DECISIONS.name, p)
                                                for p in range(DECISIONS.partitions)]))
    finally:
        await consumer.stop()


async def _published(bootstrap: str, start: dict[TopicPartition, int], run: str) -> list[dict[str, Any]]:
    """Decisions of this run on assist.decisions after `start`, up to the current ends."""
    contract = load_contract()
    prefix = f"h-bench-{run}-".encode()
    ends = await _decision_ends(bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                max_partition_fetch_bytes=8 * 1024 * 1024)
    await consumer.start()
    found = []
    try:
        consumer.assign(list(ends))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        remaining = {tp for tp in ends if start[tp] < ends[tp]}
        while remaining:
            for tp, records in (await consumer.getmany(*remaining, timeout_ms=1000, max_records=5000)).items():
                found += [decode_record(contract, "decision", r.value) for r in records
                          if r.offset < ends[tp] and (r.key or b"").startswith(prefix)]
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()
    return found


async def _audit(keys: Keys, parts: Any, tasks: list[CaseworkerTask]) -> dict[str, Any]:
    """Per task: status, decided_by and the audit trail's actions, actors and decision ids."""
    trails: dict[str, Any] = {}
    for i in range(0, len(tasks), 1000):
        chunk = tasks[i:i + 1000]
        pipe = parts.redis.pipeline(transaction=False)
        for t in chunk:
            pipe.hmget(keys.task(t.task_id), ["status", "decided_by"])
            pipe.xrange(keys.audit(t.task_id))
        answers = await pipe.execute()
        for j, t in enumerate(chunk):
            (status, decided_by), entries = answers[2 * j], answers[2 * j + 1]
            trails[t.task_id] = (status, decided_by, [(e["action"], e["actor"], e["decision"]) for _, e in entries])
    return trails


def _verify(tasks: list[CaseworkerTask], won: dict[str, list[str]], trails: dict[str, Any],
            published: list[dict[str, Any]] | None) -> list[str]:
    problems = []
    for t in tasks:
        winners = won.get(t.task_id, [])
        status, decided_by, trail = trails[t.task_id]
        if len(winners) != 1:
            problems.append(f"{t.task_id}: {len(winners)} successful claims")
            continue
        actions = [a for a, _, _ in trail]
        if status not in ("APPROVED", "REJECTED") or decided_by != winners[0]:
            problems.append(f"{t.task_id}: {status} by {decided_by}, claimed by {winners[0]}")
        if actions != ["RECEIVED", "CLAIMED", status] or trail[1][1] != winners[0]:
            problems.append(f"{t.task_id}: audit trail {actions}")
    if published is not None:
        audited = {d for t in tasks for _, _, d in trails[t.task_id][2] if d}
        ids = Counter(d["decision_id"] for d in published)
        if set(ids) != audited:
            problems.append(f"assist.decisions: {len(audited - set(ids))} decisions missing, "
                            f"{len(set(ids) - audited)} unknown")
    return problems


async def _watch_decided(parts: Any, total: int, progress: ProgressReport) -> None:
    """Tasks decided so far: those no longer queued or held, read every half second (until cancelled)."""
    keys = parts.keys
    while True:
        await asyncio.sleep(0.5)
        queues = [str(q) for q in await parts.redis.smembers(keys.queues)]
        pipe = parts.redis.pipeline(transaction=False)
        for queue in queues:
            pipe.zcard(keys.queue(queue))
            pipe.zcard(keys.held(queue))
        progress.set(total - sum(await pipe.execute()))


async def run_once(args: argparse.Namespace, publish: bool) -> dict[str, Any]:
    settings = bench_settings()
    run = uuid.uuid4().hex[:8]
    tasks = bench_tasks(run, args.tasks)
    ctx = mp.get_context("spawn")
    async with casework_parts(settings, kafka=False) as parts:
        await parts.redis.flushdb()
        await declare_built(parts.redis, parts.keys)
        with progress_report("taking tasks in", len(tasks), "tasks") as progress:
            for i in range(0, len(tasks), 1000):
                await parts.board.take_in(tasks[i:i + 1000])
                progress.advance(len(tasks[i:i + 1000]))
        start_offsets = await _decision_ends(settings.kafka_bootstrap) if publish else {}
        drained = ctx.Event()
        publisher = ctx.Process(target=_publish_process, args=(drained,)) if publish else None
        if publisher:
            publisher.start()
        out = ctx.Queue()
        start_at = time.time() + 3.0  # every process connected and waiting
        workers = [ctx.Process(target=_work_process, args=(i, args.claimers, args.processes, args.mode, start_at,
                                                           out)) for i in range(args.processes)]
        for w in workers:
            w.start()
        with progress_report("claiming and deciding", len(tasks), "tasks") as progress:
            watch = asyncio.create_task(_watch_decided(parts, len(tasks), progress))
            results = [await asyncio.to_thread(out.get) for _ in workers]
            watch.cancel()
            progress.set(sum(r[1] for r in results))
        for w in workers:
            w.join()
        elapsed = max(r[5] for r in results) - start_at
        outbox_left = await parts.redis.xlen(parts.keys.outbox)
        drain_seconds = 0.0
        if publisher:
            drained.set()
            began = time.time()
            await asyncio.to_thread(publisher.join)
            drain_seconds = time.time() - began
        won: dict[str, list[str]] = {}
        for r in results:
            for task_id, who in r[3].items():
                won.setdefault(task_id, []).append(who)
        trails = await _audit(parts.keys, parts, tasks)
        published = await _published(settings.kafka_bootstrap, start_offsets, run) if publish else None
        problems = _verify(tasks, won, trails, published)
        problems += [f"double claim seen by a claimer: {d}" for r in results for d in r[4]]
        claims, decisions, refused = (sum(r[i] for r in results) for i in range(3))
        await parts.redis.flushdb()
    return {
        "publishing": publish, "mode": args.mode, "tasks": args.tasks, "claimers": args.claimers,
        "processes": args.processes, "seconds": round(elapsed, 3), "claims": claims, "decisions": decisions,
        "refused_claims": refused, "ops_per_second": round((claims + decisions) / elapsed),
        "tasks_per_second": round(decisions / elapsed),
        "outbox_left_when_claimers_finished": outbox_left, "outbox_drain_seconds": round(drain_seconds, 2),
        "published_decisions": len(published) if published is not None else None,
        "problems": problems[:20], "problem_count": len(problems),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="./run bench casework")
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--claimers", type=int, default=50)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--mode", choices=["race", "next"], default="race")
    parser.add_argument("--publish", choices=["both", "on", "off"], default="both")
    parser.add_argument("--json", type=Path, default=Path("bench/results/casework.json"), help="where the result goes")
    args = parser.parse_args()
    modes = {"both": [False, True], "on": [True], "off": [False]}[args.publish]
    results = [asyncio.run(run_once(args, publish)) for publish in modes]
    for r in results:
        print(f"publishing={'on ' if r['publishing'] else 'off'} {r['mode']}: {r['ops_per_second']:,} ops/s "
              f"({r['tasks_per_second']:,} claim+decide pairs/s, {r['refused_claims']:,} refused claims) "
              f"over {r['seconds']} s; outbox left {r['outbox_left_when_claimers_finished']:,}, drained in "
              f"{r['outbox_drain_seconds']} s; problems: {r['problem_count']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    if any(r["problem_count"] for r in results):
        raise SystemExit("verification failed: " + "; ".join(p for r in results for p in r["problems"]))


if __name__ == "__main__":
    main()
