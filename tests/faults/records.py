"""Seeded inputs of the scenarios (contacts, offers, caseworker tasks, department events) and whole-topic reads."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from services.core.codec import encode_record, load_contract
from services.core.identity import check_character
from services.core.kafka import durable_producer
from services.core.topics import ALL_TOPICS, CONTACTS, OFFERS, TASKS

CONTRACT = load_contract()
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DISTRICT = "110105"


@dataclass
class Seeded:
    """Inputs drawn from one seed: the same seed gives the same records, whatever the run label."""

    seed: int
    label: str

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def resident_id(self) -> str:
        born = dt.date(1950, 1, 1) + dt.timedelta(days=self._rng.randrange(365 * 55))
        first17 = f"{DISTRICT}{born:%Y%m%d}{self._rng.randrange(1000):03d}"
        return first17 + check_character(first17)

    def phone(self) -> str:
        return f"+861{self._rng.choice('3456789')}{self._rng.randrange(10**9):09d}"

    def contact(self, person_id: str, channels: list[str]) -> dict[str, Any]:
        return {"person_id": person_id, "phone": self.phone(), "email": f"{person_id}@mail.test",
                "channels": channels, "language": "zh_CN", "time_zone": "Asia/Shanghai", "quiet_from": None,
                "quiet_until": None, "opted_out_non_critical": False, "elderly_living_alone": False,
                "consented_at": NOW}

    def offer(self, person_id: str, number: int) -> dict[str, Any]:
        """A critical (basic tier) auto-offer: never deferred by quiet hours."""
        return {
            "offer_id": f"o-{self.label}-{number:05d}", "household_id": f"h-{self.label}-{number:05d}",
            "person_id": person_id, "policy_id": "temporary_assistance", "policy_name": "Temporary assistance",
            "tier": "temporary", "benefit_period": "2026-11", "amount_fen": 50_000 + self._rng.randrange(100_000),
            "amount_period": "ONE_OFF", "route": "AUTO_OFFER", "district": DISTRICT, "priority": 60,
            "created_at": NOW, "trigger_event_id": f"e-{self.label}-{number:05d}",
            "explanation": {"policy_id": "temporary_assistance", "policy_version": "2026.1",
                            "legal_basis": "Interim Measures, art. 47", "eligible": True,
                            "facts": {"household.sudden_expense_fen": "1200000"},
                            "conditions": [{"expression": "household.sudden_expense_fen > 0",
                                            "values": "1200000 > 0", "holds": True}],
                            "computation": None, "summary": "A sudden expense the household cannot meet."},
        }

    def task(self, number: int) -> dict[str, Any]:
        suffix = f"{self.label}-{number:05d}"
        return {
            "task_id": f"t-{suffix}", "kind": "REVIEW", "household_id": f"h-{suffix}",
            "person_id": f"p-{suffix}", "district": DISTRICT, "priority": self._rng.randrange(10, 95),
            "due_at": NOW + dt.timedelta(hours=48 + self._rng.randrange(200)), "reason": "Several risk signals.",
            "offer": None, "risk_tier": "red", "evidence_event_ids": [f"e-{suffix}"], "created_at": NOW}


def unlabelled(identifier: str, label: str) -> str:
    """An id without its run label, to compare the outcome of two runs of the same seeded input."""
    return identifier.replace(f"-{label}-", "-")


async def publish(bootstrap: str, topic: str, schema: str, key_field: str, values: list[dict[str, Any]]) -> None:
    producer = durable_producer(bootstrap, "faults-publisher")
    await producer.start()
    try:
        sent = [await producer.send(topic, encode_record(CONTRACT, schema, v), key=str(v[key_field]).encode())
                for v in values]
        for future in sent:
            await future
    finally:
        await producer.stop()


async def publish_contacts(bootstrap: str, contacts: list[dict[str, Any]]) -> None:
    await publish(bootstrap, CONTACTS.name, "contact", "person_id", contacts)


async def publish_offers(bootstrap: str, offers: list[dict[str, Any]]) -> None:
    await publish(bootstrap, OFFERS.name, "offer", "household_id", offers)


async def publish_tasks(bootstrap: str, tasks: list[dict[str, Any]]) -> None:
    await publish(bootstrap, TASKS.name, "caseworker_task", "household_id", tasks)


async def read_topic(bootstrap: str, topic: str, since: dict[int, int] | None = None
                     ) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on `topic` now, from the beginning (or the offsets `since`, by partition) to the end offsets
    read first."""
    spec = next(t for t in ALL_TOPICS if t.name == topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                isolation_level="read_committed", max_partition_fetch_bytes=4 * 1024 * 1024)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(spec.partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        if since is not None:
            starts = {tp: max(offset, since.get(tp.partition, offset)) for tp, offset in starts.items()}
        for tp in partitions:  # explicit offsets: seek_to_beginning answered the end right after a broker restart
            consumer.seek(tp, starts[tp])
        todo = {tp for tp in partitions if ends[tp] > starts[tp]}
        found: list[ConsumerRecord[bytes, bytes]] = []
        for _ in range(2_000):  # bounded: at most 2,000 polls of up to 500 ms
            if not todo:
                break
            for tp, records in (await consumer.getmany(*todo, timeout_ms=500)).items():
                found += records
                if records and records[-1].offset + 1 >= ends[tp]:
                    todo.discard(tp)
            for tp in list(todo):  # compaction or transaction markers can leave the end unreachable by records
                if await consumer.position(tp) >= ends[tp]:
                    todo.discard(tp)
        return found
    finally:
        await consumer.stop()
