"""Notification acts on revisions and withdrawals of offers, against the real broker, Redis and providers: a
citizen already told gets the new figure (a new message with its own idempotency key) or, for a withdrawal, an
inbox notice; a message not sent yet goes out once with the new figure, or not at all when withdrawn; the offer page
says so and a withdrawn offer cannot be accepted; older and repeated records change nothing; a rebuild from the
topics gives the same state."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from services.core.settings import Settings
from services.core.topics import CONTACTS, DECISIONS, OFFERS, TASKS
from services.notification.adapters.citizen_http import CSRF_HEADER, build_citizen_app
from services.notification.adapters.redis_citizen import RedisCitizenViews, RedisInbox
from services.notification.domain.ids import notification_id
from services.notification.domain.revisions import delivery_id
from services.notification.wiring import Worker, citizen, worker
from tests.integration.notification.notification_harness import (
    SmsGatewayStub,
    contact_record,
    decision,
    forget_keys,
    notification_settings,
    offer_record,
    providers,
    publish,
    running_worker,
    unique,
    verification_task,
    wait_for_contacts,
)
from tests.integration.notification.test_notification_recovery import until


def revised(offer: dict[str, Any], number: int, amount: int | None, change: str = "REVISED",
            received: bool = False) -> dict[str, Any]:
    """The offer as matching publishes it again under the same id."""
    again = copy.deepcopy(offer)
    previous = offer["amount_fen"]
    again.update(change=change, amount_fen=None if change == "WITHDRAWN" else amount,
                 created_at=dt.datetime.now(dt.UTC).replace(microsecond=0))
    again["explanation"] = {**offer["explanation"], "eligible": change != "WITHDRAWN",
                            "summary": ("Not eligible: income above the line." if change == "WITHDRAWN"
                                        else f"Eligible: {amount} fen per month."),
                            "conditions": [{"expression": "member.monthly_income_fen < standard",
                                            "values": "90000 < 80000" if change == "WITHDRAWN" else "0 < 80000",
                                            "holds": change != "WITHDRAWN"}]}
    again["revision"] = {
        "number": number, "previous_amount_fen": previous, "previous_summary": offer["explanation"]["summary"],
        "previous_computation": None,
        "changed_facts": [f"member.monthly_income_fen 1000 -> {90000 if change == 'WITHDRAWN' else 0}"],
        "received": received,
        "reason": ("Withdrawn: member.monthly_income_fen < standard no longer holds (90000 < 80000)"
                   if change == "WITHDRAWN" else f"Amount revised from {previous} to {amount} fen."),
    }
    return again


def texts_to(gateway: SmsGatewayStub, phone: str) -> list[dict[str, Any]]:
    return [r for r in gateway.delivered() if r["to"] == phone]


@asynccontextmanager
async def deployment(settings: Settings) -> AsyncIterator[tuple[Worker, SmsGatewayStub, Settings, Redis, str]]:
    """A running worker with its own group and key prefix, and the providers."""
    group, prefix = unique("test-notification-"), unique("test:notification:")
    redis = Redis.from_url(settings.redis_url)
    try:
        async with providers() as (gateway, mail):
            config = notification_settings(settings, gateway, mail)
            async with running_worker(config, prefix, group) as parts:
                yield parts, gateway, config, redis, prefix
    finally:
        await forget_keys(redis, prefix)
        await redis.aclose()


@asynccontextmanager
async def stepped(settings: Settings) -> AsyncIterator[tuple[Worker, SmsGatewayStub, Redis, str]]:
    """A worker whose loops do not run: records are handed to it and each delivery step is taken by the test."""
    group, prefix = unique("test-notification-"), unique("test:notification:")
    redis = Redis.from_url(settings.redis_url)
    try:
        async with providers() as (gateway, mail):
            config = notification_settings(settings, gateway, mail)
            async with worker(config, group, prefix) as parts:
                yield parts, gateway, redis, prefix
    finally:
        await forget_keys(redis, prefix)
        await redis.aclose()


async def steps(parts: Worker, rounds: int = 5) -> None:
    """Take every delivery step due, `rounds` times."""
    for _ in range(rounds):
        for job_id in await parts.jobs.claim_due(dt.datetime.now(dt.UTC), 50, 60):
            await parts.delivery.step(job_id)


async def told_by_sms(config: Settings, redis: Redis, prefix: str, gateway: SmsGatewayStub,
                      **offer_fields: Any) -> tuple[str, str, dict[str, Any]]:
    """A person with an SMS contact told about a new direct offer: (person, phone, offer)."""
    person = unique("p")
    contact = contact_record(person, ["SMS"])
    await publish(config, [(CONTACTS.name, contact)])
    await wait_for_contacts(redis, prefix, [person])
    offer = offer_record(person, **offer_fields)
    await publish(config, [(OFFERS.name, offer)])

    async def told() -> bool:
        return len(texts_to(gateway, contact["phone"])) == 1
    await until(told, 30, "the first SMS")
    return person, str(contact["phone"]), offer


async def test_a_citizen_told_of_an_offer_is_told_the_revised_figure_once_with_its_own_key(settings):
    async with deployment(settings) as (_parts, gateway, config, redis, prefix):
        person, phone, offer = await told_by_sms(config, redis, prefix, gateway)
        again = revised(offer, 1, 234_500)
        await publish(config, [(OFFERS.name, again), (OFFERS.name, again), (OFFERS.name, offer)])

        async def told_again() -> bool:
            return len(texts_to(gateway, phone)) == 2
        await until(told_again, 30, "the revision SMS")
        await asyncio.sleep(1.5)  # a repeat, if any, would have reached the gateway by now
        first, notice = texts_to(gateway, phone)
        assert "1,234.50" in first["text"]
        assert "2,345.00" in notice["text"] and "1,234.50" in notice["text"] and "调整" in notice["text"]
        assert first["idempotency_key"] == notification_id(offer["offer_id"], "SMS")
        assert notice["idempotency_key"] == notification_id(delivery_id(offer["offer_id"], 1), "SMS")
        view = await RedisCitizenViews(redis, prefix).get(person, offer["offer_id"])
        assert view is not None and view.offer["amount_fen"] == 234_500 and view.offer["change"] == "REVISED"


async def test_revisions_out_of_order_tell_only_the_latest_figure(settings):
    async with deployment(settings) as (_parts, gateway, config, redis, prefix):
        person, phone, offer = await told_by_sms(config, redis, prefix, gateway)
        await publish(config, [(OFFERS.name, revised(offer, 2, 300_000)), (OFFERS.name, revised(offer, 1, 250_000))])

        async def told_again() -> bool:
            return len(texts_to(gateway, phone)) == 2
        await until(told_again, 30, "the revision SMS")
        await asyncio.sleep(1.5)
        assert len(texts_to(gateway, phone)) == 2 and "3,000.00" in texts_to(gateway, phone)[1]["text"]
        view = await RedisCitizenViews(redis, prefix).get(person, offer["offer_id"])
        assert view is not None and view.offer["amount_fen"] == 300_000


async def test_a_withdrawal_after_the_citizen_was_told_goes_to_the_inbox_and_the_offer_cannot_be_accepted(settings):
    async with deployment(settings) as (_parts, gateway, config, redis, prefix):
        person, phone, offer = await told_by_sms(config, redis, prefix, gateway)
        gone = revised(offer, 1, None, change="WITHDRAWN")
        await publish(config, [(OFFERS.name, gone), (OFFERS.name, revised(offer, 1, 200_000)),
                               (OFFERS.name, gone)])
        inbox = RedisInbox(redis, prefix)

        async def noticed() -> bool:
            return len(await inbox.items(person)) == 1
        await until(noticed, 30, "the withdrawal notice in the inbox")
        await asyncio.sleep(1.5)
        [item] = await inbox.items(person)
        assert item.notification_id == notification_id(delivery_id(offer["offer_id"], 1), "INBOX")
        assert "已撤回" in item.subject and "不再符合" in item.body
        assert len(texts_to(gateway, phone)) == 1  # no SMS for a withdrawal

        async with citizen(config, prefix) as site:
            app = build_citizen_app(site.desk, site.metrics, secure_cookies=False,
                                    applications=site.applications)
            async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                token = site.desk.signer.link_token(person, offer["offer_id"], dt.datetime.now(dt.UTC))
                assert (await client.get(f"/c/{token}?lang=en", allow_redirects=False)).status == 303
                page = await (await client.get(f"/offers/{offer['offer_id']}?lang=en")).text()
                assert "This offer was withdrawn" in page and "no longer meet the conditions" in page
                assert "90000 &lt; 80000" in page and 'id="accept"' not in page
                csrf = (await (await client.get("/api/v1/session")).json())["csrf_token"]
                answer = await client.post(f"/api/v1/offers/{offer['offer_id']}/answer",
                                           json={"answer": "ACCEPTED"}, headers={CSRF_HEADER: csrf})
                problem = await answer.json()
                assert answer.status == 409 and "withdrawn" in problem["title"], problem
                body = await (await client.get(f"/api/v1/offers/{offer['offer_id']}")).json()
                assert body["withdrawn"] and body["state"] == "OFFERED" and not body["open"]


async def test_a_verification_revised_before_its_approval_is_notified_once_with_the_new_figure(settings):
    async with deployment(settings) as (_parts, gateway, config, redis, prefix):
        person = unique("p")
        contact = contact_record(person, ["SMS"])
        await publish(config, [(CONTACTS.name, contact)])
        await wait_for_contacts(redis, prefix, [person])
        offer = offer_record(person, route="VERIFICATION")
        task = verification_task(offer)
        later = {**task, "offer": revised(offer, 1, 345_600), "change": "REVISED"}
        await publish(config, [(TASKS.name, task), (TASKS.name, later), (TASKS.name, task),
                               (DECISIONS.name, decision(offer, "APPROVED"))])

        async def told() -> bool:
            return len(texts_to(gateway, contact["phone"])) == 1
        await until(told, 30, "the approval SMS")
        await asyncio.sleep(1.5)
        [text] = texts_to(gateway, contact["phone"])
        assert "3,456.00" in text["text"] and "审核通过" in text["text"]


async def test_revised_or_withdrawn_before_anything_was_sent_sends_one_message_or_none(settings):
    async with stepped(settings) as (parts, gateway, redis, prefix):
        revised_person, withdrawn_person = unique("p"), unique("p")
        contacts = {p: contact_record(p, ["SMS"]) for p in (revised_person, withdrawn_person)}
        for record in contacts.values():
            await parts.records.contact(str(record["person_id"]), record)
        first, other = offer_record(revised_person), offer_record(withdrawn_person)
        for record in (first, revised(first, 1, 111_100), revised(first, 2, 222_200), revised(first, 1, 5),
                       other, revised(other, 1, None, change="WITHDRAWN")):
            await parts.records.offer(record)
        await steps(parts)
        [text] = texts_to(gateway, str(contacts[revised_person]["phone"]))
        assert "2,222.00" in text["text"] and "调整" not in text["text"]  # the offer, with the new figure
        assert text["idempotency_key"] == notification_id(delivery_id(first["offer_id"], 2), "SMS")
        assert texts_to(gateway, str(contacts[withdrawn_person]["phone"])) == []
        assert await RedisInbox(redis, prefix).items(withdrawn_person) == []
        view = await RedisCitizenViews(redis, prefix).get(withdrawn_person, other["offer_id"])
        assert view is not None and view.withdrawn
        assert await parts.jobs.pending() == 0


async def snapshot(redis: Redis, prefix: str, people: list[str], offers: list[dict[str, Any]]) -> dict[str, Any]:
    """What the citizens see and what each delivery of each offer recorded (times aside)."""
    views, inbox = RedisCitizenViews(redis, prefix), RedisInbox(redis, prefix)
    state: dict[str, Any] = {}
    for person in people:
        state[person] = ([(v.offer_id, v.offer.get("amount_fen"), v.offer.get("change"), v.state.value)
                          for v in await views.all(person)],
                         [(i.notification_id, i.subject) for i in await inbox.items(person)])
    for offer in offers:
        chain = await redis.hgetall(f"{prefix}:chain:{offer['offer_id']}")
        state[offer["offer_id"]] = {"chain": chain}
        for n in range(int(chain.get(b"number", 0)) + 1):
            job = await redis.hgetall(f"{prefix}:job:{delivery_id(offer['offer_id'], n)}")
            state[offer["offer_id"]][n] = {k: v for k, v in job.items()
                                           if k in (b"done", b"told", b"notice", b"number", b"offer_id", b"approved")}
    return state


async def test_rebuild_from_the_topics_gives_the_same_state_and_sends_nothing_again(settings):
    async with deployment(settings) as (parts, gateway, config, redis, prefix):
        a, phone_a, offer_a = await told_by_sms(config, redis, prefix, gateway)
        b, _phone_b, offer_b = await told_by_sms(config, redis, prefix, gateway)
        c = unique("p")
        await publish(config, [(CONTACTS.name, contact_record(c, ["INBOX"]))])
        await wait_for_contacts(redis, prefix, [c])
        offer_c = offer_record(c, route="VERIFICATION")
        task = verification_task(offer_c)
        await publish(config, [(OFFERS.name, revised(offer_a, 1, 234_500)),
                               (OFFERS.name, revised(offer_b, 1, None, change="WITHDRAWN")),
                               (TASKS.name, task), (TASKS.name, {**task, "offer": revised(offer_c, 1, 99_900)}),
                               (DECISIONS.name, decision(offer_c, "APPROVED"))])
        inbox = RedisInbox(redis, prefix)

        async def delivered() -> bool:
            return (len(texts_to(gateway, phone_a)) == 2 and len(await inbox.items(b)) == 1
                    and len(await inbox.items(c)) == 1 and await parts.jobs.pending() == 0)
        await until(delivered, 30, "every message")
        people, offers = [a, b, c], [offer_a, offer_b, offer_c]
        before = await snapshot(redis, prefix, people, offers)
        sent_before = list(gateway.requests)

        since = await parts.rebuilder.marker.since()
        assert since is not None
        report = await parts.rebuilder.rebuild(since)
        assert report.delivered == 5  # a's offer and revision, b's offer and withdrawal, c's approval
        await asyncio.sleep(2)  # a repeat, if any, would reach the gateway by now
        assert await snapshot(redis, prefix, people, offers) == before
        assert gateway.requests == sent_before
        assert before[offer_a["offer_id"]][1][b"notice"] == b"revised"
        assert before[offer_b["offer_id"]][1][b"notice"] == b"withdrawn"


async def test_a_revision_or_withdrawal_arriving_while_the_offer_is_being_sent_is_told_as_a_change(settings):
    async with stepped(settings) as (parts, gateway, redis, prefix):
        gateway.delay = 1.0  # the gateway takes the message, then answers a second later
        revised_person, withdrawn_person = unique("p"), unique("p")
        contacts = {p: contact_record(p, ["SMS"]) for p in (revised_person, withdrawn_person)}
        for record in contacts.values():
            await parts.records.contact(str(record["person_id"]), record)
        first, other = offer_record(revised_person), offer_record(withdrawn_person)
        for offer, change in ((first, revised(first, 1, 333_300)),
                              (other, revised(other, 1, None, change="WITHDRAWN"))):
            await parts.records.offer(offer)
            sending = asyncio.create_task(parts.delivery.step(offer["offer_id"]))
            await until(partial(_taken, gateway, offer), 10, "the gateway to take the message")
            await parts.records.offer(change)  # while the provider call is under way
            await sending
        await steps(parts, rounds=1)

        told, notice = texts_to(gateway, str(contacts[revised_person]["phone"]))
        assert "1,234.50" in told["text"]
        assert "3,333.00" in notice["text"] and "调整" in notice["text"]  # news of a change, not the offer
        assert notice["idempotency_key"] == notification_id(delivery_id(first["offer_id"], 1), "SMS")
        assert len(texts_to(gateway, str(contacts[withdrawn_person]["phone"]))) == 1
        [item] = await RedisInbox(redis, prefix).items(withdrawn_person)
        assert "已撤回" in item.subject
        assert await parts.jobs.pending() == 0


async def _taken(gateway: SmsGatewayStub, offer: dict[str, Any]) -> bool:
    return any(r["idempotency_key"] == notification_id(offer["offer_id"], "SMS") for r in gateway.requests)
