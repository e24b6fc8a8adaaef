"""Notification tells an offer made again after its withdrawal (matching publishes the same offer id, REVISED, one
revision above the withdrawal), against the real broker, Redis and providers: the citizen is told the offer again,
as the offer with its figure, once; the page shows it open again; another withdrawal or an older or equal number
after a withdrawal changes nothing; a verification offer made again is told when approved (again, or by the
approval that stands); an answer given before the withdrawal does not answer the offer made again; a rebuild from
the topics gives the same state."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from services.core.settings import Settings
from services.core.topics import CONTACTS, DECISIONS, OFFERS, TASKS
from services.notification.adapters.citizen_http import CSRF_HEADER, build_citizen_app
from services.notification.adapters.redis_citizen import RedisCitizenViews, RedisInbox
from services.notification.citizen import Answered
from services.notification.domain.answers import Answer, OfferState
from services.notification.domain.ids import notification_id
from services.notification.domain.revisions import delivery_id
from services.notification.wiring import Worker, citizen
from tests.integration.notification.notification_harness import (
    SmsGatewayStub,
    contact_record,
    decision,
    offer_record,
    publish,
    unique,
    verification_task,
    wait_for_contacts,
)
from tests.integration.notification.test_notification_recovery import until
from tests.integration.notification.test_notification_revisions import (
    deployment,
    revised,
    snapshot,
    stepped,
    steps,
    texts_to,
    told_by_sms,
)


def again(offer: dict[str, Any], number: int, amount: int) -> dict[str, Any]:
    """The withdrawn offer made again, as matching publishes it: REVISED, no previous figure, 'Offered again:'."""
    value = revised(offer, number, amount)
    value["created_at"] = dt.datetime.now(dt.UTC)
    value["revision"].update(previous_amount_fen=None, previous_summary="The offer was withdrawn.",
                             reason=f"Offered again: {value['explanation']['summary']}")
    return value


def withdrawal(offer: dict[str, Any], number: int) -> dict[str, Any]:
    return revised(offer, number, None, change="WITHDRAWN")


def task_of(task: dict[str, Any], offer: dict[str, Any]) -> dict[str, Any]:
    """The same verification task carrying a later publication of its offer."""
    return {**task, "offer": offer, "change": offer["change"]}


async def with_sms_contact(parts: Worker) -> tuple[str, str]:
    person = unique("p")
    record = contact_record(person, ["SMS"])
    await parts.records.contact(person, record)
    return person, str(record["phone"])


async def verification_for_sms(config: Settings, redis: Redis, prefix: str
                               ) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A person with an SMS contact and a verification offer's task: (person, contact, offer, task)."""
    person = unique("p")
    contact = contact_record(person, ["SMS"])
    await publish(config, [(CONTACTS.name, contact)])
    await wait_for_contacts(redis, prefix, [person])
    offer = offer_record(person, route="VERIFICATION")
    return person, contact, offer, verification_task(offer)


