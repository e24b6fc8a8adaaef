"""The privacy scan, after every scenario: every record of every topic on the suite's broker (keys, values and
every header, both ce_ and ce- spellings), every key and value of the matching workers' state stores, every log
file the suite's processes wrote and the /metrics page of every running service, searched for identity numbers,
mobile numbers and e-mail addresses where they do not belong. Contacts, identity numbers and malformed records
carrying both are published first, so a leak would have something to show."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from services.core.codec import decode_event, decode_record, event_to_json, jsonable
from services.core.kafka import durable_producer
from services.core.topics import (
    ALL_TOPICS,
    APPLICATION_ANSWERS,
    CONTACTS,
    DECISIONS,
    DISCLOSURES,
    EVENTS_RAW,
    IDENTITIES,
    NOTIFICATIONS,
    OFFERS,
    REGISTRY,
    TASKS,
)
from services.core.topics import EVENTS as VALIDATED_EVENTS
from services.simulator.poison import poison_corpus
from tests.conftest import discharge
from tests.faults.deployment import (
    start_casework_api,
    start_casework_worker,
    start_citizen_api,
    start_forwarder,
    start_intake,
    start_notification_worker,
)
from tests.faults.load import SINGLE
from tests.faults.notify import Workload, wait_reached
from tests.faults.outcome import Outcome
from tests.faults.privacy import KINDS, Place, store_place, stores_under
from tests.faults.processes import fetch_text
from tests.faults.providers import FlakyMailServer, FlakySmsGateway
from tests.faults.records import CONTRACT, Seeded, publish_tasks, read_topic

PEOPLE = 40
EVENTS = 60
ALLOWED = {
    EVENTS_RAW.name: frozenset(KINDS),  # what departments sent, before validation (identity numbers by design)
    CONTACTS.name: frozenset({"phone", "email"}),  # consented contacts, read only by notification
    IDENTITIES.name: frozenset({"phone"}),  # the civil registry's details, read only by the identity vault
}
"""The only places personal data may be; everywhere else a finding is a leak."""


RECORDS = {topic.name: record for topic, record in (
    (OFFERS, "offer"), (TASKS, "caseworker_task"), (DECISIONS, "decision"), (NOTIFICATIONS, "notification_status"),
    (REGISTRY, "household"), (APPLICATION_ANSWERS, "application_answer"), (DISCLOSURES, "disclosure"))}
"""Topics of one Avro record each: their values are searched as the text they decode to."""


def readable(topic: str, value: bytes | None, headers: list[tuple[str, bytes | None]]) -> bytes | str | None:
    """What a value says: the decoded record or event as JSON text, where it decodes, else its bytes. Searching
    the binary Avro itself finds what is not there: a string of 32 bytes is prefixed by the byte '@', which, between
    a field ending in letters and one like "household.per_capita", reads as an e-mail address."""
    if value is None:
        return None
    try:
        if topic == VALIDATED_EVENTS.name:
            return json.dumps(jsonable(event_to_json(decode_event(CONTRACT, value, headers))), ensure_ascii=False)
        if topic in RECORDS:
            return json.dumps(jsonable(decode_record(CONTRACT, RECORDS[topic], value)), ensure_ascii=False)
    except Exception:  # an undecodable record is searched as it is, byte for byte
        return value
    return value


async def publish_raw(bootstrap: str, records: list[tuple[bytes | None, bytes | None, list]]) -> None:
    producer = durable_producer(bootstrap, "faults-privacy-department")
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(EVENTS_RAW.name, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def exercise(stack, services, fault_settings) -> tuple[dict[str, str], int]:
    """Run every service on personal data; the /metrics pages read while they run, and contacts reached."""
    gateway, mail = FlakySmsGateway(), FlakyMailServer()
    await gateway.start()
    await mail.start()
    redis = stack.redis_async()
    seeded = Seeded(71, "privacy")
    try:
        intake = await start_intake(services, stack, "intake-privacy")
        forwarder = await start_forwarder(services, "intake-raw-privacy")
        notification = await start_notification_worker(services, "notification-privacy", "faults-privacy",
                                                       sms_url=gateway.url, smtp_port=mail.port,
                                                       key_prefix="faults:privacy")
        casework = await start_casework_worker(services, "casework-privacy")
        casework_api, _ = await start_casework_api(services, "casework-api-privacy")
        citizen, _ = await start_citizen_api(services, "citizen-api-privacy")

        work = Workload.seeded(73, "privacy", PEOPLE)
        await work.publish_contacts(stack.bootstrap, redis, "faults:privacy")
        await work.publish_offers(stack.bootstrap)
        await publish_tasks(stack.bootstrap, [seeded.task(n) for n in range(20)])
        headers = {**intake.auth(), "Content-Type": SINGLE}
        async with aiohttp.ClientSession() as session:
            for n in range(EVENTS):
                subject = seeded.resident_id()
                if n % 4 == 3:  # a wrong check character: refused, and the refusal must not repeat it
                    subject = subject[:17] + ("0" if subject[17] != "0" else "1")
                event = discharge(subject=subject, event_id=f"e-privacy-{n:05d}")
                async with session.post(f"{intake.url}/v1/events", data=json.dumps(event), headers=headers) as r:
                    await r.read()
        corpus = poison_corpus(CONTRACT, 200, seed=79, run="poison-privacy")
        await publish_raw(stack.bootstrap, [(r.key, r.value, r.headers) for r in corpus])
        reached = await wait_reached(stack.bootstrap, work.offer_ids, timeout=90)
        await asyncio.sleep(5)  # the forwarder and the casework worker catch up
        running = [intake.service, forwarder, notification, casework, casework_api, citizen]
        pages = {s.name: await fetch_text(s.metrics_url) for s in running if s.metrics_url and s.running}
    finally:
        await gateway.stop()
        await mail.stop()
        await redis.aclose()
    services.stop_all()  # their logs are complete once they stopped
    return pages, len(reached)


async def test_no_identity_number_phone_or_email_where_it_does_not_belong(fault_stack, services, fault_settings,
                                                                           results):
    pages, reached = await exercise(fault_stack, services, fault_settings)
    places: list[Place] = []
    for topic in ALL_TOPICS:
        allowed = ALLOWED.get(topic.name, frozenset())
        keys, values = Place(f"{topic.name} keys", allowed), Place(f"{topic.name} values", allowed)
        header_places: dict[str, Place] = {}
        for record in await read_topic(fault_stack.bootstrap, topic.name):
            keys.read(record.key)
            values.read(readable(topic.name, record.value, record.headers))
            for name, value in record.headers:
                spelling = "ce-" if name.startswith("ce-") else "ce_" if name.startswith("ce_") else "other"
                place = header_places.setdefault(spelling, Place(f"{topic.name} {spelling} headers", allowed))
                place.read(name.encode("utf-8", "surrogateescape") + b"=" + (value or b""))
        places += [keys, values, *header_places.values()]
    stores = stores_under(fault_stack.data_dir)
    places += [store_place(store, fault_stack.data_dir) for store in stores]
    written = [p for p in fault_stack.data_dir.rglob("*") if p.is_file() and "log" in p.suffix + p.parent.name
               and "data" not in p.relative_to(fault_stack.data_dir).parts  # kafka/data: the topics, read above
               and not any(p.is_relative_to(store) for store in stores)]  # the stores, read above as records
    for log in sorted(written):
        place = Place(f"log {log.relative_to(fault_stack.data_dir)}")
        for line in log.read_bytes().splitlines():
            place.read(line)
        places.append(place)
    for name, page in sorted(pages.items()):
        place = Place(f"metrics {name}")
        place.read(page)
        places.append(place)

    results.privacy = [(p.name, p.counts()) for p in places if p.items]
    leaks = [p for p in places if p.leaks]
    planted = {kind: sum(p.found[kind] for p in places if kind in p.allowed) for kind in KINDS}
    outcome = results.add(Outcome(
        "privacy scan", f"{sum(p.items for p in places)} items in {len(places)} places ({len(pages)} metrics pages)",
        "0 outside " + ", ".join(sorted(ALLOWED)),
        f"leaks {sum(p.leaks for p in leaks)} in {len(leaks)} places; planted found: {planted}",
        lost=0, extra=sum(p.leaks for p in leaks), details={"leaking_places": [p.name for p in leaks]}))
    outcome.check(all(planted.values()), f"the scan found none of a planted kind ({planted}): it proves nothing")
    outcome.check(reached == PEOPLE, f"{PEOPLE - reached} contacts were not reached")
    outcome.check(len(pages) == 5, f"metrics pages read: {sorted(pages)}")
    outcome.check(not leaks, "personal data found in " + ", ".join(f"{p.name} {dict(p.found)}" for p in leaks))
    assert not outcome.failures, "; ".join(outcome.failures)
