"""Notification recovers from a wiped Redis: the worker notices its state is gone, pauses, rebuilds contacts,
offers, jobs and inboxes from the topics, and resumes, without sending any (offer, channel) twice."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from services.core.settings import PROJECT_ROOT, Settings
from services.core.topics import CONTACTS, OFFERS
from services.notification.adapters.citizen_http import build_citizen_app
from services.notification.adapters.rebuild import StoreMarker
from services.notification.adapters.redis_citizen import RedisCitizenViews, RedisInbox
from services.notification.wiring import citizen
from tests.integration.notification.notification_harness import (
    MailServer,
    SmsGatewayStub,
    contact_record,
    forget_keys,
    notification_settings,
    offer_record,
    providers,
    publish,
    running_worker,
    unique,
    wait_for_contacts,
)

PER_CHANNEL = 20


def sms_sends(gateway: SmsGatewayStub) -> Counter[str]:
    """Requests per notification that the gateway took (a repeat counts, even one it drops as a duplicate)."""
    return Counter(r["idempotency_key"] for r in gateway.requests if not r["outcome"].startswith("failed"))


def mail_sends(mail: MailServer) -> Counter[str]:
    return Counter(str(m["To"]) for m in mail.messages)


async def until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> float:
    """Poll `check` (an async predicate) until it holds; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} not within {seconds} s")


async def test_wiped_redis_brings_back_every_inbox_item_and_offer_and_sends_nothing_twice(settings: Settings) -> None:
    group, prefix = unique("test-notification-"), unique("test:notification:")
    redis = Redis.from_url(settings.redis_url)
    by_inbox, by_sms, by_mail = ([unique("p") for _ in range(PER_CHANNEL)] for _ in range(3))
    contacts = ([contact_record(p, ["INBOX"]) for p in by_inbox] + [contact_record(p, ["SMS"]) for p in by_sms]
                + [contact_record(p, ["EMAIL"]) for p in by_mail])
    people = by_inbox + by_sms + by_mail
    offers = {p: offer_record(p) for p in people}
    inbox, views = RedisInbox(redis, prefix), RedisCitizenViews(redis, prefix)

    async def inbox_items() -> int:
        return sum([len(await inbox.items(p)) for p in by_inbox])

    async def citizen_offers() -> int:
        return sum([len(await views.all(p)) for p in people])

    async def everything_back() -> bool:
        return await inbox_items() == PER_CHANNEL and await citizen_offers() == len(people)

    try:
        async with providers() as (gateway, mail):
            config = notification_settings(settings, gateway, mail)
            async with running_worker(config, prefix, group) as parts:
                await publish(config, [(CONTACTS.name, c) for c in contacts])
                await wait_for_contacts(redis, prefix, people)
                await publish(config, [(OFFERS.name, o) for o in offers.values()])

                async def all_delivered() -> bool:
                    return (await inbox_items() == PER_CHANNEL and len(sms_sends(gateway)) == PER_CHANNEL
                            and len(mail_sends(mail)) == PER_CHANNEL)
                await until(all_delivered, 60, "first delivery")
                assert await citizen_offers() == len(people)
                sms_before, mail_before = sms_sends(gateway), mail_sends(mail)

                await redis.flushall()
                rebuilt = await until(everything_back, 60, "inboxes and offers after the wipe")

                async def nothing_pending() -> bool:
                    return await parts.jobs.pending() == 0
                await until(nothing_pending, 10, "no delivery left to do")
                await asyncio.sleep(2)  # a repeat, if any, would reach the providers by now
                assert parts.recovery.reports, "the worker did not rebuild"
                report = parts.recovery.reports[-1]
                assert report.delivered == len(people) and report.inbox_items == PER_CHANNEL
                assert sms_sends(gateway) == sms_before and set(sms_before.values()) == {1}
                assert mail_sends(mail) == mail_before and set(mail_before.values()) == {1}
                assert await inbox_items() == PER_CHANNEL and await citizen_offers() == len(people)
                print(f"\n{len(people)} offers, {PER_CHANNEL} inbox items back in {rebuilt:.1f} s "
                      f"(rebuild {report.seconds:.2f} s); SMS sends {sum(sms_before.values())} before, "
                      f"{sum(sms_sends(gateway).values())} after; e-mails {sum(mail_before.values())} before, "
                      f"{sum(mail_sends(mail).values())} after")

                # Consuming resumed: a new offer is delivered.
                late = offer_record(by_inbox[0])
                await publish(config, [(OFFERS.name, late)])

                async def late_delivered() -> bool:
                    return len(await inbox.items(by_inbox[0])) == 2
                await until(late_delivered, 30, "a new offer after the rebuild")
    finally:
        await forget_keys(redis, prefix)
        await redis.aclose()


