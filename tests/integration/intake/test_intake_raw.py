"""The Kafka-native path: assist.events.raw → assist.events, or assist.events.dlq with the reason."""

from __future__ import annotations

import asyncio
import io
import uuid
from contextlib import asynccontextmanager

import fastavro
import pytest

from services.core.codec import Event, decode_event, encode_event, event_from_json, header
from services.core.kafka import durable_producer
from services.core.topics import EVENTS, EVENTS_DLQ, EVENTS_RAW
from services.intake.adapters.raw_forwarder import RawForwarder, raw_consumer
from tests.conftest import discharge, resident_id, structured_event


@asynccontextmanager
async def running_forwarder(parts, settings):
    consumer = raw_consumer(settings.kafka_bootstrap)
    await consumer.start()
    stop = asyncio.Event()
    forwarder = RawForwarder(consumer, parts.producer, parts.intake, parts.contract, parts.metrics,
                             parts.pseudonymiser.person_id)
    task = asyncio.create_task(forwarder.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task
        await consumer.stop()


async def _produce_raw(settings, records: list[tuple[bytes | None, list[tuple[str, bytes]]]]) -> None:
    producer = durable_producer(settings.kafka_bootstrap, "test-department")
    await producer.start()
    try:
        for value, headers in records:
            await producer.send_and_wait(EVENTS_RAW.name, value, headers=headers)
    finally:
        await producer.stop()


def _raw(parts, structured: dict) -> tuple[bytes, list[tuple[str, bytes]]]:
    event: Event = event_from_json(parts.contract, structured)
    return encode_event(parts.contract, event)


async def test_valid_raw_records_are_forwarded_pseudonymised(parts, settings, probe):
    events = await probe(EVENTS.name)
    subject = resident_id()
    good = discharge(subject=subject)
    await _produce_raw(settings, [_raw(parts, good)])
    async with running_forwarder(parts, settings):
        [record] = await events.collect(lambda r: header(r.headers, "ce_id") == good["id"], 1)
    decoded = decode_event(parts.contract, record.value, record.headers)
    assert decoded.subject == parts.pseudonymiser.person_id(subject)
    assert subject.encode() not in record.value + b"".join(v for _, v in record.headers)


@pytest.mark.parametrize("spoil, field", [
    ("grade", "data.grade"),
    ("check_character", "subject"),
    ("garbled_body", "data"),
    ("unknown_type", "ce_type"),
    ("foreign_department", "ce_source"),
])
async def test_invalid_raw_record_is_dead_lettered_with_original_bytes_and_reason(parts, settings, probe, spoil, field):
    dlq = await probe(EVENTS_DLQ.name)
    subject = resident_id()
    event_id = str(uuid.uuid4())
    certified = structured_event("disability.certified", {"certified_on": "2026-11-01", "category": "PHYSICAL",
                                                          "grade": 2}, subject=subject, event_id=event_id,
                                 department="disabled_persons_federation")
    value, headers = _raw(parts, certified)
    headers = dict(headers)
    if spoil == "grade":
        body = io.BytesIO()
        fastavro.schemaless_writer(body, parts.contract.event_types["disability.certified"].schema,
                                   {"certified_on": 20_400, "category": "PHYSICAL", "grade": 9})
        value = body.getvalue()
    elif spoil == "check_character":
        headers["ce_subject"] = (subject[:17] + ("0" if subject[17] != "0" else "1")).encode()
    elif spoil == "garbled_body":
        value = b"\xff"
    elif spoil == "unknown_type":
        headers["ce_type"] = b"pension.paid"
    elif spoil == "foreign_department":
        headers["ce_source"] = b"/departments/education/school-system"
    await _produce_raw(settings, [(value, list(headers.items()))])
    async with running_forwarder(parts, settings):
        [record] = await dlq.collect(lambda r: header(r.headers, "ce_id") == event_id, 1)
    assert record.value == value
    assert field in header(record.headers, "dlq_fields").split(",")
    assert header(record.headers, "dlq_reason")
    assert header(record.headers, "dlq_source_topic") == EVENTS_RAW.name
    assert subject[:17].encode() not in b"".join(v for _, v in record.headers)


async def test_forwarder_commits_only_what_it_forwarded_and_resumes_after_restart(parts, settings, probe):
    events = await probe(EVENTS.name)
    first, second = discharge(), discharge()
    await _produce_raw(settings, [_raw(parts, first)])
    async with running_forwarder(parts, settings):
        assert await events.collect(lambda r: header(r.headers, "ce_id") == first["id"], 1)
    await _produce_raw(settings, [_raw(parts, second)])
    async with running_forwarder(parts, settings):
        records = await events.collect(lambda r: header(r.headers, "ce_id") in (first["id"], second["id"]), 2,
                                       timeout=8)
    assert [header(r.headers, "ce_id") for r in records] == [second["id"]]
