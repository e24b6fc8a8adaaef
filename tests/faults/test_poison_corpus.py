"""(e) The poison corpus (services/simulator/poison.py: malformed raw records of every kind, a valid one in
between) through the real forward-raw process: every malformed record dead-lettered with its reason, every valid
one forwarded, and the process still running."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter

from services.core.codec import header
from services.core.kafka import durable_producer
from services.core.topics import EVENTS, EVENTS_DLQ, EVENTS_RAW
from services.simulator.poison import DEAD_LETTER, VALID_EVERY, PoisonRecord, poison_corpus
from tests.faults.deployment import start_forwarder
from tests.faults.outcome import Outcome
from tests.faults.records import CONTRACT, read_topic

RUN = "poison-faults"
BASE_SECONDS, RECORDS_PER_SECOND = 30, 50
"""The forwarder must get through the corpus within BASE_SECONDS + records / RECORDS_PER_SECOND (it handles a
few hundred a second when nothing stalls it)."""


async def produce(bootstrap: str, corpus: list[PoisonRecord]) -> dict[tuple[int, int], PoisonRecord]:
    """Produce the corpus as departments would; (partition, offset) → the record written there."""
    producer = durable_producer(bootstrap, "faults-department")
    await producer.start()
    try:
        sent = [(r, await producer.send(EVENTS_RAW.name, r.value, key=r.key, headers=r.headers))  # type: ignore[arg-type]
                for r in corpus]
        return {(meta.partition, meta.offset): r for r, meta in [(r, await f) for r, f in sent]}
    finally:
        await producer.stop()


def dead_letter_position(record) -> tuple[int, int] | None:
    try:
        return int(header(record.headers, "dlq_source_partition") or ""), int(
            header(record.headers, "dlq_source_offset") or "")
    except ValueError:
        return None


async def test_every_poison_record_is_dead_lettered_and_every_valid_one_forwarded(fault_stack, services, size,
                                                                                   results):
    corpus = poison_corpus(CONTRACT, math.ceil(size.poison_records * VALID_EVERY / (VALID_EVERY - 1)), seed=61,
                           run=RUN)
    malformed = [r for r in corpus if r.expected == DEAD_LETTER]
    valid_ids = {r.event_id for r in corpus if r.expected != DEAD_LETTER}
    forwarder = await start_forwarder(services)
    started = time.monotonic()
    written = await produce(fault_stack.bootstrap, corpus)
    budget = BASE_SECONDS + len(corpus) / RECORDS_PER_SECOND
    deadline = started + budget + 60
    forwarded: Counter[str] = Counter()
    dead: dict[tuple[int, int], list] = {}
    while time.monotonic() < deadline:
        forwarded = Counter(i for r in await read_topic(fault_stack.bootstrap, EVENTS.name)
                            if (i := header(r.headers, "ce_id")) and i.startswith(RUN))
        dead = {}
        for record in await read_topic(fault_stack.bootstrap, EVENTS_DLQ.name):
            position = dead_letter_position(record)
            if header(record.headers, "dlq_source_topic") == EVENTS_RAW.name and position in written:
                dead.setdefault(position, []).append(record)
        if (len(dead) >= len(malformed) and valid_ids <= set(forwarded)) or not forwarder.running:
            break
        await asyncio.sleep(2)
    seconds = time.monotonic() - started

    dead_kinds = {written[p].kind for p in dead}
    not_dead = [r for p, r in written.items() if r.expected == DEAD_LETTER and p not in dead]
    without_reason = [p for p, records in dead.items() if not all(header(r.headers, "dlq_reason") for r in records)]
    wrong_field = Counter(written[p].kind for p, records in dead.items()
                          if written[p].field not in (header(records[0].headers, "dlq_fields") or "").split(","))
    garbage_forwarded = Counter(r.kind for r in malformed if r.event_id in forwarded)
    valid_dead = [p for p in dead if written[p].expected != DEAD_LETTER]
    outcome = results.add(Outcome(
        "e poison corpus", f"{len(malformed)} malformed ({len(dead_kinds | {r.kind for r in not_dead})} kinds), "
        f"{len(valid_ids)} valid", "all malformed dead-lettered with reason; all valid forwarded",
        f"dead-lettered {len(dead)}, forwarded {len(set(forwarded) & valid_ids)} in {seconds:.0f} s; "
        f"forwarder running: {forwarder.running}",
        lost=len(not_dead) - sum(garbage_forwarded.values()) + len(valid_ids - set(forwarded)),
        extra=sum(garbage_forwarded.values()) + len(valid_dead),
        duplicates=sum(len(records) - 1 for records in dead.values()) + sum(n - 1 for n in forwarded.values()),
        details={"not_dead_lettered_by_kind": dict(Counter(r.kind for r in not_dead)),
                 "garbage_forwarded_by_kind": dict(garbage_forwarded), "wrong_field_by_kind": dict(wrong_field)}))
    outcome.check(not not_dead, f"{len(not_dead)} malformed records not dead-lettered: "
                  f"{dict(Counter(r.kind for r in not_dead))}")
    outcome.check(not garbage_forwarded, f"malformed records forwarded as valid: {dict(garbage_forwarded)}")
    outcome.check(valid_ids <= set(forwarded), f"{len(valid_ids - set(forwarded))} valid records not forwarded")
    outcome.check(not valid_dead, f"{len(valid_dead)} valid records dead-lettered")
    outcome.check(not without_reason, f"{len(without_reason)} dead letters without a reason")
    outcome.check(not wrong_field, f"dead letters naming another field than expected: {dict(wrong_field)}")
    outcome.check(seconds <= budget, f"the corpus took {seconds:.0f} s, more than {budget:.0f} s: a record stalls "
                  "the forwarder (see its log for pauses and consumer-group rejoins)")
    outcome.check(forwarder.running, "the forwarder exited")
    assert not outcome.failures, "; ".join(outcome.failures) + "\n" + forwarder.tail()
