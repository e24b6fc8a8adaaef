"""Withdrawing consent against the real broker and Redis: the citizen page publishes the withdrawal on
assist.consents and erases the phone and e-mail from the contact store (sealed at rest, never in plain text); the
consent registry's record read again, and a rebuild from the topics, never bring them back; later messages go to
the inbox only; an unreadable withdrawal goes to assist.notification.dlq with its reason."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from services.core.codec import decode_record
from services.core.settings import Settings
from services.core.topics import CONSENTS, CONTACTS, NOTIFICATION_DLQ, OFFERS
from services.notification.adapters.citizen_http import CSRF_HEADER, build_citizen_app
from services.notification.adapters.rebuild import StoreMarker
from services.notification.adapters.redis_citizen import RedisInbox
from services.notification.domain.contact import Channel
from services.notification.wiring import citizen
from tests.integration.notification.notification_harness import (
    CONTRACT,
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
from tests.integration.notification.test_notification_recovery import until


async def test_a_withdrawn_consent_erases_the_details_and_no_rebuild_brings_them_back(settings: Settings,
                                                                                       probe) -> None:
    group, prefix = unique("test-notification-"), unique("test:notification:")
    person = unique("p-")
    redis = Redis.from_url(settings.redis_url)
    consents = await probe(CONSENTS.name)
    dead = await probe(NOTIFICATION_DLQ.name)
    contact = contact_record(person, ["SMS", "EMAIL", "INBOX"],
                             consented_at=dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=3))
    try:
        async with providers() as (gateway, mail):
            config = notification_settings(settings, gateway, mail)
            async with running_worker(config, prefix, group) as parts:
                await publish(config, [(CONTACTS.name, contact)])
                await wait_for_contacts(redis, prefix, [person])
                raw = await redis.get(f"{prefix}:contact:{person}")
                assert contact["phone"].encode() not in raw and contact["email"].encode() not in raw  # sealed
                book = parts.records._contacts  # the worker's own store, opening what it sealed
                assert (await book.get(person)).phone == contact["phone"]

                async with citizen(replace(config, link_signing_key="test-link-key"), prefix) as site:
                    app = build_citizen_app(site.desk, site.metrics, secure_cookies=False,
                                            applications=site.applications, consent=site.consent)
                    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                        offer = offer_record(person)
                        await site.views.add(person, offer)
                        link = site.desk.signer.link_token(person, offer["offer_id"], dt.datetime.now(dt.UTC))
                        assert (await client.get(f"/c/{link}", allow_redirects=False)).status == 303
                        page = await (await client.get("/consent?lang=en")).text()
                        assert 'id="withdraw-sms"' in page and "SMS: in use" in page
                        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
                        assert csrf is not None
                        refused = await client.post("/api/v1/consent", json={"withdraw": ["INBOX"]},
                                                    headers={CSRF_HEADER: csrf.group(1)})
                        assert refused.status == 400 and (await refused.json())["title"].startswith("withdraw:")
                        done = await client.post("/consent?lang=en", data={
                            "csrf_token": csrf.group(1), "withdraw": ["SMS", "EMAIL"]})
                        assert done.status == 200
                        text = await done.text()
                        assert "Your consent was withdrawn" in text and "consent withdrawn, details erased" in text

                [published] = await consents.collect(lambda r: r.key == person.encode(), 1)
                withdrawal = decode_record(CONTRACT, "consent", published.value)
                assert withdrawal["withdrawn"] == ["SMS", "EMAIL"]
                assert contact["phone"] not in published.value.decode("latin-1")
                erased = await book.get(person)
                assert (erased.phone, erased.email, erased.channels) == (None, None, ("INBOX",))

                await publish(config, [(CONTACTS.name, contact)])  # the registry's record, read again
                later = offer_record(person)
                await publish(config, [(OFFERS.name, later)])

                inbox = RedisInbox(redis, prefix)

                async def told_in_the_inbox() -> bool:
                    return any(i.offer_id == later["offer_id"] for i in await inbox.items(person))
                await until(told_in_the_inbox, 30, "the later offer in the inbox")
                again = await book.get(person)
                assert (again.phone, again.email) == (None, None)
                assert not [r for r in gateway.requests if r["to"] == contact["phone"]]
                assert not mail.to(contact["email"])

                bad = AIOKafkaProducer(bootstrap_servers=config.kafka_bootstrap)
                await bad.start()
                try:
                    await bad.send_and_wait(CONSENTS.name, b"\x00not a withdrawal", key=person.encode())
                finally:
                    await bad.stop()
                [parked] = await dead.collect(lambda r: r.key == person.encode(), 1)
                assert dict(parked.headers)["dlq_reason"].startswith(b"unreadable as consent")
                assert (await book.withdrawal(person)).channels == {Channel.SMS, Channel.EMAIL}  # nothing lost

                await forget_keys(redis, prefix)  # Redis lost notification's state: the worker rebuilds it

                async def rebuilt() -> bool:
                    return await StoreMarker(redis, prefix).since() is not None and \
                        await book.get(person) is not None
                await until(rebuilt, 60, "the contact after a rebuild")
                restored = await book.get(person)
                assert (restored.phone, restored.email, restored.channels) == (None, None, ("INBOX",))
                assert (await book.withdrawal(person)).channels == {Channel.SMS, Channel.EMAIL}
    finally:
        await forget_keys(redis, prefix)
        await redis.aclose()

