"""The raw path on the real broker against records no department should send: each is dead-lettered with its
reason, every valid record after it is forwarded, the loop keeps running, and the DLQ holds no personal data."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiokafka import ConsumerRecord

from services.core.codec import header
from services.core.identity import check_character
from services.core.kafka import durable_producer
from services.core.topics import EVENTS, EVENTS_DLQ, EVENTS_RAW
from services.intake.adapters.raw_forwarder import RawForwarder, raw_consumer
from services.simulator.poison import DEAD_LETTER, FORWARD, PoisonRecord, poison_corpus
from tests.conftest import discharge, resident_id
from tests.integration.intake.test_intake_raw import _raw

Position = tuple[int, int]
CORPUS_SIZE = int(os.environ.get("ASSIST_POISON_RECORDS", "300"))
"""Records of the poison corpus run here; the fault suite runs 2,000 and more."""


@asynccontextmanager
async def forwarding(parts, settings, pseudonymise: Callable[[str], str] | None = None
                     ) -> AsyncIterator[asyncio.Task[None]]:
    consumer = raw_consumer(settings.kafka_bootstrap)
    await consumer.start()
    stop = asyncio.Event()
    forwarder = RawForwarder(consumer, parts.producer, parts.intake, parts.contract, parts.metrics,
                             pseudonymise or parts.pseudonymiser.person_id)
    task = asyncio.create_task(forwarder.run(stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await consumer.stop()


async def produce(settings, records: list[tuple[bytes | None, list[tuple[str, bytes | None]]]],
                  keys: list[bytes | None] | None = None) -> list[Position]:
    """Produce to assist.events.raw in order; the (partition, offset) of each record."""
    producer = durable_producer(settings.kafka_bootstrap, "test-department")
    await producer.start()
    try:
        futures = [await producer.send(EVENTS_RAW.name, value, key=(keys[i] if keys else None) or b"k",
                                       headers=headers)
                   for i, (value, headers) in enumerate(records)]
        return [(m.partition, m.offset) for m in await asyncio.gather(*futures)]
    finally:
        await producer.stop()


def source_position(record: ConsumerRecord[bytes, bytes]) -> Position | None:
    partition, offset = header(record.headers, "dlq_source_partition"), header(record.headers, "dlq_source_offset")
    if header(record.headers, "dlq_source_topic") != EVENTS_RAW.name or partition is None or offset is None:
        return None
    return int(partition), int(offset)


_WINDOW = re.compile(rb"(?=([0-9]{17}[0-9Xx]))")


def identity_numbers_in(blob: bytes) -> int:
    """How many 18-character windows of `blob` are identity numbers with a valid check character."""
    return sum(1 for m in _WINDOW.finditer(blob)
               if check_character(m.group(1)[:17].decode()) == m.group(1)[17:].decode().upper())


def everything_in(record: ConsumerRecord[bytes, bytes]) -> bytes:
    return b"\n".join([record.key or b"", record.value or b"",
                       *(k.encode() + b"=" + (v or b"") for k, v in record.headers)])


def _valid(parts, n: int) -> list[tuple[bytes, list[tuple[str, bytes | None]]]]:
    return [_raw(parts, discharge()) for _ in range(n)]


async def _poison_then_valid(parts, settings, probe, poison: tuple[bytes | None, list], field: str) -> None:
    events, dlq = await probe(EVENTS.name), await probe(EVENTS_DLQ.name)
    valid = _valid(parts, 20)
    ids = {header(h, "ce_id") for _, h in valid}
    positions = await produce(settings, [poison, *valid])
    async with forwarding(parts, settings) as task:
        forwarded = await events.collect(lambda r: header(r.headers, "ce_id") in ids, 20)
        [dead] = await dlq.collect(lambda r: source_position(r) == positions[0], 1)
        assert not task.done()
    assert {header(r.headers, "ce_id") for r in forwarded} == ids
    assert field in header(dead.headers, "dlq_fields").split(",")
    assert header(dead.headers, "dlq_reason")


async def test_a_tombstone_is_dead_lettered_and_the_records_after_it_are_forwarded(parts, settings, probe):
    _, headers = _raw(parts, discharge())
    await _poison_then_valid(parts, settings, probe, (None, headers), "data")


async def test_a_header_without_a_value_is_dead_lettered_and_the_records_after_it_are_forwarded(parts, settings,
                                                                                                probe):
    value, headers = _raw(parts, discharge())
    await _poison_then_valid(parts, settings, probe, (value, [(k, None if k == "ce_source" else v)
                                                              for k, v in headers]), "ce_source")


async def test_a_time_of_year_one_east_of_utc_is_dead_lettered_and_the_records_after_it_are_forwarded(
        parts, settings, probe):
    value, headers = _raw(parts, discharge())
    spoiled = [(k, b"0001-01-01T00:00:00+01:00" if k == "ce_time" else v) for k, v in headers]
    await _poison_then_valid(parts, settings, probe, (value, spoiled), "ce_time")


async def test_a_record_whose_judging_raises_is_dead_lettered_as_internal(parts, settings, probe):
    events, dlq = await probe(EVENTS.name), await probe(EVENTS_DLQ.name)
    cursed = resident_id()

    def pseudonymise(subject: str) -> str:
        if subject == cursed:
            raise RuntimeError(subject)
        return parts.pseudonymiser.person_id(subject)

    bad = _raw(parts, discharge(subject=cursed))
    valid = _valid(parts, 5)
    ids = {header(h, "ce_id") for _, h in valid}
    positions = await produce(settings, [bad, *valid])
    async with forwarding(parts, settings, pseudonymise) as task:
        forwarded = await events.collect(lambda r: header(r.headers, "ce_id") in ids, 5)
        [dead] = await dlq.collect(lambda r: source_position(r) == positions[0], 1)
        assert not task.done()
    assert {header(r.headers, "ce_id") for r in forwarded} == ids
    assert header(dead.headers, "dlq_reason") == "internal: RuntimeError"
    assert cursed[:17].encode() not in everything_in(dead)


async def test_the_dlq_keeps_no_identity_number_phone_or_email_in_any_spelling(parts, settings, probe):
    dlq = await probe(EVENTS_DLQ.name)
    person, other = resident_id(), resident_id()
    value, headers = _raw(parts, discharge(subject=person))
    hyphen = [("ce-subject" if k == "ce_subject" else k, v) for k, v in headers]
    hyphen += [("CE_Subject", person.encode()), ("x-contact", b"call 13912345678 or mail li.wei@example.cn"),
               (f"note-{other}", f"about {other}x".encode())]
    body = b"\x24" + person.encode()  # an Avro string (length 18) holding the number
    positions = await produce(settings, [(value, hyphen), (body, headers)], keys=[other.encode(), None])
    async with forwarding(parts, settings):
        dead = await dlq.collect(lambda r: source_position(r) in positions, 2)
    assert len(dead) == 2
    by_position = {source_position(r): r for r in dead}
    first, second = by_position[positions[0]], by_position[positions[1]]
    pseudonym = parts.pseudonymiser.person_id(person).encode()
    assert [v for k, v in first.headers if k in ("ce-subject", "CE_Subject")] == [pseudonym, pseudonym]
    assert first.value == value
    assert len(second.value) == len(body) and second.value[:1] == b"\x24" and set(second.value[1:]) == {ord("*")}
    for record in dead:
        blob = everything_in(record)
        assert identity_numbers_in(blob) == 0
        assert b"13912345678" not in blob and b"li.wei@example.cn" not in blob
        assert header(record.headers, "dlq_reason")


async def test_a_poison_corpus_is_dead_lettered_and_every_valid_record_is_forwarded(parts, settings, probe):
    events, dlq = await probe(EVENTS.name), await probe(EVENTS_DLQ.name)
    run = uuid.uuid4().hex[:12]
    corpus = poison_corpus(parts.contract, CORPUS_SIZE, seed=7, run=run)
    assert len({r.kind for r in corpus}) >= 15
    positions = await produce(settings, [(r.value, r.headers) for r in corpus], keys=[r.key for r in corpus])
    expected: dict[Position, PoisonRecord] = dict(zip(positions, corpus, strict=True))
    to_forward = {r.event_id for r in corpus if r.expected == FORWARD}
    to_dead_letter = {p for p, r in expected.items() if r.expected == DEAD_LETTER}
    timeout = 30 + CORPUS_SIZE / 50
    async with forwarding(parts, settings) as task:
        dead = await dlq.collect(lambda r: source_position(r) in to_dead_letter, len(to_dead_letter), timeout)
        forwarded = await events.collect(lambda r: (header(r.headers, "ce_id") or "").startswith(run),
                                         len(to_forward), timeout)
        forwarded += await events.collect(lambda r: (header(r.headers, "ce_id") or "").startswith(run), 1, 2)
        assert not task.done()
    assert {source_position(r) for r in dead} == to_dead_letter
    assert sorted(header(r.headers, "ce_id") for r in forwarded) == sorted(to_forward)
    for record in dead:
        poison = expected[source_position(record)]
        fields = header(record.headers, "dlq_fields").split(",")
        assert poison.field in fields, (poison.kind, fields, header(record.headers, "dlq_reason"))
        assert identity_numbers_in(everything_in(record)) == 0, poison.kind
