"""Matching's outputs depend on the household's history only: the same history in two valid interleavings (each
member's events in their own order, the members' events interleaved differently, as partitions of assist.events
deliver them) and with a report delivered twice gives the same offers and tasks (ids, amounts, deadlines), on the
real broker through the routing hop."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Any

from services.core.codec import Event, decode_record
from services.core.topics import OFFERS, TASKS
from tests.integration.conftest import TopicProbe
from tests.integration.matching.matching_harness import BOOTSTRAP, CONTRACT, MatchingWorker, household, member, publish

PROCESSED = re.compile(r'^assist_matching_messages_processed_total\{kind="(\w+)"\} ([0-9.e+]+)$', re.M)
REPORTED = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)


def processed(worker: MatchingWorker, kind: str) -> float:
    return sum(float(n) for k, n in PROCESSED.findall(worker.metrics()) if k == kind)


async def applied(worker: MatchingWorker, kind: str, count: float, seconds: float = 30) -> None:
    """Wait until the worker applied `count` messages of `kind` (one at a time: that fixes the interleaving)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await asyncio.to_thread(processed, worker, kind) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the worker applied fewer than {count:.0f} {kind} messages:\n"
                         + worker.log.read_text()[-2000:])


def history(home: str, people: list[str]) -> tuple[dict[str, Any], dict[str, list[Event]]]:
    """A flood that destroys the home of a family of three (emergency management reports it for every member,
    at one moment) and the mother's hospital stay; each member's reports in the order their department sends them."""
    mother, father, child = people
    record = household(home, [member(mother, "1985-03-01", 60_000), member(father, "1983-06-01", 0),
                              member(child, "2014-09-01")])
    flooded = dt.date.today() - dt.timedelta(days=2)
    flood = {"occurred_on": flooded, "kind": "FLOOD", "severity": "SERIOUS", "place_district": "510107",
             "home_destroyed": True}

    def report(person: str, type_: str, data: dict[str, Any], minutes: int = 0) -> Event:
        return Event(id=str(uuid.uuid4()), source="/departments/emergency_management/test", type=type_,
                     time=REPORTED + dt.timedelta(minutes=minutes), subject=person, data=data)

    stay = {"discharged_on": flooded + dt.timedelta(days=1), "diagnosis_category": "INJURY",
            "total_cost_fen": 1_500_000, "out_of_pocket_fen": 900_000}
    events = {mother: [report(mother, "emergency.occurred", flood),
                       report(mother, "hospitalisation.discharged", stay, minutes=30)],
              father: [report(father, "emergency.occurred", flood)],
              child: [report(child, "emergency.occurred", flood)]}
    return record, events


async def outcome(tmp: Path, record: dict[str, Any], order: list[Event]) -> set[tuple[Any, ...]]:
    """(offer id, amount) and (task id, kind, amount, due) of everything one worker published for the household
    when the events reach it in `order`."""
    await asyncio.to_thread(tmp.mkdir, parents=True, exist_ok=True)
    worker = MatchingWorker(tmp)
    await worker.publish_catalogue()
    await worker.start_at_topic_ends()
    offers, tasks = await TopicProbe.at_end(BOOTSTRAP, OFFERS.name), await TopicProbe.at_end(BOOTSTRAP, TASKS.name)
    worker.start()
    try:
        await worker.wait_ready()
        await publish(registry=[record])
        await applied(worker, "registry", 1)
        for n, event in enumerate(order, 1):
            await publish(events=[event])
            await applied(worker, "event", n)
        key = record["household_id"].encode()
        found: set[tuple[Any, ...]] = set()
        for r in await offers.collect(lambda r: r.key == key, 1_000, timeout=4):
            offer = decode_record(CONTRACT, "offer", r.value)
            found.add(("offer", offer["offer_id"], offer["amount_fen"]))
        for r in await tasks.collect(lambda r: r.key == key, 1_000, timeout=2):
            task = decode_record(CONTRACT, "caseworker_task", r.value)
            amount = task["offer"]["amount_fen"] if task["offer"] else None
            found.add(("task", task["task_id"], task["kind"], amount, task["due_at"]))
        return found
    finally:
        worker.stop()
        await offers.close()
        await tasks.close()


async def test_the_same_history_in_another_interleaving_and_with_a_report_twice_gives_the_same_outputs(tmp_path):
    home = f"h-{uuid.uuid4().hex[:10]}"
    people = [f"p-{uuid.uuid4().hex[:10]}" for _ in range(3)]
    record, events = history(home, people)
    mother, father, child = people
    first = [events[mother][0], events[mother][1], events[father][0], events[child][0]]
    second = [events[child][0], events[father][0], events[mother][0], events[child][0], events[mother][1]]

    one = await outcome(tmp_path / "first", record, first)
    other = await outcome(tmp_path / "second", record, second)

    assert any(o[0] == "task" and o[2] == "VERIFY_ELIGIBILITY" for o in one), f"no verification task: {one}"
    assert one == other, f"only in the first order: {sorted(one - other)}; only in the second: {sorted(other - one)}"