async def test_citizen_api_answers_503_with_retry_after_while_the_state_is_rebuilt(settings: Settings) -> None:
    prefix = unique("test:notification:")
    person = unique("p")
    offer = offer_record(person)
    async with citizen(replace(settings, link_signing_key="test-link-key"), prefix) as parts:
        await parts.views.add(person, offer)
        app = build_citizen_app(parts.desk, parts.metrics, secure_cookies=False,
                                applications=parts.applications)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            try:
                link = parts.desk.signer.link_token(person, offer["offer_id"], offer["created_at"])
                assert (await client.get(f"/c/{link}", allow_redirects=False)).status == 303
                assert (await client.get("/api/v1/offers")).status == 200
                await parts.redis.set(StoreMarker(parts.redis, prefix).rebuilding, "a rebuild", ex=60)
                for path in ("/api/v1/offers", "/api/v1/inbox", f"/api/v1/offers/{offer['offer_id']}"):
                    during = await client.get(path)
                    assert during.status == 503, path
                    assert int(during.headers["Retry-After"]) > 0
                await parts.redis.delete(StoreMarker(parts.redis, prefix).rebuilding)
                after = await client.get("/api/v1/offers")
                assert after.status == 200 and len((await after.json())["offers"]) == 1
            finally:
                await forget_keys(parts.redis, prefix)


async def test_rebuild_command_pauses_the_running_worker_and_changes_nothing(settings: Settings) -> None:
    group, prefix = unique("test-notification-"), unique("test:notification:")
    redis = Redis.from_url(settings.redis_url)
    people = [unique("p") for _ in range(5)]
    inbox = RedisInbox(redis, prefix)
    try:
        async with providers() as (gateway, mail):
            config = notification_settings(settings, gateway, mail)
            async with running_worker(config, prefix, group):
                await publish(config, [(CONTACTS.name, contact_record(p, ["INBOX", "SMS"])) for p in people])
                await wait_for_contacts(redis, prefix, people)
                await publish(config, [(OFFERS.name, offer_record(p)) for p in people])

                async def delivered() -> bool:
                    return sum([len(await inbox.items(p)) for p in people]) == len(people)
                await until(delivered, 60, "delivery")
                before = {p: [i.notification_id for i in await inbox.items(p)] for p in people}
                since = await StoreMarker(redis, prefix).since()
                env = {**os.environ, "ASSIST_SMS_GATEWAY_URL": gateway.url, "ASSIST_SMTP_PORT": str(mail.port)}
                done = await asyncio.to_thread(lambda: subprocess.run(
                    [sys.executable, "-m", "services.notification", "rebuild", "--key-prefix", prefix, "--settle",
                     "1.5"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120))
                assert done.returncode == 0, done.stderr[-2000:]
                assert f"{len(people)} deliveries already made" in done.stdout
                assert await StoreMarker(redis, prefix).since() == since
                await asyncio.sleep(2)
                after = {p: [i.notification_id for i in await inbox.items(p)] for p in people}
                assert after == before
                assert len(sms_sends(gateway)) == 0  # INBOX came first for everyone
    finally:
        await forget_keys(redis, prefix)
        await redis.aclose()
