"""Every consume loop against the real broker and Redis: a poison record between valid ones (bytes that do not
decode, a tombstone, a record whose handling raises) lands on its service's dead-letter topic with its reason and
source position, every valid record is handled, and the loop is still running afterwards."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis

from services.casework.adapters.rebuild import declare_built
from services.casework.adapters.task_feed import TaskFeed, task_dead_letters, tasks_consumer
from services.casework.wiring import casework_parts
from services.core.codec import encode_record, header
from services.core.dead_letter import TOO_LARGE, DeadLetters
from services.core.kafka import commit_group_at_end, consume_batches
from services.core.settings import Settings
from services.core.topics import CASEWORK_DLQ, CONTACTS, EVENTS, EVENTS_DLQ, EVENTS_RAW, NOTIFICATION_DLQ, OFFERS, TASKS
from services.intake.adapters.raw_forwarder import RawForwarder, Unforwarded, raw_consumer
from services.intake.wiring import IntakeParts
from tests.conftest import discharge
from tests.integration.casework.test_casework import task_record
from tests.integration.every_service.loop_probes import from_position, letters_at, produce
from tests.integration.intake.test_intake_raw import _raw
from tests.integration.notification.notification_harness import (
    CONTRACT,
    contact_record,
    forget_keys,
    notification_settings,
    offer_record,
    providers,
    running_worker,
    unique,
)

GARBAGE = b"\x00\xff\xfe not avro at all \x01"


def redis_db(settings: Settings, db: int) -> str:
    return urlunsplit(urlsplit(settings.redis_url)._replace(path=f"/{db}"))


async def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result or loop.time() > deadline:
            return result
        await asyncio.sleep(0.1)


# ---- casework: assist.tasks into the queues ----------------------------------------------------------------------

@asynccontextmanager
async def running_task_feed(settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[Any, asyncio.Task[None]]]:
    """A task feed on a view not built yet (as after Redis was wiped): the test declares it built."""
    settings = replace(settings, redis_url=redis_db(settings, 14), data_dir=tmp_path)
    group = f"assist-casework-test-{uuid.uuid4().hex[:8]}"
    await commit_group_at_end(settings.kafka_bootstrap, group, (TASKS,))
    async with casework_parts(settings, staff_file=tmp_path / "staff.json", prefix=unique("test:cw:")) as parts:
        consumer = tasks_consumer(settings.kafka_bootstrap, group)
        await consumer.start()
        stop = asyncio.Event()
        assert parts.producer is not None
        feed = TaskFeed(consumer, parts.board, parts.contract, parts.metrics,
                        task_dead_letters(parts.producer, parts.metrics))
        loop = asyncio.create_task(feed.run(stop))
        try:
            yield parts, loop
        finally:
            stop.set()
            await asyncio.wait_for(loop, 30)
            await consumer.stop()
            async for key in parts.redis.scan_iter(match=f"{parts.keys.prefix}:*", count=1000):
                await parts.redis.delete(key)


def task(t: dict[str, Any]) -> tuple[bytes, bytes, list[Any]]:
    return t["household_id"].encode(), encode_record(CONTRACT, "caseworker_task", t), []


async def test_task_feed_dead_letters_garbage_tombstones_and_other_records_and_takes_in_every_task(
        settings, tmp_path, probe):
    dlq = await probe(CASEWORK_DLQ.name)
    async with running_task_feed(settings, tmp_path) as (parts, loop):
        good = [task_record() for _ in range(4)]
        # While the view is being rebuilt a task waits; it is not a record to dead-letter.
        [waiting] = await produce(settings, TASKS.name, [task(good[0])])
        await asyncio.sleep(3)
        await declare_built(parts.redis, parts.keys)
        offer = task_record()["offer"]
        positions = await produce(settings, TASKS.name, [
            (b"h-garbage", GARBAGE, []), task(good[1]), (b"h-tombstone", None, []),
            (b"h-offer", encode_record(CONTRACT, "offer", offer), []), task(good[2])])
        poison = [positions[0], positions[2], positions[3]]
        letters = await letters_at(dlq, poison)
        garbage, tombstone, other = (letters[p.topic, p.partition, p.offset] for p in poison)
        assert garbage.value == GARBAGE
        assert "not a caseworker_task record" in header(garbage.headers, "dlq_reason")
        assert header(garbage.headers, "dlq_fields") == "value"
        assert header(garbage.headers, "dlq_source_topic") == TASKS.name and header(garbage.headers, "dlq_at")
        assert "tombstone" in header(tombstone.headers, "dlq_reason")
        assert other.value == encode_record(CONTRACT, "offer", offer)
        assert header(other.headers, "dlq_reason")

        await produce(settings, TASKS.name, [task(good[3])])  # after the poison: the loop still takes tasks in

        async def all_queued() -> bool:
            return all([await parts.redis.exists(parts.keys.task(t["task_id"])) for t in good])
        assert await eventually(all_queued)
        assert not await dlq.collect(from_position(waiting), 1, timeout=1)
        assert not loop.done()


async def test_a_record_too_large_to_carry_with_its_reason_is_dead_lettered_without_its_value(settings, tmp_path,
                                                                                              probe):
    dlq = await probe(CASEWORK_DLQ.name)
    async with running_task_feed(settings, tmp_path) as (parts, loop):
        await declare_built(parts.redis, parts.keys)
        # Fits the source topic, but not once the reason headers are added (the producer's 1 MiB request limit).
        [huge] = await produce(settings, TASKS.name, [(b"h-huge", b"\xff" * (1024 * 1024 - 120), [])])
        good = task_record()
        await produce(settings, TASKS.name, [task(good)])
        letter = (await letters_at(dlq, [huge]))[huge.topic, huge.partition, huge.offset]
        assert not letter.value
        assert header(letter.headers, "dlq_value_omitted") == TOO_LARGE
        assert "not a caseworker_task record" in header(letter.headers, "dlq_reason")

        async def queued() -> bool:
            return bool(await parts.redis.exists(parts.keys.task(good["task_id"])))
        assert await eventually(queued)
        assert not loop.done()


# ---- notification: contacts, offers, tasks, decisions ------------------------------------------------------------

async def test_notification_inputs_dead_letter_poison_records_without_copying_contact_details(settings, probe):
    dlq = await probe(NOTIFICATION_DLQ.name)
    async with providers() as (gateway, mail):
        local = notification_settings(settings, gateway, mail)
        prefix, group = unique("test:notification:"), unique("test-notification-")
        redis = Redis.from_url(local.redis_url)
        try:
            async with running_worker(local, prefix, group) as parts:
                people = [unique("p-") for _ in range(3)]
                blocked = unique("p-")
                # Its offer list is corrupt (a string where a hash belongs): recording an offer to it raises.
                await redis.set(f"{prefix}:offers:{blocked}", "corrupt")
                offers = [offer_record(p) for p in people]
                blocked_offer = offer_record(blocked)
                bad_contact = contact_record(unique("p-"), ["SMS"])

                def offer(o: dict[str, Any]) -> tuple[bytes, bytes, list[Any]]:
                    return o["household_id"].encode(), encode_record(CONTRACT, "offer", o), []

                positions = await produce(local, OFFERS.name, [
                    offer(offers[0]), (b"h-garbage", GARBAGE, []), offer(offers[1]), (b"h-tombstone", None, []),
                    offer(blocked_offer)])
                contact_garbage = encode_record(CONTRACT, "contact", bad_contact)[:-7]  # cut short
                [cut] = await produce(local, CONTACTS.name, [(bad_contact["person_id"].encode(), contact_garbage,
                                                              [("x-mail", bad_contact["email"].encode())])])
                garbage, tombstone, failing = positions[1], positions[3], positions[4]
                letters = await letters_at(dlq, [garbage, tombstone, failing, cut])
                assert set(letters) == {(p.topic, p.partition, p.offset) for p in (garbage, tombstone, failing, cut)}
                garbage_letter, tombstone_letter, failing_letter, contact_letter = (
                    letters[p.topic, p.partition, p.offset] for p in (garbage, tombstone, failing, cut))
                assert garbage_letter.value == GARBAGE
                assert "unreadable as offer" in header(garbage_letter.headers, "dlq_reason")
                assert "no value" in header(tombstone_letter.headers, "dlq_reason")
                assert header(failing_letter.headers, "dlq_reason") == "internal: ResponseError"
                assert not contact_letter.value  # contact details never leave assist.contacts
                assert header(contact_letter.headers, "dlq_value_omitted")
                assert bad_contact["email"].encode() not in b"".join(v or b"" for _, v in contact_letter.headers)
                assert header(contact_letter.headers, "x-mail") == "[e-mail]"

                await produce(local, OFFERS.name, [offer(offers[2])])  # after the poison

                async def all_recorded() -> bool:
                    return all([await redis.hexists(f"{prefix}:offers:{o['person_id']}", o["offer_id"])
                                for o in offers])
                assert await eventually(all_recorded)
                assert parts.metrics is not None
        finally:
            await forget_keys(redis, prefix)
            await redis.aclose()


# ---- intake: assist.events.raw through the shared loop -----------------------------------------------------------

async def test_raw_forwarder_in_the_shared_loop_parks_records_that_break_it_and_forwards_the_rest(
        parts: IntakeParts, settings, probe):
    events, dlq = await probe(EVENTS.name), await probe(EVENTS_DLQ.name)
    good = [discharge() for _ in range(3)]
    raws = [_raw(parts, g) for g in good]
    value, headers = raws[0]
    poison_ids = [str(uuid.uuid4()) for _ in range(3)]

    def spoiled(event_id: str, **changes: bytes | None) -> list[tuple[str, bytes | None]]:
        kept = [(k, v) for k, v in headers if k not in changes and k != "ce_id"]
        return [("ce_id", event_id.encode()), *kept, *changes.items()]

    positions = await produce(settings, EVENTS_RAW.name, [
        (None, raws[0][0], raws[0][1]),
        (b"a-key", None, spoiled(poison_ids[0])),  # a tombstone
        (None, value, spoiled(poison_ids[1], ce_dataschema=None)),  # a header without a value
        (None, raws[1][0], raws[1][1]),
        (None, value, spoiled(poison_ids[2], ce_time=b"0001-01-01T00:00:00+01:00")),
    ])
    consumer = raw_consumer(settings.kafka_bootstrap)
    await consumer.start()
    stop = asyncio.Event()
    forwarder = RawForwarder(consumer, parts.producer, parts.intake, parts.contract, parts.metrics,
                             parts.pseudonymiser.person_id)
    loop = asyncio.create_task(consume_batches(
        consumer, forwarder.forward, (Unforwarded, TimeoutError), stop, "raw forwarder",
        dead_letters=DeadLetters(parts.producer, EVENTS_DLQ.name), pause_seconds=0.2))
    try:
        dead = await dlq.collect(lambda r: header(r.headers, "ce_id") in poison_ids, 3, timeout=40)
        assert {header(r.headers, "ce_id") for r in dead} == set(poison_ids)
        assert all(header(r.headers, "dlq_reason") for r in dead)
        assert {int(header(r.headers, "dlq_source_offset")) for r in dead} >= {p.offset for p in positions[1:3]}
        await produce(settings, EVENTS_RAW.name, [(None, raws[2][0], raws[2][1])])  # after the poison
        ids = {g["id"] for g in good}
        forwarded = await events.collect(lambda r: header(r.headers, "ce_id") in ids, 3, timeout=30)
        assert {header(r.headers, "ce_id") for r in forwarded} == ids
        assert not loop.done()
    finally:
        stop.set()
        await asyncio.wait_for(loop, 30)
        await consumer.stop()