async def approved_and_told(config: Settings, redis: Redis, prefix: str, gateway: SmsGatewayStub
                            ) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A verification offer's task taken in, approved by a caseworker and told by SMS: (person, contact, offer,
    task)."""
    person, contact, offer, task = await verification_for_sms(config, redis, prefix)
    await publish(config, [(TASKS.name, task)])

    async def remembered() -> bool:
        return await redis.get(f"{prefix}:verify:{offer['offer_id']}") is not None
    await until(remembered, 30, "the task")
    await publish(config, [(DECISIONS.name, decision(offer, "APPROVED"))])

    async def told() -> bool:
        return len(texts_to(gateway, contact["phone"])) == 1
    await until(told, 30, "the approval SMS")
    return person, contact, offer, task


async def test_an_offer_told_withdrawn_and_made_again_is_told_again_as_the_offer_once_and_is_open(settings):
    async with deployment(settings) as (_parts, gateway, config, redis, prefix):
        person, phone, offer = await told_by_sms(config, redis, prefix, gateway)
        await publish(config, [(OFFERS.name, withdrawal(offer, 1))])
        inbox = RedisInbox(redis, prefix)

        async def noticed() -> bool:
            return len(await inbox.items(person)) == 1
        await until(noticed, 30, "the withdrawal notice in the inbox")
        made_again = again(offer, 2, 210_000)
        await publish(config, [(OFFERS.name, made_again), (OFFERS.name, made_again),
                               (OFFERS.name, withdrawal(offer, 1)), (OFFERS.name, revised(offer, 1, 5))])

        async def told_again() -> bool:
            return len(texts_to(gateway, phone)) == 2
        await until(told_again, 30, "the offer told again")
        await asyncio.sleep(1.5)  # a repeat, if any, would have reached the gateway by now
        first, told = texts_to(gateway, phone)
        assert "1,234.50" in first["text"]
        assert "2,100.00" in told["text"] and "调整" not in told["text"] and "撤回" not in told["text"]
        assert told["idempotency_key"] == notification_id(delivery_id(offer["offer_id"], 2), "SMS")
        assert len(await inbox.items(person)) == 1
        view = await RedisCitizenViews(redis, prefix).get(person, offer["offer_id"])
        assert view is not None and view.open and view.offer["amount_fen"] == 210_000

        async with citizen(config, prefix) as site:
            app = build_citizen_app(site.desk, site.metrics, secure_cookies=False, applications=site.applications)
            async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                token = site.desk.signer.link_token(person, offer["offer_id"], dt.datetime.now(dt.UTC))
                assert (await client.get(f"/c/{token}?lang=en", allow_redirects=False)).status == 303
                page = await (await client.get(f"/offers/{offer['offer_id']}?lang=en")).text()
                assert "offered to you again" in page and "¥2,100.00" in page and 'id="accept"' in page
                assert 'id="withdrawn"' not in page
                csrf = (await (await client.get("/api/v1/session")).json())["csrf_token"]
                answer = await client.post(f"/api/v1/offers/{offer['offer_id']}/answer",
                                           json={"answer": "ACCEPTED"}, headers={CSRF_HEADER: csrf})
                assert answer.status in (200, 201), await answer.text()
                body = await (await client.get(f"/api/v1/offers/{offer['offer_id']}")).json()
                assert not body["withdrawn"] and body["state"] == "ACCEPTED"


async def test_an_offer_withdrawn_before_its_message_went_and_made_again_is_delivered_once(settings):
    async with stepped(settings) as (parts, gateway, redis, prefix):
        person, phone = await with_sms_contact(parts)
        offer = offer_record(person)
        await parts.records.offer(offer)
        await parts.records.offer(withdrawal(offer, 1))
        await steps(parts)
        assert texts_to(gateway, phone) == []
        made_again = again(offer, 2, 222_200)
        await parts.records.offer(made_again)
        await steps(parts)
        await parts.records.offer(made_again)  # a replay sends nothing more
        await steps(parts)
        [told] = texts_to(gateway, phone)
        assert "2,222.00" in told["text"] and "调整" not in told["text"]
        assert told["idempotency_key"] == notification_id(delivery_id(offer["offer_id"], 2), "SMS")
        assert await RedisInbox(redis, prefix).items(person) == []
        view = await RedisCitizenViews(redis, prefix).get(person, offer["offer_id"])
        assert view is not None and view.open and view.offer["amount_fen"] == 222_200
        assert await parts.jobs.pending() == 0


async def test_the_offer_made_again_waits_out_quiet_hours_and_a_withdrawal_meanwhile_cancels_it_unsaid(settings):
    async with stepped(settings) as (parts, gateway, redis, prefix):
        person, phone = await with_sms_contact(parts)
        offer = offer_record(person)
        await parts.records.offer(offer)
        await steps(parts)
        local = dt.datetime.now(ZoneInfo("Asia/Shanghai"))
        quiet = contact_record(person, ["SMS"], phone=phone, quiet_from=f"{(local - dt.timedelta(hours=1)):%H:%M}",
                               quiet_until=f"{(local + dt.timedelta(hours=1)):%H:%M}")
        await parts.records.contact(person, quiet)
        await parts.records.offer(withdrawal(offer, 1))
        await steps(parts)
        await parts.records.offer(again(offer, 2, 240_000))
        await steps(parts)
        assert len(texts_to(gateway, phone)) == 1  # the first offer only: the offer made again waits
        job = await parts.jobs.load(delivery_id(offer["offer_id"], 2))
        assert job is not None and not job.done and job.ready_at > dt.datetime.now(dt.UTC)
        assert len(await RedisInbox(redis, prefix).items(person)) == 1  # the withdrawal notice did not wait
        await parts.records.offer(withdrawal(offer, 3))  # withdrawn again before the offer made again was told
        await steps(parts)
        assert len(texts_to(gateway, phone)) == 1 and len(await RedisInbox(redis, prefix).items(person)) == 1
        assert await parts.jobs.pending() == 0
        view = await RedisCitizenViews(redis, prefix).get(person, offer["offer_id"])
        assert view is not None and view.withdrawn


async def test_after_a_withdrawal_another_withdrawal_an_older_or_equal_number_or_new_changes_nothing(settings):
    async with stepped(settings) as (parts, gateway, redis, prefix):
        person, phone = await with_sms_contact(parts)
        offer = offer_record(person)
        await parts.records.offer(offer)
        await steps(parts)
        for record in (withdrawal(offer, 2), withdrawal(offer, 3), again(offer, 2, 5), revised(offer, 1, 7),
                       offer):
            await parts.records.offer(record)
        await steps(parts)
        assert len(texts_to(gateway, phone)) == 1
        assert len(await RedisInbox(redis, prefix).items(person)) == 1  # the first withdrawal's notice only
        view = await RedisCitizenViews(redis, prefix).get(person, offer["offer_id"])
        assert view is not None and view.withdrawn and view.offer["revision"]["number"] == 2
        assert await parts.jobs.pending() == 0


async def test_a_verification_offer_withdrawn_before_its_approval_is_told_with_the_figure_made_again(settings):
    async with deployment(settings) as (_parts, gateway, config, redis, prefix):
        person, contact, offer, task = await verification_for_sms(config, redis, prefix)
        await publish(config, [(TASKS.name, task), (TASKS.name, task_of(task, withdrawal(offer, 1))),
                               (TASKS.name, task_of(task, again(offer, 2, 456_700)))])

        async def remembered() -> bool:
            return await redis.get(f"{prefix}:verify-number:{offer['offer_id']}") == b"2"
        await until(remembered, 30, "the task of the offer made again")
        await publish(config, [(DECISIONS.name, decision(offer, "APPROVED"))])

        async def told() -> bool:
            return len(texts_to(gateway, contact["phone"])) == 1
        await until(told, 30, "the approval SMS")
        await asyncio.sleep(1.5)
        [text] = texts_to(gateway, contact["phone"])
        assert "4,567.00" in text["text"] and "审核通过" in text["text"]
        assert text["idempotency_key"] == notification_id(offer["offer_id"], "SMS")
        view = await RedisCitizenViews(redis, prefix).get(person, offer["offer_id"])
        assert view is not None and view.open and view.offer["amount_fen"] == 456_700


async def test_a_verification_offer_approved_and_told_before_its_withdrawal_is_told_again_when_made_again(
        settings):
    async with deployment(settings) as (_parts, gateway, config, redis, prefix):
        person, contact, offer, task = await approved_and_told(config, redis, prefix, gateway)
        await publish(config, [(TASKS.name, task_of(task, withdrawal(offer, 1)))])
        inbox = RedisInbox(redis, prefix)

        async def noticed() -> bool:
            return len(await inbox.items(person)) == 1
        await until(noticed, 30, "the withdrawal notice")
        made_again = task_of(task, again(offer, 2, 345_600))
        await publish(config, [(TASKS.name, made_again), (TASKS.name, made_again)])

        async def told_again() -> bool:
            return len(texts_to(gateway, contact["phone"])) == 2
        await until(told_again, 30, "the offer told again")
        await asyncio.sleep(1.5)
        told_first, told_after = texts_to(gateway, contact["phone"])
        assert "1,234.50" in told_first["text"]
        assert "3,456.00" in told_after["text"] and "审核通过" in told_after["text"]
        assert "调整" not in told_after["text"]
        assert told_after["idempotency_key"] == notification_id(delivery_id(offer["offer_id"], 2), "SMS")
        view = await RedisCitizenViews(redis, prefix).get(person, offer["offer_id"])
        assert view is not None and view.open and view.offer["amount_fen"] == 345_600


async def test_an_approval_read_before_the_task_that_makes_the_offer_again_tells_only_the_offer_made_again(settings):
    async with stepped(settings) as (parts, gateway, redis, prefix):
        person, phone = await with_sms_contact(parts)
        offer = offer_record(person, route="VERIFICATION")
        task = verification_task(offer)
        await parts.records.task(task)
        await parts.records.task(task_of(task, withdrawal(offer, 1)))
        await parts.records.decision(decision(offer, "APPROVED"))  # read before the task of the offer made again
        await steps(parts)
        assert texts_to(gateway, phone) == []  # nothing about a withdrawn offer
        await parts.records.task(task_of(task, again(offer, 2, 333_300)))
        await steps(parts)
        [text] = texts_to(gateway, phone)
        assert "3,333.00" in text["text"] and "审核通过" in text["text"]
        view = await RedisCitizenViews(redis, prefix).get(person, offer["offer_id"])
        assert view is not None and view.open and view.offer["amount_fen"] == 333_300


async def test_an_answer_before_the_withdrawal_does_not_answer_the_offer_made_again_and_a_rebuild_agrees(settings):
    async with deployment(settings) as (parts, gateway, config, redis, prefix):
        person, phone, offer = await told_by_sms(config, redis, prefix, gateway)
        views = RedisCitizenViews(redis, prefix)
        async with citizen(config, prefix) as site:
            declined = await site.desk.answer(person, offer["offer_id"], Answer.DECLINED)
            assert declined.outcome is Answered.RECORDED
            await publish(config, [(OFFERS.name, withdrawal(offer, 1))])

            async def gone() -> bool:
                view = await views.get(person, offer["offer_id"])
                return view is not None and view.withdrawn
            await until(gone, 30, "the withdrawal on the page")
            refused = await site.desk.answer(person, offer["offer_id"], Answer.ACCEPTED)
            assert refused.outcome is Answered.WITHDRAWN
            await asyncio.sleep(0.05)  # the offer is made again after the answer, as in life
            await publish(config, [(OFFERS.name, again(offer, 2, 260_000))])

            async def told_again() -> bool:
                return len(texts_to(gateway, phone)) == 2
            await until(told_again, 30, "the offer told again")
            view = await views.get(person, offer["offer_id"])
            assert view is not None and view.state is OfferState.OFFERED and view.open
            accepted = await site.desk.answer(person, offer["offer_id"], Answer.ACCEPTED)
            assert accepted.outcome is Answered.RECORDED

            async def applied() -> bool:  # the worker read both answers back from assist.decisions
                return await parts.jobs.pending() == 0 and len(await RedisInbox(redis, prefix).items(person)) == 1
            await until(applied, 30, "every delivery")
            await asyncio.sleep(1.5)
        before = await snapshot(redis, prefix, [person], [offer])
        assert before[person][0] == [(offer["offer_id"], 260_000, "REVISED", "ACCEPTED")]
        sent_before = list(gateway.requests)
        since = await parts.rebuilder.marker.since()
        assert since is not None
        report = await parts.rebuilder.rebuild(since)
        assert report.delivered == 3  # the offer, the withdrawal notice, the offer made again
        await asyncio.sleep(2)
        assert await snapshot(redis, prefix, [person], [offer]) == before
        assert gateway.requests == sent_before


async def test_a_rebuild_of_verification_offers_made_again_sends_nothing_again_and_shows_them_open(settings):
    async with deployment(settings) as (parts, gateway, config, redis, prefix):
        told_first, contact_a, offer_a, task_a = await verification_for_sms(config, redis, prefix)
        approved_later, contact_b, offer_b, task_b = await verification_for_sms(config, redis, prefix)
        await publish(config, [(TASKS.name, task_a), (TASKS.name, task_b),
                               (TASKS.name, task_of(task_b, withdrawal(offer_b, 1))),
                               (TASKS.name, task_of(task_b, again(offer_b, 2, 456_700)))])

        async def remembered() -> bool:
            return (await redis.get(f"{prefix}:verify-number:{offer_b['offer_id']}") == b"2"
                    and await redis.get(f"{prefix}:verify:{offer_a['offer_id']}") is not None)
        await until(remembered, 30, "the tasks")
        await publish(config, [(DECISIONS.name, decision(offer_a, "APPROVED")),
                               (DECISIONS.name, decision(offer_b, "APPROVED"))])

        async def texts(count: int) -> bool:
            return len(texts_to(gateway, contact_a["phone"])) == count
        await until(lambda: texts(1), 30, "the first approval SMS")
        await publish(config, [(TASKS.name, task_of(task_a, withdrawal(offer_a, 1)))])

        async def noticed() -> bool:
            return len(await RedisInbox(redis, prefix).items(told_first)) == 1
        await until(noticed, 30, "the withdrawal notice")
        await publish(config, [(TASKS.name, task_of(task_a, again(offer_a, 2, 345_600)))])

        async def delivered() -> bool:
            return (await texts(2) and len(texts_to(gateway, contact_b["phone"])) == 1
                    and await parts.jobs.pending() == 0)
        await until(delivered, 30, "every message")
        sent_before = list(gateway.requests)
        since = await parts.rebuilder.marker.since()
        assert since is not None
        await parts.rebuilder.rebuild(since)
        await asyncio.sleep(2)  # a repeat, if any, would reach the gateway by now
        assert gateway.requests == sent_before
        views = RedisCitizenViews(redis, prefix)
        for person, offer, amount in ((told_first, offer_a, 345_600), (approved_later, offer_b, 456_700)):
            view = await views.get(person, offer["offer_id"])
            assert view is not None and view.open and view.offer["amount_fen"] == amount


async def test_a_verification_task_whose_deadline_moved_after_its_approval_tells_the_citizen_nothing_more(settings):
    async with deployment(settings) as (_parts, gateway, config, redis, prefix):
        _person, contact, offer, task = await approved_and_told(config, redis, prefix, gateway)
        moved = revised(offer, 1, offer["amount_fen"])
        moved["revision"]["reason"] = "Due date moved: the household qualified with the reports of 2026-11-05."
        changed = revised(offer, 2, 345_600)
        await publish(config, [(TASKS.name, task_of(task, moved)), (TASKS.name, task_of(task, changed))])

        async def told_the_new_figure() -> bool:
            return len(texts_to(gateway, contact["phone"])) >= 2
        await until(told_the_new_figure, 30, "the revised figure")
        await asyncio.sleep(1.5)  # a notice of the moved deadline, if any, would have reached the gateway by now
        texts = texts_to(gateway, contact["phone"])
        assert len(texts) == 2 and "3,456.00" in texts[1]["text"]
