"""Iron feet and the citizen's right to know, in a real browser against the real broker and Redis: the civil
registry's identity records reach the vault through assist.identities; a caseworker claims the family's task,
chooses "visit" and sees their address; the disclosure goes through assist.disclosures to the notification worker,
and the family's "who used my data and why" page shows it (role, district, purpose), never who it was."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from aiohttp.test_utils import TestServer
from aiokafka import AIOKafkaProducer
from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from services.core.codec import encode_record, load_contract
from services.core.settings import load_settings
from services.core.topics import IDENTITIES
from services.notification.adapters.citizen_http import build_citizen_app
from services.notification.adapters.redis_data_use import RedisDataUse
from services.notification.domain.link import Signer
from services.notification.wiring import citizen
from services.vault.adapters.identity_feed import IdentityFeed, identities_consumer, vault_dead_letters
from services.vault.service import Vault
from services.vault.wiring import vault_parts
from tests.browser.screenshots import screenshot_path
from tests.browser.test_console import log_in
from tests.integration.casework.test_casework import ALICE, open_desk, task_record
from tests.integration.notification.notification_harness import forget_keys, offer_record, running_worker, unique
from tests.integration.notification.test_notification_recovery import until

CONTRACT = load_contract()
KEY = "browser-data-use-link-key"
ADDRESS = "冕宁县城厢镇建设路 12 号"


@asynccontextmanager
async def registry_in_the_vault(members: dict[str, str], household: str) -> AsyncIterator[Vault]:
    """The vault of this test (its own key prefix), fed the registry's PersonIdentity records of `members`
    (person id → name) through assist.identities by the vault's own feed."""
    settings = load_settings()
    run = uuid.uuid4().hex[:8]
    prefix = f"test:vault:{run}"
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for person, name in members.items():
            record = {"person_id": person, "household_id": household, "name": name, "address": ADDRESS,
                      "phone": "13812345678" if person.endswith("-1") else None, "updated_at": dt.datetime.now(dt.UTC)}
            await producer.send_and_wait(IDENTITIES.name, encode_record(CONTRACT, "person_identity", record),
                                         key=person.encode())
    finally:
        await producer.stop()
    async with vault_parts(settings, prefix) as parts:
        consumer = identities_consumer(settings.kafka_bootstrap, group=f"test-vault-{run}")
        await consumer.start()
        stop = asyncio.Event()
        feed = asyncio.create_task(IdentityFeed(consumer, parts.vault, parts.contract,
                                                vault_dead_letters(parts.producer)).run(stop))
        try:
            async def stored() -> bool:
                return await parts.store.members(household) == sorted(members)
            await until(stored, 60, "the family's identities in the vault")
            yield parts.vault
        finally:
            stop.set()
            await feed
            await consumer.stop()
            raw = Redis.from_url(settings.redis_url)
            for key in await raw.keys(f"{prefix}:*"):
                await raw.delete(key)
            await raw.aclose()


async def test_a_caseworker_visits_the_family_and_the_familys_data_use_log_shows_it(
        chromium: Browser, tmp_path: Path) -> None:
    settings = replace(load_settings(), link_signing_key=KEY)
    task = task_record("110105", kind="VISIT")
    father, daughter = f"{task['person_id']}-1", f"{task['person_id']}-2"
    task["person_id"] = father
    offer = offer_record(father, "subsistence_allowance", household_id=task["household_id"], district="110105")
    group, prefix = unique("test-notification-"), unique("test:notification:")
    async with registry_in_the_vault({father: "杨建国", daughter: "杨小梅"}, task["household_id"]) as vault, \
            open_desk(tmp_path, vault=vault) as desk, running_worker(settings, prefix, group), \
            citizen(settings, prefix) as site:
        server = TestServer(build_citizen_app(site.desk, site.metrics, secure_cookies=False,
                                              applications=site.applications, data_use=site.data_use),
                            host="127.0.0.1")
        await server.start_server()
        try:
            await site.views.add(father, offer)
            await desk.publish(task)
            await desk.queued(ALICE, {task["task_id"]})

            console = await (await chromium.new_context(locale="en-US")).new_page()
            await log_in(console, desk, "alice", "en")
            await console.goto(str(desk.client.make_url(f"/console/tasks/{task['task_id']}?lang=en")))
            await expect(console.locator("#disclose-form")).to_have_count(0)
            await console.get_by_role("button", name="Claim", exact=True).click()
            await expect(console.get_by_role("status")).to_have_text("You claimed the task")
            await console.get_by_label("Visit").check()
            await console.get_by_role("button", name="Show the details").click()
            persons = console.locator("#persons")
            await expect(persons.locator(f"tr[data-person-id='{father}'] td.address")).to_have_text(ADDRESS)
            await expect(persons.locator(f"tr[data-person-id='{father}'] td.name")).to_have_text("杨建国")
            await expect(persons.locator(f"tr[data-person-id='{daughter}'] td.phone")).to_have_text("—")
            await expect(console.locator("#disclosed")).to_contain_text("This disclosure is recorded · Visit")
            await console.screenshot(path=str(screenshot_path(tmp_path, "console-visit-details.png")), full_page=True)

            async def logged() -> bool:
                return bool(await RedisDataUse(site.redis, prefix).contact_uses(father))
            await until(logged, 30, "the disclosure in the family's data-use log")

            base = str(server.make_url("")).rstrip("/")
            family = await (await chromium.new_context(locale="zh-CN")).new_page()
            await family.goto(f"{base}/c/{Signer(KEY).link_token(father, offer['offer_id'], dt.datetime.now(dt.UTC))}")
            await family.get_by_role("link", name="谁使用了我的信息，为什么").click()
            await family.wait_for_url("**/data-use*")
            row = family.locator("tr.contact-use")
            await expect(row).to_have_count(1)
            await expect(row.locator("td.role")).to_have_text("一名个案工作人员")
            await expect(row.locator("td.district")).to_have_text("110105")
            await expect(row.locator("td.purpose")).to_have_text("入户走访")
            await expect(row.locator("td.fields")).to_have_text("姓名、住址、电话")
            await expect(family.locator(f"li[data-event-id='{offer['trigger_event_id']}']")).to_have_count(1)
            assert "alice" not in await family.content()
            await family.screenshot(path=str(screenshot_path(tmp_path, "data-use-zh.png")), full_page=True)
            await family.goto(f"{base}/data-use?lang=en")
            await expect(family.locator("tr.contact-use td.role")).to_have_text("a caseworker")
            await expect(family.locator("tr.contact-use td.purpose")).to_have_text("to visit you")
            await family.screenshot(path=str(screenshot_path(tmp_path, "data-use-en.png")), full_page=True)
        finally:
            await server.close()
            await forget_keys(site.redis, prefix)
