"""A matching worker on the fault suite's stack, fed one seeded input (households and their events), and what
it published: offers and tasks (read by offset range, so runs of the same input on the same topics stay apart)
and each household's final state as the worker explains it.

Every run has its own application id (consumer group, tables and changelogs), catalogue name and data folder,
and starts at the topics' ends, so two runs of the same household ids never see each other's messages."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.core.codec import Event, decode_record, encode_event, encode_record
from services.core.kafka import commit_group_at_end, durable_producer
from services.core.topics import EVENTS, MATCHING_INBOX, MATCHING_INPUTS, OFFERS, REGISTRY, TASKS
from services.matching.adapters.catalogue_feed import publish_catalogue
from tests.faults.processes import Service, Services, free_port, wait_until_answers
from tests.faults.records import CONTRACT, read_topic
from tests.faults.stack import FaultStack
from tests.integration.matching.matching_harness import catalogue_text

DISTRICT = "510107"
TODAY = dt.date.today()
STALL_SECONDS = 30
"""A partition that does not move for this long while messages wait makes the worker stop itself (to be started
again, as a supervisor does); shorter than the worker's default so a run settles in time."""
EPOCH = dt.datetime.combine(TODAY - dt.timedelta(days=40), dt.time(8), dt.UTC)
"""Event times are drawn from the 40 days before today: the same for every run of a seed."""


@dataclass(frozen=True)
class Input:
    """Households (registry records) and their events, in the order each person's department sends them."""

    households: list[dict[str, Any]]
    events: list[Event]

    def first_members(self) -> dict[str, str]:
        return {h["household_id"]: h["members"][0]["person_id"] for h in self.households}


def seeded_input(seed: int, households: int, events: int) -> Input:
    """Families of one to four (earners, children, elderly), then `events` change events about their members,
    spread over the last 40 days: job losses, income changes, hospital stays, medical bills, disabilities,
    school fees and emergencies (a disaster is reported for every member of the household it hits)."""
    rng = random.Random(seed)
    homes: list[dict[str, Any]] = []
    for n in range(households):
        size = rng.choice((1, 2, 2, 3, 3, 4))
        members = []
        for m in range(size):
            age = rng.choice((rng.randrange(25, 58), rng.randrange(25, 58), rng.randrange(6, 17),
                              rng.randrange(61, 85)))
            born = TODAY - dt.timedelta(days=365 * age + rng.randrange(300))
            income = rng.choice((0, 0, rng.randrange(50_000, 150_000), rng.randrange(150_000, 600_000))) \
                if 18 <= age < 60 else 0
            members.append({"person_id": f"p-{seed}-{n:05d}-{m}", "birth_date": born, "monthly_income_fen": income,
                            "disability_grade": rng.choice((None,) * 9 + (rng.randrange(1, 5),)),
                            "has_phone": True})
        homes.append({"household_id": f"h-{seed}-{n:05d}", "district": DISTRICT, "region": DISTRICT[:2] + "0000",
                      "urban": rng.random() < 0.7, "financial_assets_fen": rng.choice((0, 500_000, 5_000_000)),
                      "members": members, "current_benefits": [],
                      "as_of": dt.datetime.combine(TODAY - dt.timedelta(days=60), dt.time(0), dt.UTC)})
    drawn: list[tuple[float, Event]] = []
    serial = 0
    while len(drawn) < events:
        home = rng.choice(homes)
        at = rng.uniform(0, 39 * 86400)
        kind = rng.choice(("job.lost", "income.changed", "hospitalisation.discharged", "medical_expense.settled",
                           "disability.certified", "school.enrolled", "emergency.occurred", "hospitalisation.admitted"))
        people = [m["person_id"] for m in home["members"]] if kind == "emergency.occurred" \
            else [rng.choice(home["members"])["person_id"]]
        data = _event_data(rng, kind, (EPOCH + dt.timedelta(seconds=at)).date())
        for person in people:
            serial += 1
            time_ = EPOCH + dt.timedelta(seconds=at + len(drawn) % 7)
            drawn.append((at, Event(id=f"ev-{seed}-{serial:06d}", source="/departments/faults/seeded", type=kind,
                                    time=time_, subject=person, data=data)))
    drawn.sort(key=lambda pair: pair[0])
    return Input(homes, [e for _, e in drawn[:events]])


