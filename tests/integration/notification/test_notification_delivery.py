"""The notification worker against the real broker and Redis, a real SMTP server and an HTTP SMS gateway:
offers reach people once, on the channel they prefer, with retries, fallback and caseworkers in person."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from prometheus_client import generate_latest
from redis.asyncio import Redis

from services.core.codec import decode_record
from services.core.settings import Settings
from services.core.topics import CONTACTS, DECISIONS, NOTIFICATIONS, OFFERS, TASKS
from services.notification.adapters.redis_citizen import RedisCitizenViews, RedisInbox
from services.notification.domain.answers import OfferState
from services.notification.domain.ids import in_person_task_id, notification_id
from services.notification.domain.link import Signer
from tests.integration.notification.notification_harness import (
    CONTRACT,
    MailServer,
    SmsGatewayStub,
    contact_record,
    decision,
    forget_keys,
    notification_settings,
    offer_record,
    providers,
    publish,
    running_worker,
    status_of,
    unique,
    verification_task,
    wait_for_contacts,
)


@dataclass
class Stack:
    settings: Settings
    gateway: SmsGatewayStub
    mail: MailServer
    redis: Redis
    prefix: str
    group: str


@pytest.fixture
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    async with providers() as (gateway, mail):
        redis = Redis.from_url(settings.redis_url)
        prefix = unique("test:notification:")
        try:
            yield Stack(notification_settings(settings, gateway, mail), gateway, mail, redis, prefix,
                        unique("test-notification-"))
        finally:
            await forget_keys(redis, prefix)
            await redis.aclose()


async def statuses_for(events, offer_ids: set[str], wanted: int, done=lambda s: s["status"] == "SENT",
                       timeout: float = 30.0) -> list[dict]:
    """Every status of these offers until `wanted` of them satisfy `done`."""
    seen: list[dict] = []

    def mine(record) -> bool:
        status = status_of(record)
        if status["offer_id"] in offer_ids:
            seen.append(status)
            return done(status)
        return False

    await events.collect(mine, wanted, timeout)
    return seen


async def test_offers_reach_people_by_sms_email_and_inbox_with_a_signed_link(stack, probe):
    events = await probe(NOTIFICATIONS.name)
    by_sms, by_mail, by_inbox = unique("p"), unique("p"), unique("p")
    contacts = [contact_record(by_sms, ["SMS", "EMAIL"]), contact_record(by_mail, ["EMAIL", "SMS"], language="en"),
                contact_record(by_inbox, ["INBOX"])]
    offers = [offer_record(p) for p in (by_sms, by_mail, by_inbox)]
    async with running_worker(stack.settings, stack.prefix, stack.group):
        await publish(stack.settings, [(CONTACTS.name, c) for c in contacts])
        await wait_for_contacts(stack.redis, stack.prefix, [by_sms, by_mail, by_inbox])
        await publish(stack.settings, [(OFFERS.name, o) for o in offers])
        seen = await statuses_for(events, {o["offer_id"] for o in offers}, 3)
    assert sorted((s["channel"], s["status"]) for s in seen) == [("EMAIL", "SENT"), ("INBOX", "SENT"), ("SMS", "SENT")]
    (sms,) = stack.gateway.delivered()
    assert sms["to"] == contacts[0]["phone"] and "1,234.50" in sms["text"]
    assert sms["idempotency_key"] == notification_id(offers[0]["offer_id"], "SMS")
    link = sms["text"].split("http://citizen.test/c/")[1].split()[0]
    claims = Signer("test-link-key").read_link(link, offers[0]["created_at"])
    assert (claims.person_id, claims.offer_id) == (by_sms, offers[0]["offer_id"])
    (mail,) = stack.mail.to(contacts[1]["email"])
    assert "Help you can receive" in mail["Subject"] and "¥1,234.50 per month" in mail.get_content()
    assert mail["Content-Language"] == "en"
    assert mail["Message-ID"] == f"<{notification_id(offers[1]['offer_id'], 'EMAIL')}@assist-notification>"
    (item,) = await RedisInbox(stack.redis, stack.prefix).items(by_inbox)
    assert item.offer_id == offers[2]["offer_id"] and "1,234.50" in item.body
    view = await RedisCitizenViews(stack.redis, stack.prefix).get(by_sms, offers[0]["offer_id"])
    assert view is not None and view.state is OfferState.OFFERED


async def test_gateway_failures_are_retried_then_the_next_channel_is_used(stack, probe):
    events = await probe(NOTIFICATIONS.name)
    stack.gateway.fail_always = 503
    person = unique("p")
    contact = contact_record(person, ["SMS", "EMAIL"])
    offer = offer_record(person)
    async with running_worker(stack.settings, stack.prefix, stack.group):
        await publish(stack.settings, [(CONTACTS.name, contact)])
        await wait_for_contacts(stack.redis, stack.prefix, [person])
        await publish(stack.settings, [(OFFERS.name, offer)])
        seen = await statuses_for(events, {offer["offer_id"]}, 1)
    assert [(s["channel"], s["status"], s["attempt"]) for s in seen] == [
        ("SMS", "RETRYING", 1), ("SMS", "RETRYING", 2), ("SMS", "FELL_BACK", 3), ("EMAIL", "SENT", 1)]
    assert seen[0]["detail"] == "gateway HTTP 503"
    assert len(stack.gateway.requests) == 3 and not stack.gateway.delivered()
    assert len(stack.mail.to(contact["email"])) == 1


async def test_smtp_refusals_are_retried_and_the_mail_goes_once(stack, probe):
    events = await probe(NOTIFICATIONS.name)
    stack.mail.failures = ["451 4.3.0 try again later"]
    person = unique("p")
    contact = contact_record(person, ["EMAIL"])
    offer = offer_record(person)
    async with running_worker(stack.settings, stack.prefix, stack.group):
        await publish(stack.settings, [(CONTACTS.name, contact)])
        await wait_for_contacts(stack.redis, stack.prefix, [person])
        await publish(stack.settings, [(OFFERS.name, offer)])
        seen = await statuses_for(events, {offer["offer_id"]}, 1)
    assert [(s["status"], s["attempt"], s["detail"]) for s in seen] == [("RETRYING", 1, "SMTP 451"),
                                                                       ("SENT", 2, None)]
    assert len(stack.mail.to(contact["email"])) == 1


async def test_the_same_offer_twice_on_the_topic_is_sent_once(stack, probe):
    events = await probe(NOTIFICATIONS.name)
    person = unique("p")
    offer = offer_record(person)
    async with running_worker(stack.settings, stack.prefix, stack.group):
        await publish(stack.settings, [(CONTACTS.name, contact_record(person, ["SMS"]))])
        await wait_for_contacts(stack.redis, stack.prefix, [person])
        await publish(stack.settings, [(OFFERS.name, offer), (OFFERS.name, offer)])
        await statuses_for(events, {offer["offer_id"]}, 1)
        await publish(stack.settings, [(OFFERS.name, offer)])  # and once more, after it was sent
        later = await statuses_for(events, {offer["offer_id"]}, 1, timeout=3.0)
    assert later == []
    assert len(stack.gateway.requests) == 1


async def test_elderly_person_living_alone_without_a_phone_gets_a_caseworker_in_person(stack, probe):
    tasks = await probe(TASKS.name)
    person = unique("p")
    offer = offer_record(person, "old_age_allowance", tier="elderly", district="510104")
    contact = contact_record(person, ["SMS", "INBOX"], phone=None, elderly_living_alone=True)
    task_id = in_person_task_id(offer["offer_id"])
    async with running_worker(stack.settings, stack.prefix, stack.group):
        await publish(stack.settings, [(CONTACTS.name, contact)])
        await wait_for_contacts(stack.redis, stack.prefix, [person])
        await publish(stack.settings, [(OFFERS.name, offer)])
        (record,) = await tasks.collect(lambda r: decode_record(CONTRACT, "caseworker_task", r.value)["task_id"]
                                        == task_id, 1)
        inbox = await _until(lambda: RedisInbox(stack.redis, stack.prefix).items(person))
    task = decode_record(CONTRACT, "caseworker_task", record.value)
    assert task["kind"] == "DELIVER_IN_PERSON" and task["district"] == "510104" and task["person_id"] == person
    assert task["offer"]["offer_id"] == offer["offer_id"] and record.key == offer["household_id"].encode()
    assert len(inbox) == 1  # the inbox copy still goes


async def test_approved_verification_offer_is_notified_whichever_arrives_first(stack, probe):
    events = await probe(NOTIFICATIONS.name)
    first, second = unique("p"), unique("p")
    task_first = offer_record(first, "subsistence_allowance", route="VERIFICATION", tier="basic")
    approval_first = offer_record(second, "subsistence_allowance", route="VERIFICATION", tier="basic")
    async with running_worker(stack.settings, stack.prefix, stack.group):
        await publish(stack.settings, [(CONTACTS.name, contact_record(p, ["EMAIL"], language="en"))
                                       for p in (first, second)])
        await wait_for_contacts(stack.redis, stack.prefix, [first, second])
        await publish(stack.settings, [(TASKS.name, verification_task(task_first))])
        await asyncio.sleep(1.0)
        assert not stack.mail.messages, "a verification offer waits for the caseworker"
        await publish(stack.settings, [(DECISIONS.name, decision(task_first, "APPROVED")),
                                       (DECISIONS.name, decision(approval_first, "APPROVED")),
                                       (TASKS.name, verification_task(approval_first))])
        seen = await statuses_for(events, {task_first["offer_id"], approval_first["offer_id"]}, 2)
    assert sorted(s["person_id"] for s in seen if s["status"] == "SENT") == sorted([first, second])
    for person in (first, second):
        (mail,) = stack.mail.to(f"{person}@mail.test")
        assert "approved" in mail.get_content() and "Approved for you" in mail["Subject"]


async def test_opted_out_person_is_not_messaged_about_a_non_critical_offer(stack, probe):
    events = await probe(NOTIFICATIONS.name)
    person = unique("p")
    offer = offer_record(person)
    async with running_worker(stack.settings, stack.prefix, stack.group):
        await publish(stack.settings, [(CONTACTS.name, contact_record(person, ["SMS"], opted_out_non_critical=True))])
        await wait_for_contacts(stack.redis, stack.prefix, [person])
        await publish(stack.settings, [(OFFERS.name, offer)])
        seen = await statuses_for(events, {offer["offer_id"]}, 1, done=lambda s: s["status"] == "SUPPRESSED")
    assert [s["status"] for s in seen] == ["SUPPRESSED"] and not stack.gateway.requests


async def test_a_citizens_answer_on_the_decision_topic_updates_their_view(stack):
    person = unique("p")
    offer = offer_record(person)
    views = RedisCitizenViews(stack.redis, stack.prefix)
    async with running_worker(stack.settings, stack.prefix, stack.group):
        await publish(stack.settings, [(OFFERS.name, offer)])
        await _until(lambda: views.get(person, offer["offer_id"]))
        await publish(stack.settings, [(DECISIONS.name, decision(offer, "DECLINED", actor="citizen"))])
        view = await _until(lambda: _answered(views, person, offer["offer_id"]))
    assert view.state is OfferState.DECLINED


async def test_contact_details_never_reach_a_topic_a_log_line_or_a_metric(stack, probe, caplog):
    caplog.set_level(logging.DEBUG)
    statuses, tasks = await probe(NOTIFICATIONS.name), await probe(TASKS.name)
    stack.gateway.failures = [500]
    stack.mail.failures = ["550 5.1.1 <someone@mail.test>: recipient address rejected"]
    people = [unique("p") for _ in range(3)]
    contacts = [contact_record(people[0], ["SMS", "EMAIL"]), contact_record(people[1], ["EMAIL", "INBOX"]),
                contact_record(people[2], ["SMS"], phone=None, email="x@mail.test", elderly_living_alone=True)]
    offers = [offer_record(p) for p in people]
    ids = {o["offer_id"] for o in offers}
    blobs: list[bytes] = []

    def sent(record) -> bool:
        blobs.append(record.key + record.value)
        status = status_of(record)
        return status["offer_id"] in ids and status["status"] == "SENT"

    async with running_worker(stack.settings, stack.prefix, stack.group) as parts:
        await publish(stack.settings, [(CONTACTS.name, c) for c in contacts])
        await wait_for_contacts(stack.redis, stack.prefix, people)
        await publish(stack.settings, [(OFFERS.name, o) for o in offers])
        assert len(await statuses.collect(sent, 3)) == 3
        blobs += [r.key + r.value for r in await tasks.collect(lambda r: True, 10_000, timeout=2.0)]
        metrics = generate_latest(parts.metrics.registry).decode()
    logged = "\n".join(r.getMessage() for r in caplog.records if _worker_log(r))
    assert "RETRYING" in logged and "FELL_BACK" in logged
    for contact in contacts:
        for detail in (contact["phone"], contact["email"]):
            if detail:
                assert all(detail.encode() not in blob for blob in blobs), "contact detail on a topic"
                assert detail not in logged, "contact detail in a log line"
                assert detail not in metrics, "contact detail in a metric"


def _worker_log(record: logging.LogRecord) -> bool:
    """What the worker process would log in production: its own lines at any level, its client libraries' at INFO
    and above (the test's own SMTP server and publisher are not the worker)."""
    if record.name.startswith("services."):
        return True
    return record.name.split(".")[0] in ("aiokafka", "aiohttp", "aiosmtplib", "redis") and record.levelno >= \
        logging.INFO


async def _until(read, timeout: float = 20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        value = await read()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("not reached in time")


async def _answered(views, person, offer_id):
    view = await views.get(person, offer_id)
    return view if view and view.state is not OfferState.OFFERED else None