def _event_data(rng: random.Random, kind: str, day: dt.date) -> dict[str, Any]:
    if kind == "job.lost":
        return {"lost_on": day, "unemployment_registered": rng.random() < 0.7,
                "previous_monthly_income_fen": rng.randrange(100_000, 600_000)}
    if kind == "income.changed":
        return {"effective_on": day, "monthly_income_fen": rng.choice((0, rng.randrange(30_000, 500_000)))}
    if kind == "hospitalisation.admitted":
        return {"admitted_on": day, "diagnosis_category": rng.choice(("GENERAL", "CRITICAL", "CHRONIC")),
                "hospital_district": DISTRICT, "estimated_out_of_pocket_fen": rng.randrange(0, 8_000_000)}
    if kind == "hospitalisation.discharged":
        total = rng.randrange(100_000, 20_000_000)
        return {"discharged_on": day, "diagnosis_category": rng.choice(("GENERAL", "CRITICAL", "INJURY")),
                "total_cost_fen": total, "out_of_pocket_fen": rng.randrange(0, total)}
    if kind == "medical_expense.settled":
        total = rng.randrange(10_000, 5_000_000)
        return {"settled_on": day, "total_cost_fen": total, "out_of_pocket_fen": rng.randrange(0, total)}
    if kind == "disability.certified":
        return {"certified_on": day, "category": rng.choice(("PHYSICAL", "VISUAL", "INTELLECTUAL")),
                "grade": rng.randrange(1, 5)}
    if kind == "school.enrolled":
        return {"enrolled_on": day, "level": rng.choice(("PRIMARY", "SENIOR_SECONDARY", "HIGHER")),
                "school_district": DISTRICT, "term_fees_fen": rng.randrange(0, 1_500_000)}
    return {"occurred_on": day, "kind": rng.choice(("FLOOD", "FIRE", "EARTHQUAKE")),
            "severity": rng.choice(("MINOR", "SERIOUS", "CATASTROPHIC")), "place_district": DISTRICT,
            "home_destroyed": rng.random() < 0.3}


@dataclass
class Published:
    """What one run put on assist.offers and assist.tasks for its households."""

    offers: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    """offer id → (revision number, change, amount, policy) of its newest revision: what a consumer keeping the newest
    record per id holds. Intermediate revisions are not compared: members' events may reach the same final
    amount through other intermediate ones."""
    tasks: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    """task id → (revision number, change, amount, kind and policy) of its newest revision."""
    dues: dict[str, str] = field(default_factory=dict)
    """task id → due_at of its newest revision."""
    records: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    """(offer or task id, revision number, change) → how many records: above 1 is a duplicate."""
    states: dict[str, str] = field(default_factory=dict)
    """household id → the worker's explanation of it (JSON), the final state as seen from outside."""
    inbox_messages: int = 0
    kills: int = 0
    restarts: int = 0
    """Times the worker stopped by itself (a stalled partition) and was started again, as a supervisor does."""
    recovery_seconds: list[float] = field(default_factory=list)

    def keys(self) -> set[tuple[Any, ...]]:
        return {("offer", i, *v) for i, v in self.offers.items()} | {("task", i, *v) for i, v in self.tasks.items()}

    def held(self) -> set[tuple[Any, ...]]:
        """What a consumer keeping the newest revision per id holds: each offer and task id not withdrawn, with its
        amount and policy (the revision number and whether it was revised on the way are not compared: a report
        arriving late corrects an offer by a revision)."""
        return {(kind, i, amount, what) for kind, kept in (("offer", self.offers), ("task", self.tasks))
                for i, (_, change, amount, what) in kept.items() if change != "WITHDRAWN"}

    def duplicates(self) -> int:
        return sum(n - 1 for n in self.records.values() if n > 1)

    def note(self, kind: str, identifier: str, revision: int, change: str, amount: int | None, what: str,
             due: str | None = None) -> None:
        self.records[(identifier, revision, change)] += 1
        kept = self.offers if kind == "offer" else self.tasks
        if identifier not in kept or revision >= kept[identifier][0]:
            kept[identifier] = (revision, change, amount, what)
            if due is not None:
                self.dues[identifier] = due


class MatchingRun:
    """One worker process on the suite's stack for one run of a seeded input."""

    def __init__(self, stack: FaultStack, services: Services, label: str):
        self.stack, self.services, self.label = stack, services, label
        suffix = uuid.uuid4().hex[:6]
        self.app_id = f"assist-matching-faults-{label}-{suffix}"
        self.catalogue = f"faults-{label}-{suffix}"
        self.port = free_port()
        self.worker: Service | None = None
        self.started_at: dict[str, dict[int, int]] = {}
        self.restarts = 0

    async def start(self) -> None:
        await publish_catalogue(self.stack.bootstrap, CONTRACT, catalogue_text(self.catalogue), "faults")
        await commit_group_at_end(self.stack.bootstrap, self.app_id, MATCHING_INPUTS)
        self.started_at = {t.name: await end_offsets(self.stack.bootstrap, t.name, t.partitions)
                           for t in (OFFERS, TASKS, MATCHING_INBOX)}
        self.worker = self.services.start(
            f"matching-{self.label}", "services.matching", "worker", metrics_url=f"{self.url}/metrics",
            ASSIST_MATCHING_APP_ID=self.app_id, ASSIST_MATCHING_CATALOGUE=self.catalogue,
            ASSIST_MATCHING_WEB_PORT=str(self.port), ASSIST_DATA_DIR=str(self.stack.data_dir / self.app_id),
            ASSIST_MATCHING_STALL_SECONDS=str(STALL_SECONDS))
        await self.wait_ready()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_ready(self, seconds: float = 120) -> None:
        assert self.worker is not None
        await wait_until_answers(f"{self.url}/healthz", self.worker, seconds)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if "assist_matching_catalogue_info{" in await self.metrics():
                return
            await asyncio.sleep(0.3)
        raise AssertionError(f"the matching worker adopted no catalogue:\n{self.worker.tail()}")

    async def metrics(self) -> str:
        try:
            return await asyncio.to_thread(
                lambda: urllib.request.urlopen(f"{self.url}/metrics", timeout=2).read().decode())
        except OSError:
            return ""

    async def processed(self) -> float:
        """Messages the current process applied to household state (from its /metrics)."""
        total = 0.0
        for line in (await self.metrics()).splitlines():
            if line.startswith("assist_matching_messages_processed_total{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    async def kill_and_restart(self) -> float:
        """SIGKILL, start again; seconds from the kill until the new process applies messages again."""
        assert self.worker is not None
        killed = time.monotonic()
        self.worker.kill()
        self.worker.start()
        await self.wait_ready()
        for _ in range(1200):  # at most 60 s
            await self.supervise()
            if await self.processed() > 0:
                break
            await asyncio.sleep(0.05)
        return time.monotonic() - killed

    async def supervise(self, seconds: float = 0.0) -> None:
        """For `seconds` (at least one look), start the worker again when it stopped itself (exit 70: a stalled
        partition, or an offset that never came back after a seek), as its supervisor does in production."""
        deadline = time.monotonic() + seconds
        for _ in range(int(seconds / 0.5) + 1):
            assert self.worker is not None
            if not self.worker.running:
                self.restarts += 1
                self.worker.start()
                await self.wait_ready()
            if time.monotonic() >= deadline:
                return
            await asyncio.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    async def settled(self, households: set[str], seconds: float = 240) -> None:
        """Wait until the group has committed everything on its inputs and the outputs stop growing."""
        deadline = time.monotonic() + seconds
        last: tuple[int, ...] = ()
        steady = 0
        while time.monotonic() < deadline:
            assert self.worker is not None
            await self.supervise()
            lag = await group_lag(self.stack.bootstrap, self.app_id, (EVENTS.name, MATCHING_INBOX.name))
            ends = (sum((await end_offsets(self.stack.bootstrap, OFFERS.name, OFFERS.partitions)).values()),
                    sum((await end_offsets(self.stack.bootstrap, TASKS.name, TASKS.partitions)).values()))
            steady = steady + 1 if lag == 0 and ends == last else 0
            if steady >= 3:
                return
            last = ends
            await asyncio.sleep(1.0)
        raise AssertionError(f"run {self.label} did not settle within {seconds:.0f} s")

    async def published(self, households: dict[str, str]) -> Published:
        """Offers and tasks this run published for `households`, and their explanations (final states)."""
        out = Published()
        wanted = {h.encode() for h in households}
        for record in await read_topic(self.stack.bootstrap, OFFERS.name, self.started_at[OFFERS.name]):
            if record.key in wanted:
                offer = decode_record(CONTRACT, "offer", record.value)
                out.note("offer", offer["offer_id"], _revision(offer), offer["change"], offer["amount_fen"],
                         offer["policy_id"])
        for record in await read_topic(self.stack.bootstrap, TASKS.name, self.started_at[TASKS.name]):
            if record.key in wanted:
                task = decode_record(CONTRACT, "caseworker_task", record.value)
                amount = (task["offer"] or {}).get("amount_fen") if task["offer"] else \
                    (task["review"] or {}).get("amount_fen")
                revision = _revision(task["offer"]) if task["offer"] else 0
                what = f"{task['kind']} {(task['offer'] or task['review'] or {}).get('policy_id', '')}".rstrip()
                out.note("task", task["task_id"], revision, task["change"], amount, what, task["due_at"].isoformat())
        inbox = await read_topic(self.stack.bootstrap, MATCHING_INBOX.name,
                                 self.started_at[MATCHING_INBOX.name])
        out.inbox_messages = sum(1 for r in inbox if r.key in wanted)
        for household, person in households.items():
            out.states[household] = await self.explained(person)
        return out

    async def explained(self, person: str) -> str:
        body = await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"{self.url}/explain/{person}/", timeout=10).read())
        explanation = json.loads(body)
        explanation.pop("catalogue", None)  # each run follows a catalogue of its own name (same rules)
        return json.dumps(explanation, sort_keys=True)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()


def _revision(offer: dict[str, Any]) -> int:
    return int((offer.get("revision") or {}).get("number", 0))


async def publish_input(bootstrap: str, data: Input, seconds: float) -> None:
    """Registry records first (they land before any event), then the events paced over `seconds`."""
    producer = durable_producer(bootstrap, "faults-matching-publisher")
    await producer.start()
    try:
        sent = [await producer.send(REGISTRY.name, encode_record(CONTRACT, "household", h),
                                    key=h["household_id"].encode()) for h in data.households]
        for future in sent:
            await future
        await asyncio.sleep(2.0)
        chunk = 100
        started = time.monotonic()
        for n, start in enumerate(range(0, len(data.events), chunk)):
            pending = []
            for event in data.events[start:start + chunk]:
                value, headers = encode_event(CONTRACT, event)
                pending.append(await producer.send(EVENTS.name, value, key=event.subject.encode(), headers=headers))
            for future in pending:
                await future
            pause = started + (n + 1) * seconds * chunk / len(data.events) - time.monotonic()
            await asyncio.sleep(max(0.0, pause))
    finally:
        await producer.stop()


async def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        return {tp.partition: offset for tp, offset in (await consumer.end_offsets(tps)).items()}
    finally:
        await consumer.stop()


async def group_lag(bootstrap: str, group: str, topics: tuple[str, ...]) -> int:
    """Messages on `topics` the group has not committed yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    lag = 0
    for topic in topics:
        spec = next(t for t in MATCHING_INPUTS if t.name == topic)
        for partition, end in (await end_offsets(bootstrap, topic, spec.partitions)).items():
            done = committed.get(TopicPartition(topic, partition))
            lag += end - (done.offset if done is not None and done.offset >= 0 else 0)
    return lag
